//! The command line, as clap definitions only; `run.rs` acts on them.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "drbook",
    version,
    about = "Disaster-recovery runbooks for Kubernetes platforms: validate, plan, print and run them",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runbooks for every mistake that can be found before running them
    #[command(
        after_help = "Examples:\n  drbook validate runbooks/kubeone/etcd-quorum-loss.yaml\n  drbook validate runbooks/\n\nExit status 0 when every file is valid, 2 when any is not."
    )]
    Validate {
        /// Runbook files, or directories whose *.yaml files are all checked
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
    },

    /// Show what a run would do, step by step, without executing anything
    #[command(
        after_help = "Example:\n  drbook plan runbooks/kubeone/control-plane-node-repair.yaml -i node=cp-2"
    )]
    Plan {
        /// The runbook
        file: PathBuf,
        /// Set an input: `-i name=value` (lists as `a,b,c` or JSON)
        #[arg(short = 'i', long = "input", value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// Include the drill's inject steps, as `drbook drill` would run them
        #[arg(long)]
        drill: bool,
    },

    /// Print the runbook as a document to follow by hand if drbook is unavailable
    #[command(
        after_help = "Example:\n  drbook render runbooks/kubeone/control-plane-node-repair.yaml --format html > repair.html"
    )]
    Render {
        /// The runbook
        file: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = RenderFormat::Md)]
        format: RenderFormat,
    },

    /// Print the JSON Schema of the runbook format, for editors
    #[command(after_help = "Example:\n  drbook schema > docs/runbook.schema.json")]
    Schema,

    /// Print a shell completion script
    #[command(after_help = "Example:\n  drbook completions bash > /etc/bash_completion.d/drbook")]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Md,
    Html,
}
