//! drbook's integration tests, compiled into one binary (as `just` does): each module
//! covers one feature and runs the real `drbook` executable or the library API.

mod backup_roundtrip;
mod checkpoint_answers;
mod cli;
mod demo;
mod doc_examples;
mod error_messages;
mod etcd_actions;
mod exit_codes;
mod fuzz;
mod guidance;
mod interactive;
mod kube_actions;
mod minio_lost_drill;
mod orphans;
mod paper;
mod pki_actions;
mod rclone_actions;
mod report;
mod restic_actions;
mod resume;
mod run_engine;
mod runbook_lint;
mod runbook_review;
mod runs_output;
mod s3_actions;
mod secret_messages;
mod shipped_runbooks;
mod strict_values;
mod support;
mod terminal_view;
mod validate_kinds;
mod velero_actions;
