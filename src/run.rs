//! Resolves the command line, dispatches commands, and is the one place that prints an
//! error and decides the exit code. Nothing else in drbook chooses an exit code or
//! exits; commands return `Result<(), AppError>`.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::Path;

use clap::{CommandFactory, Parser};

use crate::app_error::AppError;
use crate::cli::{
    Cli, Command, OutputFormat, RenderFormat, ReportFormatArg, RunsCommand, StoreArgs, StoreCommand,
};
use crate::exit_code;
use crate::journal::JournalError;
use crate::journal::event::Mode;
use crate::report::ReportFormat;
use crate::run_dir::StateDir;
use crate::session::{ResumeRequest, binding};
use crate::signing::Signer;
use crate::{
    audit, dry_run, input_values, load, printable, report, resume, review, runbook, runs, start,
    store, validate, verify,
};

/// Runs drbook with the given arguments (the first is the program name) and returns the
/// process exit code.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::SUCCESS
            };
        }
    };
    match dispatch(cli.command) {
        Ok(()) => exit_code::SUCCESS,
        Err(error) => {
            report(&error);
            exit_code(&error)
        }
    }
}

fn dispatch(command: Command) -> Result<(), AppError> {
    match command {
        Command::Validate { paths, targets } => validate::validate(&paths, targets.as_deref()),
        Command::Plan {
            file,
            inputs,
            drill,
            target,
            targets,
        } => plan(&file, &inputs, drill, target.as_deref(), targets.as_deref()),
        Command::Render {
            file,
            format,
            target,
            targets,
        } => render(&file, format, target.as_deref(), targets.as_deref()),
        Command::Run(args) => {
            let state = state_dir(args.state_dir.as_deref())?;
            start::start(args, Mode::Incident, &state)
        }
        Command::Drill(args) => {
            let state = state_dir(args.state_dir.as_deref())?;
            start::start(args, Mode::Drill, &state)
        }
        Command::Resume {
            run_id,
            state_dir: flag,
            accept_changed_runbook,
            targets,
            operator,
            output,
            sign,
            store,
        } => {
            let signer = Signer::resolve(sign.sign_key.as_deref(), sign.sign_program.as_deref())?;
            let state = state_dir(flag.as_deref())?;
            let request = ResumeRequest {
                run_id,
                accept_changed_runbook,
                targets,
                operator,
                output,
                signer,
                store: store_spec(&store),
            };
            resume::resume(request, &state)
        }
        Command::Runs {
            command,
            state_dir: flag,
        } => {
            let state = state_dir(flag.as_deref())?;
            let text = match command.unwrap_or(RunsCommand::List {
                output: OutputFormat::Text,
            }) {
                RunsCommand::List { output } => runs::list(&state, output)?,
                RunsCommand::Show { run_id, output } => runs::show(&state, &run_id, output)?,
            };
            print_stdout(&text)
        }
        Command::Report {
            run_id,
            format,
            out,
            state_dir: flag,
        } => {
            let state = state_dir(flag.as_deref())?;
            let format = match format {
                ReportFormatArg::Html => ReportFormat::Html,
                ReportFormatArg::Md => ReportFormat::Md,
                ReportFormatArg::Json => ReportFormat::Json,
                ReportFormatArg::Junit => ReportFormat::Junit,
            };
            let text = report::report(&state, &run_id, format)?;
            match out {
                Some(path) => std::fs::write(&path, text).map_err(|e| {
                    AppError::failed(format!(
                        "cannot write the report to `{}`: {}",
                        path.display(),
                        crate::source::source_file::describe_io(&e)
                    ))
                }),
                None => print_stdout(&text),
            }
        }
        Command::Verify {
            record,
            allowed_signers,
            state_dir,
            output,
        } => {
            let (text, verification) = verify::verify(verify::VerifyRequest {
                record: record.clone(),
                allowed_signers,
                state_dir,
                output,
            })?;
            print_stdout(&text)?;
            if verification.is_verified() {
                Ok(())
            } else {
                Err(AppError::Unverified { record })
            }
        }
        Command::Review {
            run_id,
            from,
            state_dir: flag,
            sign,
        } => {
            let state = state_dir(flag.as_deref())?;
            let text = review::review(
                review::ReviewRequest {
                    run_id,
                    from,
                    sign_key: sign.sign_key,
                    sign_program: sign.sign_program,
                },
                &state,
            )?;
            print_stdout(&text)
        }
        Command::Store {
            command:
                StoreCommand::Push {
                    run_id,
                    state_dir: flag,
                    store,
                },
        } => {
            let state = state_dir(flag.as_deref())?;
            let spec = store_spec(&store).ok_or_else(|| {
                AppError::usage("name the store to upload to: `--store DIR|s3://bucket/prefix` or $DRBOOK_STORE")
            })?;
            let dir = state.run(&run_id)?;
            dir.inspect(&state)?;
            let opened = store::Store::open(&spec)?;
            let lines = store::push(&opened, &dir)?;
            print_stdout(&format!(
                "run {run_id}: {lines} journal lines uploaded to {}\n",
                opened.location
            ))
        }
        Command::Audit(args) => audit::command(args),
        Command::Schema => print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&runbook::schema::schema()).unwrap_or_default()
        )),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command, "drbook", &mut out);
            print_stdout(&String::from_utf8_lossy(&out))
        }
    }
}

