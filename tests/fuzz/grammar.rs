//! Generators of runbook-shaped text: free lines of runbook tokens, runbooks of
//! generated steps, and minijinja templates. Mostly valid values with some wrong ones,
//! so that most inputs get past the YAML parser into the decoder and the checks.

use proptest::prelude::*;
use proptest::sample::select;

/// Keys of every mapping in the format, and a few near misses.
pub(super) const KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "name",
    "version",
    "title",
    "owners",
    "labels",
    "description",
    "objectives",
    "rto",
    "rpo",
    "inputs",
    "secrets",
    "env",
    "file",
    "steps",
    "drill",
    "inject",
    "id",
    "action",
    "with",
    "run",
    "probe",
    "interval",
    "workdir",
    "needs",
    "when",
    "foreach",
    "concurrency",
    "checkpoint",
    "prompt",
    "type",
    "choices",
    "default",
    "timeout",
    "retry",
    "attempts",
    "backoff",
    "on_failure",
    "marks",
    "idempotent",
    "acton",
    "stpes",
    "ünïcode",
    "\"quoted key\"",
    "? complex",
    "1",
    "true",
    "null",
];

/// Values: valid and invalid scalars of every kind, flow collections, block scalars,
/// templates and broken templates, YAML features drbook refuses, unicode.
pub(super) const VALUES: &[&str] = &[
    "",
    "drbook.io/v1",
    "drbook.io/v2",
    "Runbook",
    "1.0.0",
    "1.0",
    "x",
    "snapshot",
    "restore",
    "s1",
    "shell",
    "wait",
    "shel",
    "confirm",
    "choice",
    "text",
    "number",
    "string",
    "list",
    "bool",
    "recovered",
    "abort",
    "continue",
    "ask",
    "10m",
    "30s",
    "1h 30m",
    "10",
    "0",
    "-1",
    "4294967296",
    "99999999999999999999",
    "1e309",
    ".nan",
    "0x1F",
    "0o17",
    "true",
    "false",
    "yes",
    "~",
    "null",
    "[]",
    "{}",
    "[a, b]",
    "[snapshot, restore]",
    "[s1, s1]",
    "{a: 1}",
    "{run: echo}",
    "[{{ inputs.x }}]",
    "\"{{ inputs.cluster }}\"",
    "\"{{ inputs.members }}\"",
    "\"{{ item }}\"",
    "\"{{ secrets.s3_key }}\"",
    "\"{{ steps.snapshot.outputs.path }}\"",
    "\"{{ steps.s1.answer }}\"",
    "\"{{ steps.restore.outputs }}\"",
    "\"{{ steps. }}\"",
    "\"{{ run.id }} {{ run.nope }}\"",
    "\"{{ target }}\"",
    "\"{{ range(3) }}\"",
    "\"{% for x in inputs.members %}{{ x }}{% endfor %}\"",
    "\"{% if %}\"",
    "\"{{\"",
    "\"}}\"",
    "\"{{ a }} {{ b }}\"",
    "\"{# comment #}\"",
    "\"{{ 'é' ~ item }}\"",
    "'single {{ quoted }}'",
    "'it''s'",
    "\"esc \\u00e9 \\x41 \\t\"",
    "\"unterminated",
    "'unterminated",
    "|",
    "|-",
    ">",
    ">+2",
    "&anchor x",
    "*anchor",
    "!!str 5",
    "!!int 5",
    "!custom x",
    "# comment",
    "a: b: c",
    "- item",
    "---",
    "...",
    "%YAML 1.2",
    "@reserved",
    "`backtick`",
    "ünïcödé ✓ 😀",
    "\u{200b}zero-width",
    "\u{feff}bom",
    "\t",
    "\r",
    "\\",
];

