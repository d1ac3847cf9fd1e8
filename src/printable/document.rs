//! Lays the view model out with the embedded templates.
//!
//! The templates are compiled into the binary (`include_str!`), so `drbook render` works
//! from a lone copy of the executable. The HTML template is registered under a `.html`
//! name, which makes minijinja escape every value in it: a `<script>` in a command or a
//! description prints as text. The only pre-rendered HTML is markdown from
//! `markdown::to_html`, which turns raw HTML into text itself.

use minijinja::{Environment, Value};

use crate::cli::RenderFormat;
use crate::runbook::Runbook;
use crate::template;

use super::view::Document;

const MARKDOWN_TEMPLATE: &str = include_str!("../../templates/runbook.md.j2");
const HTML_TEMPLATE: &str = include_str!("../../templates/runbook.html.j2");

/// Why the printable runbook could not be produced; a bug in a template, not in the
/// runbook, since every valid runbook renders.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template `{template}` failed: {source:#}")]
    Template {
        template: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

/// The runbook as a document in `format`: CommonMark or a self-contained HTML page.
/// `target` is the facts of a bound target (`render --target`), which fill `target.*`
/// in the by-hand commands.
pub fn render(
    runbook: &Runbook,
    format: RenderFormat,
    target: Option<&serde_json::Value>,
) -> Result<String, RenderError> {
    let (name, source) = match format {
        RenderFormat::Md => ("runbook.md", MARKDOWN_TEMPLATE),
        RenderFormat::Html => ("runbook.html", HTML_TEMPLATE),
    };
    let error = |source| RenderError::Template {
        template: name,
        source,
    };
    let document = Document::new(runbook, format == RenderFormat::Html, target);
    let mut env = environment();
    env.add_template(name, source).map_err(error)?;
    let template = env.get_template(name).map_err(error)?;
    template
        .render(minijinja::context! { doc => document })
        .map_err(error)
}

fn environment() -> Environment<'static> {
    let mut env = template::document_environment();
    env.add_filter("code", |value: Value| code_span(&value.to_string()));
    env.add_filter(
        "fence",
        |value: Value, lang: Option<String>, indent: Option<usize>| {
            fenced_block(
                &value.to_string(),
                lang.as_deref().unwrap_or(""),
                indent.unwrap_or(0),
            )
        },
    );
    // Code is printed line by line so that a line wrapped on paper reads as one line.
    env.add_filter("lines", |value: Value| -> Vec<String> {
        let text = value.to_string();
        let body = text.strip_suffix('\n').unwrap_or(&text);
        body.split('\n').map(str::to_string).collect()
    });
    env
}

/// A markdown code span that shows `text` exactly, whatever backticks it holds.
fn code_span(text: &str) -> String {
    if text.is_empty() {
        return "`\"\"`".into();
    }
    let ticks = "`".repeat(longest_run(text, '`') + 1);
    // A space is stripped from both ends when both have one, so pad when that would eat
    // a real space or when a backtick touches the fence.
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
    let pad = if pad { " " } else { "" };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// A markdown fenced code block holding `text` exactly, each line indented by `indent`
/// spaces (to sit inside a list item); no newline after the closing fence.
fn fenced_block(text: &str, lang: &str, indent: usize) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}{fence}{lang}\n");
    for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
        if !line.is_empty() {
            out.push_str(&pad);
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&pad);
    out.push_str(&fence);
    out
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runbook that uses every part of the format the printout shows.
    const RUNBOOK: &str = r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-quorum-loss
  version: 1.2.0
  title: etcd lost quorum
  owners: [platform-oncall]
  labels: {layer: kubeone}
