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
        after_help = "Examples:\n  drbook validate runbooks/kubeone/etcd-quorum-loss.yaml\n  drbook validate runbooks/\n  drbook validate --targets examples/drbook.targets.yaml runbooks/kkp/minio-lost.yaml\n\nExit status 0 when every file is valid, 2 when any is not."
    )]
    Validate {
        /// Runbook files, or directories whose *.yaml files are all checked
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
        /// Targets file to check the runbooks' `target.*` values against (default:
        /// drbook.targets.yaml beside each runbook, else in the current directory)
        #[arg(long, value_name = "FILE")]
        targets: Option<PathBuf>,
    },

    /// Show what a run would do, step by step, without executing anything
    #[command(
        after_help = "Examples:\n  drbook plan runbooks/kubeone/control-plane-node-repair.yaml -i node=cp-2\n  drbook plan runbooks/kkp/minio-lost.yaml --drill --target staging --targets examples/drbook.targets.yaml"
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
        /// Bind the environment a run would use, to show its values (with `--drill`, also
        /// check that it allows drills)
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// Targets file (default: drbook.targets.yaml beside the runbook, else in the
        /// current directory)
        #[arg(long, value_name = "FILE")]
        targets: Option<PathBuf>,
    },

    /// Print the runbook as a document to follow by hand if drbook is unavailable
    #[command(
        after_help = "Examples:\n  drbook render runbooks/kubeone/control-plane-node-repair.yaml --format html > repair.html\n  drbook render runbooks/kkp/minio-lost.yaml --target staging --targets examples/drbook.targets.yaml"
    )]
    Render {
        /// The runbook
        file: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = RenderFormat::Md)]
        format: RenderFormat,
        /// Fill the target's values (`target.*`) into the by-hand commands; secrets are
        /// never filled in
        #[arg(long, value_name = "NAME")]
        target: Option<String>,
        /// Targets file (default: drbook.targets.yaml beside the runbook, else in the
        /// current directory)
        #[arg(long, value_name = "FILE")]
        targets: Option<PathBuf>,
    },

    /// Run a runbook during an incident (checkpoints answered by a person)
    #[command(
        after_help = "Example:\n  drbook run runbooks/kubeone/etcd-quorum-loss.yaml --target prod-master --targets examples/drbook.targets.yaml -i leader_node=cp-0.prod.example\n\nExit status: 0 succeeded, 1 failed, 3 paused (resume it), 4 refused before anything ran, 5 stopped by the operator (a confirm answered no; resume it to be asked again)."
    )]
    Run(RunArgs),

    /// Run a drill: inject the failure, recover, verify (only on targets that allow drills)
    #[command(
        after_help = "Examples:\n  drbook drill examples/first-runbook/runbook.yaml --target laptop --answers examples/first-runbook/drill-answers.yaml\n  drbook drill runbooks/kkp/minio-lost.yaml --target staging --targets examples/drbook.targets.yaml --answers drill-answers.yaml\n\nExit status: 0 succeeded, 1 failed, 3 paused (resume it), 4 refused before anything ran, 5 stopped by the operator (a confirm answered no; resume it to be asked again)."
    )]
    Drill(RunArgs),

    /// Continue an interrupted or paused run under the same run id
    #[command(after_help = "Example:\n  drbook resume 20261124T031200Z-4f2a9c")]
    Resume {
        /// The run id printed when the run started (see `drbook runs list`)
        run_id: String,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Continue even though the runbook file changed since the run started (recorded)
        #[arg(long)]
        accept_changed_runbook: bool,
        /// Targets file, if the run's target must be read from another file than before
        #[arg(long, value_name = "FILE")]
        targets: Option<PathBuf>,
        /// Who is operating (default: $DRBOOK_OPERATOR, else the login name)
        #[arg(long)]
        operator: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
        #[command(flatten)]
        sign: SignArgs,
        #[command(flatten)]
        store: StoreArgs,
    },

    /// Upload run records to a record store (docs/store.md)
    #[command(
        after_help = "Example:\n  drbook store push 20261124T031200Z-4f2a9c --store s3://dr-records/team-a"
    )]
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },

    /// Verify the run records of state directories and stores; show the drill history
    #[command(
        after_help = "Examples:\n  drbook audit s3://dr-records/team-a --runbooks runbooks/kubeone --max-age 365d\n  drbook audit /srv/drbook-store --format prometheus --out /var/lib/node_exporter/drbook.prom\n\nExit status 0 when every record verifies, 6 when any record is broken or truncated. docs/audit.md explains each finding."
    )]
    Audit(AuditArgs),

    /// List runs in the state directory, or show one
    #[command(
        after_help = "Examples:\n  drbook runs list\n  drbook runs show 20261124T031200Z-4f2a9c\n  drbook runs list --output json"
    )]
    Runs {
        #[command(subcommand)]
        command: Option<RunsCommand>,
        #[arg(long, value_name = "DIR", global = true)]
        state_dir: Option<PathBuf>,
    },

    /// Write a run's report (HTML, Markdown, JSON or JUnit XML) from its journal
    #[command(
        after_help = "Examples:\n  drbook report 20261124T031200Z-4f2a9c --format html --out drill.html\n  drbook report 20261124T031200Z-4f2a9c --format junit --out drill.xml\n\nThe JSON and the other formats are described in docs/reports.md."
    )]
    Report {
        /// The run id (see `drbook runs list`)
        run_id: String,
        #[arg(long, value_enum, default_value_t = ReportFormatArg::Html)]
        format: ReportFormatArg,
        /// Write the report to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },

    /// Check a run record: its hash chain, SSH signatures and review
    #[command(
        after_help = "Examples:\n  drbook verify 20261124T031200Z-4f2a9c --allowed-signers allowed_signers\n  drbook verify records/20261124T031200Z-4f2a9c --allowed-signers allowed_signers --output json\n\nExit status 0 when everything verified, 6 when anything did not (docs/signing.md)."
    )]
    Verify {
        /// A run id in the state directory, or a run directory (one holding journal.jsonl)
        #[arg(value_name = "RUN_ID|DIR")]
        record: String,
        /// Who may sign: OpenSSH's allowed signers file (ssh-keygen(1), ALLOWED SIGNERS)
        #[arg(long, value_name = "FILE")]
        allowed_signers: PathBuf,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// `json`: the verification as docs/signing.md documents it
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },

    /// Write a finished drill's signed review: lessons, corrective actions, sign-off
    #[command(
        after_help = "Examples:\n  drbook review 20261124T031200Z-4f2a9c --sign-key ~/.ssh/id_ed25519\n  drbook review 20261124T031200Z-4f2a9c --from review-input.yaml --sign-key ~/.ssh/id_ed25519"
    )]
    Review {
        /// The run id (see `drbook runs list`)
        run_id: String,
        /// Take the review from this YAML file instead of asking (docs/signing.md)
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        #[command(flatten)]
        sign: SignArgs,
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

/// The formats of `drbook report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    /// One self-contained page to read and print
    Html,
    /// Markdown, for change tickets and wikis
    Md,
    /// JSON, versioned (docs/reports.md)
    Json,
    /// JUnit XML, one case per step and per objective, for CI systems
    Junit,
}