/// One line of runbook-shaped text.
fn yaml_line() -> impl Strategy<Value = String> {
    let indent = prop_oneof![
        4 => (0usize..10).prop_map(|n| " ".repeat(n)),
        1 => Just("\t".to_string()),
        1 => Just("  \t ".to_string()),
    ];
    let dash = prop_oneof![3 => Just(""), 1 => Just("- "), 1 => Just("-"), 1 => Just("- - ")];
    let key = select(KEYS);
    let colon = prop_oneof![6 => Just(": "), 2 => Just(":"), 1 => Just(" : "), 1 => Just("")];
    let value = prop_oneof![
        8 => select(VALUES).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
        1 => "[ -~]{0,12}",
    ];
    let tail = prop_oneof![8 => Just(""), 1 => Just(" # note"), 1 => Just("  ")];
    (indent, dash, key, colon, value, tail).prop_map(|(indent, dash, key, colon, value, tail)| {
        format!("{indent}{dash}{key}{colon}{value}{tail}")
    })
}

/// The first lines of a valid runbook, so that most generated text reaches the decoder
/// and the checks rather than stopping at the first YAML error.
const HEADER: &str = "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata:\n  name: x\n  version: 1.0.0\nspec:\n  steps:\n";

/// Free-form lines of runbook tokens, or runbook-shaped steps (see `steps_text`).
pub(super) fn yaml_text() -> impl Strategy<Value = String> {
    prop_oneof![lines_text(), steps_text()]
}

fn lines_text() -> impl Strategy<Value = String> {
    let line_end = prop_oneof![20 => Just("\n"), 1 => Just("\r\n"), 1 => Just("\r")];
    (
        any::<bool>(),
        prop::collection::vec((yaml_line(), line_end), 0..40),
        any::<bool>(),
    )
        .prop_map(|(header, lines, final_newline)| {
            let mut text = if header {
                HEADER.to_string()
            } else {
                String::new()
            };
            for (line, end) in lines {
                text.push_str(&line);
                text.push_str(end);
            }
            if !final_newline && text.ends_with('\n') {
                text.pop();
            }
            text
        })
}

/// Ids of the generated steps (see `steps_text`), as `needs` names them.
const STEP_IDS: &[&str] = &["s1", "s2", "s3", "s4", "s5", "i1"];

/// Ids that are not valid, or not of this section.
const BAD_STEP_IDS: &[&str] = &["s1", "bad id", "9lives", "", "s1.x", "nope"];

/// Texts for templated fields: references to inputs, secrets, steps (`s1`..`s5`, as
/// outputs and as answers), `item`, `run` and plain text. Whether a step reference is
/// valid depends on the order and the `needs` generated around it.
const TEMPLATES: &[&str] = &[
    "echo plain",
    "\"{{ inputs.cluster }}\"",
    "\"{{ inputs.members }}\"",
    "\"{{ not inputs.fresh_backup }}\"",
    "\"{{ inputs.replicas > 2 }}\"",
    "\"{{ secrets.s3_key }}\"",
    "\"{{ item }}\"",
    "\"{{ run.id }}\"",
    "\"{{ steps.s1.outputs.x }}\"",
    "\"{{ steps.s2.outputs.path }}\"",
    "\"{{ steps.s3.answer }}\"",
    "\"{{ steps.s4.answer == 'yes' }}\"",
    "\"{{ steps.s5.outputs.y }}\"",
    "\"{% for m in inputs.members %}{{ m }} {% endfor %}\"",
    "\"{% if inputs.fresh_backup %}x{% endif %}\"",
    "\"é {{ inputs.cluster }} 😀\"",
];

/// Templates that are wrong in one way or another.
const BAD_TEMPLATES: &[&str] = &[
    "\"{{ inputs.nope }}\"",
    "\"{{ secrets.nope }}\"",
    "\"{{ item.name }}\"",
    "\"{{ run.nope }}\"",
    "\"{{ steps.s5.outputs }}\"",
    "\"{{ steps.s1.nope }}\"",
    "\"{{ steps.snapshot }}\"",
    "\"{{ steps }}\"",
    "\"{{ a }} and {{ b }}\"",
    "\"{{ inputs.cluster \"",
    "\"{% if %}\"",
    "\"{{ 1 +* 2 }}\"",
    "\"{{ range(3) }}\"",
    "[a, b]",
    "[\"{{ inputs.cluster }}\", x]",
];

