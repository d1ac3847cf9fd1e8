//! Every `drbook …` example the documentation shows runs, so a pasted example never fails.
//!
//! **Which commands are examples.**
//! - In README.md, runbooks/README.md and docs/*.md: in a fenced ```` ```sh ```` or
//!   ```` ```bash ```` block, every line that starts with `drbook ` (a line ending in `\`
//!   continues on the next; a trailing `# comment` is dropped); in a ```` ```console ````
//!   block, every line that starts with `$ drbook `; and every inline code span
//!   `` `drbook …` `` with something to run beyond the command's name: an argument with
//!   a `/`, a `.yaml` file, a flag or a `>` (`` `drbook schema > docs/runbook.schema.json` ``
//!   is an example, `` `drbook run` `` a name). Inline spans with placeholders (`RUN_ID`,
//!   `FILE`, `<dir>`, `…`, `[`) are synopses, not examples, and are left out.
//! - The `Example:`/`Examples:` section of every subcommand's `--help` (`after_help` in
//!   src/cli.rs), located in src/cli.rs by its text.
//!
//! **How each runs.** All in one temporary copy of `runbooks/`, `examples/` and `docs/`
//! (commands may write there: `> repair.html`), with a fresh state directory and no
//! terminal. The command is split as a shell would (quotes, `\` continuations); `> FILE`
//! writes its stdout to FILE in the copy, or nowhere when FILE is absolute
//! (`/etc/bash_completion.d/drbook`); of a pipe `a | b`, `a` runs. It must exit 0, or the
//! code `EXIT_CODES` says the documentation gives it.
//!
//! **Commands that cannot run here** (a real cluster, a terminal, a run id from the
//! reader's own machine) are listed in `CANNOT_RUN_HERE` with the reason. They are still
//! checked: clap accepts their arguments (the command with `--help` added exits 0;
//! `<run id>` counts as one word), and for a `run` or `drill` of the repository's
//! runbooks, `drbook plan` of the runbook with the same inputs, target and targets file
//! (`--drill` for a drill) exits 0, so the runbook, its inputs and the target's values
//! fit. An entry that no longer matches any example fails the test, so
//! the list cannot rot.
//!
//! The test fails listing each broken example with its file and line. Two smaller tests
//! hold the rest of what a reader copies or follows: every whole runbook or targets file
//! the documents show validates (or prints exactly the errors shown after it), and every
//! file they link or cite by its path exists.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{Drbook, repo_root};

/// What is checked of an example that cannot run here.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// clap accepts the arguments.
    Arguments,
    /// That, and `drbook plan` of the run or drill exits 0.
    Plan,
}