/// The store named by `--store` / `--store-endpoint`, else by the environment.
fn store_spec(args: &StoreArgs) -> Option<store::StoreSpec> {
    store::StoreSpec::resolve(args.store.as_deref(), args.store_endpoint.as_deref())
}

/// The state directory, resolved once per command; a warning when others can read it.
fn state_dir(flag: Option<&Path>) -> Result<StateDir, AppError> {
    let state = StateDir::resolve(flag)?;
    if let Some(warning) = state.loose_permissions() {
        eprintln!("warning: {warning}");
    }
    Ok(state)
}

/// The exit code of every way a command can end other than success; documented in
/// docs/exit-codes.md.
fn exit_code(error: &AppError) -> i32 {
    match error {
        AppError::Usage(_) => exit_code::USAGE,
        AppError::Unreadable { .. } | AppError::NothingFound(_) | AppError::NoSuchRun { .. } => {
            exit_code::NO_INPUT
        }
        AppError::Invalid { .. } => exit_code::INVALID_RUNBOOK,
        // An invalid file outranks an unreadable one: it is the answer to the question
        // `validate` was asked.
        AppError::Several(errors) => errors
            .iter()
            .map(exit_code)
            .find(|&code| code == exit_code::INVALID_RUNBOOK)
            .or_else(|| errors.first().map(exit_code))
            .unwrap_or(exit_code::FAILURE),
        AppError::Record(JournalError::Io { .. }) => exit_code::FAILURE,
        AppError::Record(_) | AppError::Refused(_) => exit_code::REFUSED,
        AppError::Failed(_)
        | AppError::OutputClosed
        | AppError::RunFailed { .. }
        | AppError::RunAborted { .. } => exit_code::FAILURE,
        AppError::RunPaused { .. } => exit_code::PAUSED,
        AppError::RunStopped { .. } => exit_code::STOPPED,
        AppError::Unverified { .. } | AppError::RecordsUnverified { .. } => exit_code::UNVERIFIED,
    }
}

/// Prints how a command ended, on stderr.
fn report(error: &AppError) {
    let color = console::colors_enabled_stderr();
    let mut err = std::io::stderr().lock();
    let _ = match error {
        AppError::Invalid {
            kind,
            file,
            diagnostics,
        } => {
            for diagnostic in diagnostics {
                let _ = writeln!(err, "{}", diagnostic.render(file, color));
            }
            let count = diagnostics.len();
            writeln!(
                err,
                "error: {} is not a valid {}: {count} error{}",
                file.path().display(),
                kind.noun(),
                if count == 1 { "" } else { "s" }
            )
        }
        AppError::Several(errors) => {
            drop(err);
            errors.iter().for_each(report);
            return;
        }
        AppError::Unreadable { .. } => writeln!(
            err,
            "error: {error}\n  = help: check the path and its permissions"
        ),
        AppError::NothingFound(message) => writeln!(err, "error: {message}"),
        AppError::OutputClosed => Ok(()),
        // Not a mistake: the run stopped on purpose and says how to go on.
        AppError::RunPaused { .. } | AppError::RunStopped { .. } | AppError::RunAborted { .. } => {
            writeln!(err, "{error}")
        }
        _ => writeln!(err, "error: {error}"),
    };
}

fn plan(
    file: &Path,
    inputs: &[String],
    drill: bool,
    target: Option<&str>,
    targets: Option<&Path>,
) -> Result<(), AppError> {
    let loaded = load::runbook(file)?;
    let runbook = &loaded.valid;
    let given = input_values::parse_args(&runbook.runbook, inputs).map_err(AppError::Usage)?;
    // The same binding as a run: a named target is checked (for a drill, that it allows
    // drills) before anything is shown as if it would run there.
    let mode = if drill { Mode::Drill } else { Mode::Incident };
    let bound = match target {
        Some(name) => binding::bind_target(mode, Some(name), targets, file)?,
        None => None,
    };
    let plan = dry_run::plan(runbook, &given, drill, bound.as_ref().map(|b| &b.target));
    print_stdout(&plan.to_text())?;
    match plan.problems() {
        0 => Ok(()),
        n => Err(AppError::failed(format!(
            "{n} step{} would fail with these inputs (marked \"would fail\" above)",
            if n == 1 { "" } else { "s" }
        ))),
    }
}

fn render(
    file: &Path,
    format: RenderFormat,
    target: Option<&str>,
    targets: Option<&Path>,
) -> Result<(), AppError> {
    let loaded = load::runbook(file)?;
    // Bound as a run would bind it, so a misspelt name is refused the same way.
    let bound = binding::bind_target(Mode::Incident, target, targets, file)?;
    let facts = bound.as_ref().map(|b| &b.target.facts);
    let text = printable::render(&loaded.valid.runbook, format, facts)
        .map_err(|e| AppError::failed(format!("cannot render `{}`: {e}", file.display())))?;
    print_stdout(&text)
}

/// Writes to stdout; a closed pipe (`drbook schema | head`) is not an error worth a
/// message, but it is a failure to deliver the output.
fn print_stdout(text: &str) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                AppError::OutputClosed
            } else {
                AppError::failed(format!("cannot write output: {e}"))
            }
        })
}