/// Mostly one of `good`, sometimes one of `bad`, rarely any token at all.
fn pick(good: &'static [&'static str], bad: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        40 => select(good).prop_map(str::to_string),
        2 => select(bad).prop_map(str::to_string),
        1 => select(VALUES).prop_map(str::to_string),
    ]
    .boxed()
}

/// A value for the optional step key `key`.
fn step_field(key: &'static str) -> BoxedStrategy<String> {
    match key {
        "needs" => prop::collection::vec(pick(STEP_IDS, BAD_STEP_IDS), 0..3)
            .prop_map(|ids| format!("[{}]", ids.join(", ")))
            .boxed(),
        "when" | "foreach" | "title" | "description" => pick(TEMPLATES, BAD_TEMPLATES),
        "concurrency" => pick(&["1", "2"], &["0", "x"]),
        "timeout" => pick(&["10m", "30s", "1h 30m"], &["10", "soon"]),
        "retry" => pick(
            &["{attempts: 3}", "{attempts: 3, backoff: 10s}"],
            &["{attempts: 0}", "{backoff: 1s}"],
        ),
        "on_failure" => pick(&["abort", "continue", "ask"], &["retry"]),
        "marks" => pick(&["recovered"], &["done"]),
        "idempotent" => pick(&["true", "false"], &["yes"]),
        _ => select(VALUES).prop_map(str::to_string).boxed(),
    }
}

/// The body of a step: an action with parameters or a checkpoint, as indented lines.
fn step_body() -> impl Strategy<Value = String> {
    let template = || pick(TEMPLATES, BAD_TEMPLATES);
    let shell = (template(), template()).prop_map(|(run, env)| {
        format!("      action: shell\n      with:\n        run: {run}\n        env:\n          KEY: {env}\n")
    });
    let wait = (template(), pick(&["5m", "30s"], &["5", "\"{{ inputs.cluster }}\""])).prop_map(
        |(probe, timeout)| {
            format!("      action: wait\n      with:\n        probe: {probe}\n        timeout: {timeout}\n")
        },
    );
    let checkpoint = (
        template(),
        pick(&["confirm", "choice", "text", "number"], &["maybe"]),
        prop::option::of(pick(&["[yes, no]"], &["[]", "[\"{{ inputs.cluster }}\"]"])),
        prop::option::of(pick(&["true", "yes", "3", "\"text\""], &["[x]"])),
    )
        .prop_map(|(prompt, kind, choices, default)| {
            let mut text =
                format!("      checkpoint:\n        prompt: {prompt}\n        type: {kind}\n");
            // Mostly coherent: choices only on choice checkpoints.
            if let Some(choices) = choices.filter(|_| kind == "choice") {
                text.push_str(&format!("        choices: {choices}\n"));
            }
            if let Some(default) = default {
                text.push_str(&format!("        default: {default}\n"));
            }
            text
        });
    prop_oneof![12 => shell, 8 => wait, 8 => checkpoint, 1 => Just(String::new())]
}

/// Optional keys of a step, each with a value from `step_field`.
const OPTIONAL_STEP_KEYS: &[&str] = &[
    "title",
    "description",
    "needs",
    "when",
    "foreach",
    "concurrency",
    "timeout",
    "retry",
    "on_failure",
    "marks",
    "idempotent",
];

