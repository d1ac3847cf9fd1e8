//! Resolves the command line, dispatches commands, renders errors and decides the exit
//! code. Nothing else in drbook chooses an exit code or exits.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, RenderFormat, RunArgs, RunsCommand};
use crate::diagnostic::Diagnostic;
use crate::dry_run;
use crate::exit_code;
use crate::input_values;
use crate::journal::event::Mode;
use crate::printable;
use crate::runbook::{self, ValidRunbook};
use crate::source_file::{ReadError, SourceFile, describe_io};
use crate::start::{Refusal, StartOptions};
use crate::{resume, runs, start, state_dir, validate};

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
    let result = match cli.command {
        Command::Validate { paths } => validate::validate(&paths),
        Command::Plan {
            file,
            inputs,
            drill,
        } => plan(&file, &inputs, drill),
        Command::Render { file, format } => render(&file, format),
        Command::Run(args) => start_run(args, Mode::Incident),
        Command::Drill(args) => start_run(args, Mode::Drill),
        Command::Resume {
            run_id,
            state_dir,
            accept_changed_runbook,
            targets,
            operator,
            output,
        } => resume::resume(resume::ResumeOptions {
            run_id,
            state_dir,
            accept_changed_runbook,
            targets,
            operator,
            output,
        })
        .map_err(refused)
        .and_then(code_to_result),
        Command::Runs { command, state_dir } => runs_command(command, state_dir.as_deref()),
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
    };
    match result {
        Ok(()) => exit_code::SUCCESS,
        Err(code) => code,
    }
}

/// Why a runbook file could not be used; printed by `report_load_error`.
enum LoadError {
    Unreadable(PathBuf, String),
    Invalid(SourceFile, Vec<Diagnostic>),
}

/// Reads and validates one runbook file.
fn load(path: &Path) -> Result<(SourceFile, ValidRunbook), LoadError> {
    let file = SourceFile::read(path).map_err(|e| match e {
        ReadError::Unreadable(why) => LoadError::Unreadable(path.to_path_buf(), why),
        ReadError::NotUtf8(file, pos) => {
            LoadError::Invalid(file, vec![validate::not_utf8(pos, "runbook")])
        }
    })?;
    match runbook::load(&file.text) {
        Ok(valid) => Ok((file, valid)),
        Err(diagnostics) => Err(LoadError::Invalid(file, diagnostics)),
    }
}

fn report_load_error(error: &LoadError) -> i32 {
    let color = console::colors_enabled_stderr();
    let mut err = std::io::stderr().lock();
    match error {
        LoadError::Unreadable(path, why) => {
            let _ = writeln!(
                err,
                "error: cannot read `{}`: {why}\n  = help: check the path and its permissions",
                path.display()
            );
            exit_code::NO_INPUT
        }
        LoadError::Invalid(file, diagnostics) => {
            for diagnostic in diagnostics {
                let _ = writeln!(err, "{}", diagnostic.render(file, color));
            }
            let count = diagnostics.len();
            let _ = writeln!(
                err,
                "error: {} is not a valid runbook: {count} error{}",
                file.path().display(),
                if count == 1 { "" } else { "s" }
            );
            exit_code::INVALID_RUNBOOK
        }
    }
}

fn plan(file: &Path, inputs: &[String], drill: bool) -> Result<(), i32> {
    let (_, runbook) = load(file).map_err(|e| report_load_error(&e))?;
    let given = input_values::parse_args(&runbook.runbook, inputs).map_err(|message| {
        eprintln!("error: {message}");
        exit_code::USAGE
    })?;
    let plan = dry_run::plan(&runbook, &given, drill);
    print_stdout(&plan.to_text())?;
    match plan.problems() {
        0 => Ok(()),
        n => {
            eprintln!(
                "error: {n} step{} would fail with these inputs (marked \"would fail\" above)",
                if n == 1 { "" } else { "s" }
            );
            Err(exit_code::FAILURE)
        }
    }
}

fn render(file: &Path, format: RenderFormat) -> Result<(), i32> {
    let (_, runbook) = load(file).map_err(|e| report_load_error(&e))?;
    let text = printable::render(&runbook.runbook, format).map_err(|e| {
        eprintln!("error: cannot render `{}`: {e}", file.display());
        exit_code::FAILURE
    })?;
    print_stdout(&text)
}

/// Writes to stdout; a closed pipe (`drbook schema | head`) is not an error worth a
/// panic, but it is a failure to deliver the output.
fn print_stdout(text: &str) -> Result<(), i32> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("error: cannot write output: {e}");
            }
            exit_code::FAILURE
        })
}

fn start_run(args: RunArgs, mode: Mode) -> Result<(), i32> {
    let bytes = std::fs::read(&args.file).map_err(|e| {
        report_load_error(&LoadError::Unreadable(args.file.clone(), describe_io(&e)))
    })?;
    let (_, valid) = load(&args.file).map_err(|e| report_load_error(&e))?;
    let options = StartOptions {
        file: args.file,
        mode,
        inputs: args.inputs,
        answers: args.answers,
        state_dir: args.state_dir,
        run_id: args.run_id,
        declared_at: args.declared_at,
        failed_at: args.failed_at,
        target: args.target,
        targets: args.targets,
        operator: args.operator,
        output: args.output,
    };
    start::start(options, valid, &bytes)
        .map_err(refused)
        .and_then(code_to_result)
}

/// Prints why a run was refused; returns its exit code.
fn refused(refusal: Refusal) -> i32 {
    eprintln!("error: {}", refusal.message);
    refusal.code
}

fn code_to_result(code: i32) -> Result<(), i32> {
    if code == exit_code::SUCCESS {
        Ok(())
    } else {
        Err(code)
    }
}

fn runs_command(command: Option<RunsCommand>, flag: Option<&Path>) -> Result<(), i32> {
    let state = state_dir::resolve(flag).map_err(|m| {
        eprintln!("error: {m}");
        exit_code::USAGE
    })?;
    let text = match command.unwrap_or(RunsCommand::List) {
        RunsCommand::List => runs::list(&state),
        RunsCommand::Show { run_id } => runs::show(&state, &run_id),
    }
    .map_err(|m| {
        eprintln!("error: {m}");
        exit_code::NO_INPUT
    })?;
    print_stdout(&text)
}