/// Examples that cannot run in a test, by their exact text: what is checked, and why
/// they cannot run.
const CANNOT_RUN_HERE: &[(&str, Check, &str)] = &[
    (
        "drbook run runbooks/kubeone/etcd-quorum-loss.yaml --target prod-master --targets examples/drbook.targets.yaml -i leader_node=cp-0.prod.example",
        Check::Plan,
        "needs a real cluster (the production etcd, the restic store) and a terminal",
    ),
    (
        "drbook drill runbooks/kkp/minio-lost.yaml --target staging --targets examples/drbook.targets.yaml --answers drill-answers.yaml",
        Check::Plan,
        "needs a real staging cluster, and the operator's answers file",
    ),
    (
        "drbook resume 20261124T031200Z-4f2a9c",
        Check::Arguments,
        "names a paused run on the operator's machine",
    ),
    (
        "drbook runs show 20261124T031200Z-4f2a9c",
        Check::Arguments,
        "names a run on the operator's machine",
    ),
    (
        "drbook report 20261124T031200Z-4f2a9c --format html --out drill.html",
        Check::Arguments,
        "names a run on the operator's machine (tests/report.rs reports real runs)",
    ),
    (
        "drbook report 20261124T031200Z-4f2a9c --format junit --out drill.xml",
        Check::Arguments,
        "names a run on the operator's machine (tests/report.rs reports real runs)",
    ),
    (
        "drbook drill runbooks/sandbox/etcd-restore.yaml --target sandbox --targets <sandbox>/drbook.targets.yaml --answers <sandbox>/drill-answers.yaml --state-dir <sandbox>/state",
        Check::Arguments,
        "needs the sandbox scripts/demo writes (tests/demo.rs runs this drill)",
    ),
    (
        "drbook runs show <run id> --state-dir <sandbox>/state",
        Check::Arguments,
        "needs the run scripts/demo made",
    ),
    (
        "drbook runs list --state-dir <sandbox>/state",
        Check::Arguments,
        "needs the state directory scripts/demo made",
    ),
    (
        "drbook store push 20261124T031200Z-4f2a9c --store s3://dr-records/team-a",
        Check::Arguments,
        "names a run on the operator's machine and a real S3 store (tests/store.rs pushes to a test S3 server)",
    ),
    (
        "drbook audit s3://dr-records/team-a --runbooks runbooks/kubeone --max-age 365d",
        Check::Arguments,
        "reads a real S3 store (tests/audit.rs audits generated stores)",
    ),
    (
        "drbook audit /srv/drbook-store --format prometheus --out /var/lib/node_exporter/drbook.prom",
        Check::Arguments,
        "reads the store and writes the textfile of a real machine (tests/audit.rs writes one)",
    ),
    (
        "drbook run runbook.yaml --output json",
        Check::Arguments,
        "the benchmark's runbook, which benches/run_500.sh writes",
    ),
    (
        "drbook validate --targets kind.targets.yaml runbooks/",
        Check::Arguments,
        "needs the targets file of the reader's own kind cluster (docs/kubernetes.md)",
    ),
    (
        "drbook plan runbooks/kkp/minio-lost.yaml --drill --target kind --targets kind.targets.yaml -i kubeconfig=/home/me/drbook/staging.kubeconfig",
        Check::Arguments,
        "needs the targets file of the reader's own kind cluster (docs/kubernetes.md)",
    ),
    (
        "drbook drill runbooks/kkp/minio-lost.yaml --target staging --targets examples/drbook.targets.yaml --answers drill-answers.yaml --sign-key ~/.ssh/drbook_ed25519",
        Check::Plan,
        "needs a real staging cluster, the operator's answers file and key (tests/signing.rs signs real drills)",
    ),
    (
        "drbook verify <run id> --allowed-signers allowed_signers",
        Check::Arguments,
        "names a run and an auditor's allowed signers (tests/signing.rs verifies real records)",
    ),
    (
        "drbook verify <run dir> --allowed-signers allowed_signers",
        Check::Arguments,
        "names a record and an auditor's allowed signers (tests/signing.rs verifies real records)",
    ),
    (
        "drbook verify <run dir> --allowed-signers allowed_signers --output json",
        Check::Arguments,
        "names a record and an auditor's allowed signers (tests/signing.rs verifies real records)",
    ),
    (
        "drbook verify 20261124T031200Z-4f2a9c --allowed-signers allowed_signers",
        Check::Arguments,
        "names a run on the operator's machine (tests/signing.rs verifies real records)",
    ),
    (
        "drbook verify records/20261124T031200Z-4f2a9c --allowed-signers allowed_signers --output json",
        Check::Arguments,
        "names a record copied by an auditor (tests/signing.rs verifies real records)",
    ),
    (
        "drbook review <run id> --sign-key ~/.ssh/carol_ed25519",
        Check::Arguments,
        "asks at a terminal, with the reviewer's own key (tests/signing/review.rs reviews real drills)",
    ),
    (
        "drbook review <run id> --from review-input.yaml --sign-key ~/.ssh/carol_ed25519",
        Check::Arguments,
        "names a finished drill and the reviewer's own key (tests/signing/review.rs reviews real drills)",
    ),
    (
        "drbook review 20261124T031200Z-4f2a9c --sign-key ~/.ssh/id_ed25519",
        Check::Arguments,
        "asks at a terminal, with the reviewer's own key (tests/signing/review.rs reviews real drills)",
    ),
    (
        "drbook review 20261124T031200Z-4f2a9c --from review-input.yaml --sign-key ~/.ssh/id_ed25519",
        Check::Arguments,
        "names a finished drill and the reviewer's own key (tests/signing/review.rs reviews real drills)",
    ),
];

/// Examples whose documented exit status is not 0, by their exact text, and where the
/// documentation says so.
const EXIT_CODES: &[(&str, i32, &str)] = &[(
    "drbook run examples/first-runbook/runbook.yaml",
    4,
    "runbook-format.md: a run with checkpoints and no terminal is refused",
)];

/// One example and where it is written.
#[derive(Debug)]
struct Example {
    /// `README.md:45`, or `src/cli.rs:42 (drbook plan --help)`.
    place: String,
    command: String,
}