/// One generated step, written out once its place gives it an id.
#[derive(Debug, Clone)]
struct GeneratedStep {
    /// Replaces the id of the step's place (a duplicate or an invalid id).
    bad_id: Option<&'static str>,
    body: String,
    fields: Vec<(&'static str, String)>,
}

impl GeneratedStep {
    fn text(&self, id: &str) -> String {
        let mut text = format!("    - id: {}\n{}", self.bad_id.unwrap_or(id), self.body);
        for (key, value) in &self.fields {
            text.push_str(&format!("      {key}: {value}\n"));
        }
        text
    }
}

fn step() -> impl Strategy<Value = GeneratedStep> {
    let fields = prop::collection::btree_map(select(OPTIONAL_STEP_KEYS), Just(()), 0..4)
        .prop_flat_map(|keys| {
            keys.into_keys()
                .map(|key| step_field(key).prop_map(move |v| (key, v)))
                .collect::<Vec<_>>()
        });
    let bad_id = prop::option::weighted(0.05, select(BAD_STEP_IDS));
    (bad_id, step_body(), fields).prop_map(|(bad_id, body, fields)| GeneratedStep {
        bad_id,
        body,
        fields,
    })
}

/// A runbook with valid inputs and a secret, and 1–5 generated steps `s1`.. (so that
/// templates and `needs` can name them), sometimes with drill inject steps `i1`.. too.
fn steps_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(step(), 1..=5),
        prop::option::of(prop::collection::vec(step(), 1..3)),
    )
        .prop_map(|(steps, inject)| {
            let mut text = String::from(STEPS_HEADER);
            for (i, step) in steps.iter().enumerate() {
                text.push_str(&step.text(&format!("s{}", i + 1)));
            }
            if let Some(inject) = inject {
                text.push_str("  drill:\n    inject:\n");
                for (i, step) in inject.iter().enumerate() {
                    text.push_str(&step.text(&format!("i{}", i + 1)));
                }
            }
            text
        })
}

/// What `steps_text` puts before its steps: inputs and a secret the templates can use.
const STEPS_HEADER: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: generated
  version: 1.0.0
spec:
  inputs:
    - {name: cluster, default: prod}
    - {name: members, type: list, default: [a, b]}
    - {name: replicas, type: number, default: 3}
    - {name: fresh_backup, type: bool, default: false}
  secrets:
    - {name: s3_key, env: S3_KEY}
  steps:
";

/// Pieces of minijinja templates: delimiters, names the checks know, operators,
/// filters, literals (numbers stay small so rendering stays cheap), quotes, unicode.
const TEMPLATE_TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{-",
    "-}}",
    " ",
    " ",
    " ",
    "\n",
    "\t",
    "inputs",
    "secrets",
    "steps",
    "item",
    "run",
    "target",
    "x",
    ".",
    ".",
    "cluster",
    "members",
    "replicas",
    "fresh_backup",
    "s3_key",
    "snapshot",
    "note",
    "pick_snapshot",
    "outputs",
    "answer",
    "path",
    "id",
    "mode",
    "nope",
    "[",
    "]",
    "(",
    ")",
    ",",
    ":",
    "|",
    "~",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "==",
    "!=",
    "<",
    "and",
    "or",
    "not",
    "in",
    "is",
    "defined",
    "if",
    "else",
    "endif",
    "for",
    "endfor",
    "set",
    "=",
    "default",
    "length",
    "upper",
    "join",
    "range",
    "dict",
    "namespace",
    "'",
    "\"",
    "'a'",
    "0",
    "1",
    "2",
    "3",
    "-1",
    "1.5",
    "true",
    "none",
    "é",
    "😀",
    "\u{0}",
    "\\",
];

/// A template: a few tokens, or a plausible `{{ root.path }}` with noise around it.
pub(super) fn template_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(select(TEMPLATE_TOKENS), 0..16).prop_map(|t| t.concat()),
        (
            "[ -~]{0,6}",
            select(TEMPLATES),
            prop::collection::vec(select(TEMPLATE_TOKENS), 0..4),
        )
            .prop_map(|(before, template, after)| {
                let template = template.trim_matches('"');
                format!("{before}{template}{}", after.concat())
            }),
    ]
}