spec:
  description: |
    # Scenario
    Quorum is lost. <script>alert("description")</script>
  objectives: {rto: 90m, rpo: 15m}
  inputs:
    - {name: members, type: list, default: [cp-0, cp-1, cp-2], description: the members}
    - {name: mode, type: string, default: fast, choices: [fast, safe]}
  secrets:
    - {name: restic_password, env: RESTIC_PASSWORD}
    - {name: path_secret, env: PATH}
    - {name: ca_key, file: SECRET_FILE}
  steps:
    - id: declare
      checkpoint: {prompt: "Fewer than {{ (inputs.members|length)//2 + 1 }} healthy?", type: confirm}
    - id: pick
      checkpoint: {prompt: Which way?, type: choice, choices: [left, right], default: left, timeout: 5m}
    - id: restore
      title: Restore every member
      action: shell
      foreach: "{{ inputs.members }}"
      with:
        run: |
          echo "<script>alert('command')</script>" ```
          restic restore {{ item }} --password "{{ secrets.restic_password }}"
        env: {RESTIC_REPOSITORY: "{{ target.restic.repository }}"}
      timeout: 10m
      retry: {attempts: 2, backoff: 5s}
      on_failure: ask
    - id: healthy
      action: wait
      with: {probe: "etcdctl endpoint health", timeout: 5m, interval: 10s}
      marks: recovered
    - id: post
      needs: [healthy, declare]
      when: "{{ inputs.mode == 'safe' }}"
      action: shell
      with: {run: "echo {{ steps.restore.outputs.snapshot_id }}"}
  drill:
    description: Break etcd on purpose.
    inject:
      - id: break
        action: shell
        with: {run: systemctl stop etcd}
"#;

    struct Rendered {
        md: String,
        html: String,
        /// The HTML with entities decoded: what a reader sees, markup aside.
        html_text: String,
        secret_file: tempfile::NamedTempFile,
    }

    fn rendered() -> Rendered {
        use std::io::Write as _;
        let mut secret_file = tempfile::NamedTempFile::new().unwrap();
        write!(secret_file, "ca-key-value-never-printed").unwrap();
        let path = secret_file.path().display().to_string();
        let text = RUNBOOK.replace("SECRET_FILE", &format!("\"{path}\""));
        let valid = crate::runbook::load(&text).unwrap_or_else(|d| panic!("{d:?}"));
        let html = render(&valid.runbook, RenderFormat::Html, None).unwrap();
        Rendered {
            md: render(&valid.runbook, RenderFormat::Md, None).unwrap(),
            html_text: unescape(&html),
            html,
            secret_file,
        }
    }

    fn unescape(html: &str) -> String {
        html.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#x2f;", "/")
            .replace("&amp;", "&")
    }

    #[test]
    fn secrets_appear_only_by_name_and_source() {
        let r = rendered();
        let path = r.secret_file.path().display().to_string();
        for out in [&r.md, &r.html_text] {
            assert!(out.contains("restic_password"));
            assert!(out.contains("RESTIC_PASSWORD"));
            assert!(out.contains(&path), "the file's path is shown");
            assert!(!out.contains("ca-key-value-never-printed"));
            assert!(!r.html.contains("ca-key-value-never-printed"));
            if let Ok(value) = std::env::var("PATH")
                && value.len() > 8
            {
                assert!(!out.contains(&value), "the variable's value is not shown");
            }
        }
        assert!(r.md.contains("- `restic_password`: environment variable `RESTIC_PASSWORD`"));
    }

    #[test]
    fn html_escapes_markup_from_the_runbook() {
        let html = rendered().html;
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(\"description\")&lt;/script&gt;"));
        assert!(html.contains("echo &quot;&lt;script&gt;alert(&#x27;command&#x27;)"));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("@media print"));
    }

    #[test]
    fn templates_are_shown_verbatim() {
        let r = rendered();
        for out in [&r.md, &r.html_text] {
            assert!(out.contains("{{ (inputs.members|length)//2 + 1 }}"));
            assert!(out.contains("{{ inputs.members }}"));
            assert!(out.contains("{{ inputs.mode == 'safe' }}"));
            assert!(out.contains("restic restore {{ item }}"));
            assert!(out.contains("{{ ... }}"), "the note on templates");
        }
        assert!(r.md.contains("RESTIC_REPOSITORY: \"{{ target.restic.repository }}\""));
    }

    #[test]
    fn every_step_has_a_checkbox_and_time_slots() {
        let r = rendered();
        // Five recovery steps and one drill step.
        assert_eq!(
            r.md.matches("- [ ] done · started `__:__` · finished `__:__`")
                .count(),
            6
        );
        assert_eq!(r.html.matches("☐ done").count(), 6);
        assert!(r.md.contains("- [ ] yes\n- [ ] no\n"));
        assert!(r.md.contains("- [ ] `left`\n- [ ] `right`\n"));
        assert!(r.md.contains("Answer: ____"));
        assert!(r.md.contains("Incident declared at: ____"));
        assert!(r.md.contains("Operator: ____"));
    }

    #[test]
    fn drill_steps_are_marked_and_kept_apart() {
        let r = rendered();
        let drill = r.md.find("## Drill only — never in an incident").unwrap();
        assert!(r.md.find("### 1. `declare`").unwrap() < drill);
        assert!(r.md[drill..].contains("### D1. `break`"));
        assert!(r.md[drill..].contains("DRILL ONLY — NEVER IN AN INCIDENT"));
        assert!(r.html.contains("DRILL ONLY — NEVER IN AN INCIDENT"));
    }

    #[test]
    fn steps_show_order_conditions_and_the_rto_mark() {
        let md = rendered().md;
        assert!(md.contains("- Starts: after step 1 (`declare`) is finished."));
        assert!(
            md.contains("- Starts: when step 4 (`healthy`) and step 1 (`declare`) are finished")
        );
        assert!(md.contains("- Timeout: 10m\n- Retry: 2 attempts, 5s apart\n- On failure: ask"));
        assert!(md.contains(
            "- Only if this is true (otherwise skip the step and write \"skipped\"): `{{ inputs.mode == 'safe' }}`"
        ));
        assert!(md.contains("`{{ item }}` being the current item: `{{ inputs.members }}`"));
        assert!(md.contains("**RTO clock stops here.**"));
        assert!(md.contains("RTO (longest acceptable time to recover): 1h 30m"));
        assert!(md.contains("until step 4 is finished"));
        assert!(md.contains("Default: `left`, taken by drbook after 5m without an answer."));
        // The command holds three backticks, so its fence is longer.
        assert!(md.contains("````sh\necho \"<script>"));
        assert!(md.contains("* `steps.restore.outputs.snapshot_id`: ____"));
        assert!(md.contains("- `target.restic.repository`: ____"));
        assert!(md.contains("- timeout: `5m`\n- interval: `10s`"));
        assert!(
            md.contains("\n### Scenario\n"),
            "description headings sit under the section"
        );
    }

    #[test]
    fn other_actions_show_their_parameters_as_yaml() {
        // Not in the catalogue yet, so parsed without the semantic checks.
        let runbook = crate::runbook::parse::parse(
            "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {name: x, version: 1.0.0}\nspec:\n  steps:\n    - id: restore\n      action: velero.restore\n      with:\n        backup: \"{{ inputs.backup }}\"\n        include: [ns-a, ns-b]\n        note: |\n          line one\n          line two\n",
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        let md = render(&runbook, RenderFormat::Md, None).unwrap();
        assert!(
            md.contains("```yaml\nbackup: \"{{ inputs.backup }}\"\ninclude:\n  - ns-a\n  - ns-b\nnote: |\n  line one\n  line two\n```"),
            "{md}"
        );
    }

    #[test]
    fn code_spans_and_fences_hold_any_text() {
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
        assert_eq!(code_span(""), "`\"\"`");
        assert_eq!(
            fenced_block("a\n\nb\n", "sh", 2),
            "  ```sh\n  a\n\n  b\n  ```"
        );
        assert_eq!(fenced_block("``` x", "", 0), "````\n``` x\n````");
    }
}