/// `drbook store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Upload a run's record (journal, signatures, review) again, e.g. after a failed
    /// upload; what the store holds already is left as it is
    Push {
        /// The run id (see `drbook runs list`)
        run_id: String,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `drbook audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// State directories, store directories or `s3://bucket/prefix` stores; a run found
    /// in several is counted once
    #[arg(required = true, value_name = "LOCATION")]
    pub locations: Vec<String>,
    /// Runbooks that must be drilled: every *.yaml in DIR counts, drilled or not
    #[arg(long, value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
    /// A scenario is overdue without a successful drill within this age
    #[arg(long, value_name = "AGE", default_value = "365d")]
    pub max_age: String,
    /// How many of a scenario's last drills one person may run alone before it is a
    /// knowledge silo
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub silo_drills: usize,
    /// OpenSSH allowed_signers file to check the records' signatures against
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Write to FILE instead of standard output (written atomically)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// URL of an S3-compatible server for `s3://` locations (default:
    /// $DRBOOK_STORE_ENDPOINT, else AWS)
    #[arg(long, value_name = "URL")]
    pub store_endpoint: Option<String>,
}

/// The formats of `drbook audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Plain text tables for a terminal
    Table,
    /// Markdown
    Md,
    /// One self-contained HTML page
    Html,
    /// JSON, versioned (docs/audit.md)
    Json,
    /// A node-exporter textfile of gauges per runbook and target
    Prometheus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    Md,
    Html,
}

/// Options shared by `run` and `drill`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The runbook
    pub file: PathBuf,
    /// Set an input: `-i name=value` (lists as `a,b,c` or JSON)
    #[arg(short = 'i', long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// Drill only: a YAML file of step id → checkpoint answer
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Where run records are kept (default: $DRBOOK_STATE_DIR, else ~/.local/state/drbook)
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Choose the run id (letters, digits, `-`, `_`, `.`); default: time + random
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// When the incident was declared (RFC 3339), if before the run started; the RTO
    /// clock starts here
    #[arg(long, value_name = "TIME")]
    pub declared_at: Option<String>,
    /// When the failure happened (RFC 3339), if known; RPO is measured from here
    #[arg(long, value_name = "TIME")]
    pub failed_at: Option<String>,
    /// The environment to bind the runbook to, from the targets file
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// Targets file (default: drbook.targets.yaml beside the runbook, else in the
    /// current directory)
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Who is operating (default: $DRBOOK_OPERATOR, else the login name)
    #[arg(long)]
    pub operator: Option<String>,
    /// `text` for people, `json` for one journal record per line
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Where run records are uploaded (`run`, `drill`, `resume`, `store push`).
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Record store to register the run in and upload its record to at every session
    /// end: a directory or `s3://bucket/prefix` (default: $DRBOOK_STORE). S3
    /// credentials come from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub store: Option<String>,
    /// URL of an S3-compatible server for an `s3://` store (MinIO, Ceph; default:
    /// $DRBOOK_STORE_ENDPOINT, else AWS)
    #[arg(long, value_name = "URL")]
    pub store_endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Every run, newest last
    List {
        /// `json`: one object per run, in the shape docs/run-record.md documents
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// One run: its steps, answers and achieved RTO/RPO against the objectives
    Show {
        run_id: String,
        /// `json`: the run, each event summarized and the verdicts, as docs/run-record.md
        /// documents
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
}

/// The signing key of `run`, `drill`, `resume` and `review`.
#[derive(Debug, Clone, clap::Args)]
pub struct SignArgs {
    /// Sign with this OpenSSH ed25519 private key (default: $DRBOOK_SIGN_KEY); with
    /// `--sign-program`, the key file that program signs with
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// Sign by running `PROGRAM -Y sign -f KEY -n NAMESPACE` instead, e.g. `ssh-keygen`
    /// for keys held by ssh-agent or a FIDO token
    #[arg(long, value_name = "PROGRAM")]
    pub sign_program: Option<String>,
}