#[test]
fn every_documented_example_runs() {
    let root = repo_root();
    let mut examples = Vec::new();
    for file in documents(&root) {
        let text = std::fs::read_to_string(&file).expect("the document is readable");
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        examples.extend(from_markdown(&name, &text));
    }
    examples.extend(from_help(&root));
    assert!(
        examples.len() > 20,
        "the extraction found too few examples: {examples:#?}"
    );

    let copy = Drbook::new().limit(Duration::from_secs(120));
    for dir in ["runbooks", "examples", "docs"] {
        copy_dir(&root.join(dir), &copy.path().join(dir));
    }

    let mut broken = Vec::new();
    let mut used = Vec::new();
    for example in &examples {
        // Seen with `--nocapture`: what was found where.
        eprintln!("{}: {}", example.place, example.command);
        let outcome = match CANNOT_RUN_HERE
            .iter()
            .find(|(c, _, _)| *c == example.command)
        {
            Some((command, check, _)) => {
                used.push(*command);
                check_cannot_run(&copy, &example.command, *check)
            }
            None => run(&copy, &example.command),
        };
        if let Err(why) = outcome {
            broken.push(format!("{}: `{}`: {why}", example.place, example.command));
        }
    }
    for (command, _, reason) in CANNOT_RUN_HERE {
        if !used.contains(command) {
            broken.push(format!(
                "CANNOT_RUN_HERE lists `{command}` ({reason}), which no document shows any more"
            ));
        }
    }
    for (command, _, _) in EXIT_CODES {
        if !examples.iter().any(|e| e.command == *command) {
            broken.push(format!(
                "EXIT_CODES lists `{command}`, which no document shows any more"
            ));
        }
    }
    assert!(
        broken.is_empty(),
        "{} of {} documented examples are broken:\n\n{}",
        broken.len(),
        examples.len(),
        broken.join("\n\n")
    );
}

/// README.md, runbooks/README.md and docs/*.md, in a stable order.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    let mut files = vec![root.join("README.md"), root.join("runbooks/README.md")];
    files.extend(docs);
    files
}

/// The examples of one markdown document, by the rule at the top of this file.
fn from_markdown(name: &str, text: &str) -> Vec<Example> {
    let mut examples = Vec::new();
    // The language of the fenced block we are in, if any.
    let mut fence: Option<String> = None;
    // A command continued with `\`: where it started and its text so far.
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(rest.trim().to_string()),
            };
            continue;
        }
        match fence.as_deref() {
            Some("sh" | "bash" | "console") => {
                let command = match (&mut pending, fence.as_deref()) {
                    (Some((_, so_far)), _) => {
                        so_far.push(' ');
                        so_far.push_str(trimmed);
                        None
                    }
                    (None, Some("console")) => trimmed
                        .strip_prefix("$ ")
                        .filter(|c| c.starts_with("drbook "))
                        .map(|c| (number, c.to_string())),
                    (None, _) => trimmed
                        .starts_with("drbook ")
                        .then(|| (number, trimmed.to_string())),
                };
                if let Some(started) = command {
                    pending = Some(started);
                }
                if let Some((_, so_far)) = &mut pending {
                    if let Some(joined) = so_far.strip_suffix('\\') {
                        *so_far = joined.trim_end().to_string();
                    } else {
                        let (start, command) = pending.take().unwrap();
                        examples.push(Example {
                            place: format!("{name}:{start}"),
                            command: without_comment(&command),
                        });
                    }
                }
            }
            Some(_) => {}
            None => {
                for span in line.split('`').skip(1).step_by(2) {
                    if is_inline_example(span) {
                        examples.push(Example {
                            place: format!("{name}:{number}"),
                            command: span.to_string(),
                        });
                    }
                }
            }
        }
    }
    examples
}

/// Whether an inline code span is a command to paste rather than a command's name or
/// synopsis.
fn is_inline_example(span: &str) -> bool {
    let Some(rest) = span.strip_prefix("drbook ") else {
        return false;
    };
    let placeholder = rest.contains(['<', '[', '…', '|'])
        || rest.contains("...")
        || rest.split_whitespace().any(|word| {
            word.len() >= 2
                && word
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        });
    let runnable = rest.split_whitespace().skip(1).any(|word| {
        word.contains('/') || word.ends_with(".yaml") || word.starts_with('-') || word == ">"
    });
    runnable && !placeholder
}

/// `command   # comment` → `command`.
fn without_comment(command: &str) -> String {
    let text = match command.find(" #") {
        Some(at) => &command[..at],
        None => command,
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `Example:`/`Examples:` lines of every subcommand's `--help`.
fn from_help(root: &Path) -> Vec<Example> {
    let cli = std::fs::read_to_string(root.join("src/cli.rs")).expect("src/cli.rs is readable");
    let help = Drbook::in_dir(root).args(["--help"]).run();
    help.assert_code(0, "drbook --help");
    let subcommands: Vec<String> = help
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(subcommands.len() > 5, "{help:?}");

    let mut examples = Vec::new();
    for subcommand in subcommands {
        let shown = Drbook::in_dir(root).args([&subcommand, "--help"]).run();
        shown.assert_code(0, "drbook SUBCOMMAND --help");
        let lines = shown
            .stdout
            .lines()
            .skip_while(|l| !matches!(l.trim(), "Example:" | "Examples:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "));
        // clap wraps a long example: a line that does not start with `drbook` continues
        // the one before.
        let mut commands: Vec<String> = Vec::new();
        for line in lines {
            match commands.last_mut() {
                Some(last) if !line.trim().starts_with("drbook ") => {
                    last.push(' ');
                    last.push_str(line.trim());
                }
                _ => commands.push(line.trim().to_string()),
            }
        }
        for command in &commands {
            let start: String = command.chars().take(40).collect();
            // Located by its first words (clap never wraps them), in an `after_help`.
            let number = cli
                .lines()
                .position(|l| l.contains("after_help") && l.contains(&start))
                .map_or("?".to_string(), |i| (i + 1).to_string());
            examples.push(Example {
                place: format!("src/cli.rs:{number} (drbook {subcommand} --help)"),
                command: command.clone(),
            });
        }
    }
    examples
}

/// The words of a command as a shell splits them, and where its stdout goes: the part
/// before a pipe, without `> FILE`.
fn split(command: &str) -> Result<(Vec<String>, Option<String>), String> {
    let before_pipe = command.split(" | ").next().unwrap_or(command);
    let words = shlex::split(before_pipe).ok_or("cannot be split as a shell would")?;
    let mut words = words.into_iter();
    let mut args = Vec::new();
    let mut stdout_to = None;
    while let Some(word) = words.next() {
        if word == ">" {
            stdout_to = Some(words.next().ok_or("`>` without a file")?);
        } else {
            args.push(word);
        }
    }
    if args.first().map(String::as_str) != Some("drbook") {
        return Err("does not start with `drbook`".into());
    }
    args.remove(0);
    Ok((args, stdout_to))
}

/// Runs an example in the copy; `Err` says how it failed.
fn run(copy: &Drbook, command: &str) -> Result<(), String> {
    let (args, stdout_to) = split(command)?;
    let expected = EXIT_CODES
        .iter()
        .find(|(c, _, _)| *c == command)
        .map_or(0, |(_, code, _)| *code);
    let ran = copy.clone().args(&args).run();
    if ran.code != expected {
        return Err(format!(
            "exit {} (the documentation promises {expected})\n{}",
            ran.code,
            excerpt(&ran.stdout, &ran.stderr)
        ));
    }
    if let Some(file) = stdout_to
        && !file.starts_with('/')
    {
        std::fs::write(copy.path().join(file), &ran.stdout).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Checks what can be checked of an example that cannot run here (see the top).
fn check_cannot_run(copy: &Drbook, command: &str, check: Check) -> Result<(), String> {
    // `<run id>` is one word to the reader; clap sees what the reader would type.
    let mut command = command.to_string();
    while let (Some(open), Some(close)) = (command.find('<'), command.find('>')) {
        if close < open {
            break;
        }
        let word = command[open + 1..close].replace(' ', "-");
        command.replace_range(open..=close, &word);
    }
    let (args, _) = split(&command)?;
    let mut with_help = args.clone();
    with_help.push("--help".into());
    let ran = copy.clone().args(&with_help).run();
    if ran.code != 0 {
        return Err(format!(
            "clap refuses its arguments (exit {})\n{}",
            ran.code,
            excerpt(&ran.stdout, &ran.stderr)
        ));
    }
    if check == Check::Arguments {
        return Ok(());
    }
    let plan = as_plan(&args).ok_or("only `run` and `drill` have a plan to check")?;
    let ran = copy.clone().args(&plan).run();
    if ran.code != 0 {
        return Err(format!(
            "`drbook {}` exits {}: the runbook, inputs or target do not fit\n{}",
            plan.join(" "),
            ran.code,
            excerpt(&ran.stdout, &ran.stderr)
        ));
    }
    Ok(())
}

/// `run`/`drill` arguments as the `plan` that shows the same run, or `None` for other
/// commands.
fn as_plan(args: &[String]) -> Option<Vec<String>> {
    let drill = match args.first().map(String::as_str) {
        Some("run") => false,
        Some("drill") => true,
        _ => return None,
    };
    let mut plan = vec!["plan".to_string()];
    if drill {
        plan.push("--drill".into());
    }
    let mut words = args[1..].iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-i" | "--input" | "--target" | "--targets" => {
                plan.push(word.clone());
                plan.extend(words.next().cloned());
            }
            // What only a run uses: who, where it is recorded, how it is shown.
            "--answers" | "--state-dir" | "--run-id" | "--declared-at" | "--failed-at"
            | "--operator" | "--output" | "--sign-key" | "--sign-program" => {
                words.next();
            }
            _ => plan.push(word.clone()),
        }
    }
    Some(plan)
}

/// The end of what a command printed, enough to see why it failed.
fn excerpt(stdout: &str, stderr: &str) -> String {
    let tail = |text: &str| {
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(8)..].join("\n")
    };
    format!(
        "stdout (end):\n{}\nstderr (end):\n{}",
        tail(stdout),
        tail(stderr)
    )
}

/// Copies a small directory tree (the repository's runbooks, examples and docs).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the test can create the copy");
    for entry in std::fs::read_dir(from).expect("the directory is readable") {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("the test can copy a file");
        }
    }
}

/// A document that links a file (`[actions.md](actions.md)`,
/// `[examples/first-runbook/](examples/first-runbook/)`) or cites one by its path from
/// the repository's root (`` `src/run_dir.rs` ``, `` `tests/resume/` ``) names one the
/// repository has, so a reader never looks for a file that is not there.
#[test]
fn every_file_the_documents_name_exists() {
    let root = repo_root();
    let mut missing = Vec::new();
    for file in documents(&root) {
        let text = std::fs::read_to_string(&file).expect("the document is readable");
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let dir = file.parent().unwrap();
        for (index, line) in text.lines().enumerate() {
            for link in line.split("](").skip(1) {
                let target = link.split([')', '#', ' ']).next().unwrap_or("");
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                if !dir.join(target).exists() {
                    missing.push(format!("{name}:{}: `{target}`", index + 1));
                }
            }
            for span in line.split('`').skip(1).step_by(2) {
                let path = span.split_whitespace().next().unwrap_or("");
                let cited = ["src/", "tests/", "benches/", "scripts/", "templates/"]
                    .iter()
                    .chain(&["runbooks/", "examples/", "docs/"])
                    .any(|top| path.starts_with(top))
                    && !path.contains(['<', '*', '{', '$']);
                if cited && !root.join(path).exists() {
                    missing.push(format!("{name}:{}: `{path}`", index + 1));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documents name files the repository does not have:\n{}",
        missing.join("\n")
    );
}

/// A whole file the documents show (a ```` ```yaml ```` block with `apiVersion:`, `kind:`
/// and `spec:` or `targets:`; not a fragment such as the top-level keys alone) is valid, or, when the next block is a ```` ```text ```` block of errors,
/// `drbook validate` of it prints exactly those errors (the file named `runbook.yaml`,
/// as the documents write it). A newcomer copies these files first.
#[test]
fn every_whole_file_the_documents_show_validates_as_they_say() {
    let root = repo_root();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for file in documents(&root) {
        let text = std::fs::read_to_string(&file).expect("the document is readable");
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        let blocks = fenced_blocks(&text);
        for (index, (language, line, body)) in blocks.iter().enumerate() {
            let whole = language == "yaml"
                && body.lines().any(|l| l.starts_with("apiVersion:"))
                && body.lines().any(|l| l.starts_with("kind:"))
                && body
                    .lines()
                    .any(|l| l.starts_with("spec:") || l.starts_with("targets:"));
            if !whole {
                continue;
            }
            checked += 1;
            let errors = blocks
                .get(index + 1)
                .filter(|(language, _, next)| language == "text" && next.starts_with("error:"))
                .map(|(_, _, next)| next.trim_end().to_string());
            let ran = Drbook::new()
                .file("runbook.yaml", body)
                .args(["validate", "runbook.yaml"])
                .run();
            let fits = match &errors {
                None => ran.code == 0,
                Some(errors) => ran.code == 2 && ran.stderr.trim_end() == errors,
            };
            if !fits {
                wrong.push(format!(
                    "{name}:{line}: the documents say {}; drbook validate exits {}:\n{}{}",
                    errors
                        .as_deref()
                        .map_or("it is valid".to_string(), |e| format!(
                            "it is invalid with:\n{e}\n"
                        )),
                    ran.code,
                    ran.stdout,
                    ran.stderr
                ));
            }
        }
    }
    assert!(checked >= 3, "too few whole files found: {checked}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// The fenced blocks of a markdown text: language, line of the opening fence, body.
fn fenced_blocks(text: &str) -> Vec<(String, usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(language)) => {
                open = Some((language.trim().to_string(), index + 1, String::new()))
            }
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, _, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}
