//! Markdown (a runbook's or a step's `description`) as plain lines for the terminal:
//! the markup that only matters to a renderer goes (`#`, `**`, `[text](url)` becomes
//! `text (url)`), what a reader needs stays (list markers, `inline code`, code blocks
//! indented), and the author's own line breaks are kept, because descriptions are written
//! wrapped to be read in the YAML too.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The markdown as lines of plain text, blocks separated by one empty line.
pub(crate) fn lines(markdown: &str) -> Vec<String> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut text = Text::default();
    for event in Parser::new_ext(markdown, options) {
        text.event(event);
    }
    text.finish()
}

/// The first blocks of `lines` that fit in `max` lines (at least the first `max` lines
/// of the first block), and whether anything was left out.
pub(crate) fn shortened(lines: &[String], max: usize) -> (Vec<String>, bool) {
    if lines.len() <= max {
        return (lines.to_vec(), false);
    }
    // Cut at the last block boundary (an empty line) that keeps within `max`.
    let cut = (1..=max)
        .rev()
        .find(|&end| lines.get(end).is_some_and(String::is_empty))
        .unwrap_or(max);
    let mut kept = lines[..cut].to_vec();
    while kept.last().is_some_and(String::is_empty) {
        kept.pop();
    }
    (kept, true)
}

/// Where a line sits: inside quotes and list items, each adding to its indent.
enum Container {
    Quote,
    /// A list item: its marker on its first line, as many spaces on the others.
    Item {
        marker: String,
        first: bool,
    },
}

#[derive(Default)]
struct Text {
    out: Vec<String>,
    line: String,
    containers: Vec<Container>,
    /// One entry per open list: the next number of an ordered one.
    lists: Vec<Option<u64>>,
    in_code: bool,
    /// The open link's target, and where its text starts in `line`.
    link: Option<(String, usize)>,
    /// The cell being written is not the first of its row.
    cell_after_first: bool,
}

impl Text {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) if self.in_code => {
                for line in text.lines() {
                    self.line = format!("    {line}");
                    self.flush();
                }
            }
            Event::Text(text) => self.line.push_str(&text),
            Event::Code(code) => {
                self.line.push('`');
                self.line.push_str(&code);
                self.line.push('`');
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let mut parts = html.split('\n').peekable();
                while let Some(part) = parts.next() {
                    self.line.push_str(part);
                    if parts.peek().is_some() {
                        self.flush();
                    }
                }
            }
            Event::SoftBreak | Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                self.line.push_str("───");
                self.flush();
                self.blank();
            }
            Event::TaskListMarker(done) => self.line.push_str(if done { "[x] " } else { "[ ] " }),
            Event::FootnoteReference(name) => {
                self.line.push_str(&format!("[{name}]"));
            }
            Event::InlineMath(math) | Event::DisplayMath(math) => self.line.push_str(&math),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::BlockQuote(_) => {
                self.flush();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.in_code = true;
            }
            Tag::List(start) => {
                self.flush();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "- ".to_string(),
                };
                self.containers.push(Container::Item {
                    marker,
                    first: true,
                });
            }
            Tag::Link { dest_url, .. } => {
                self.link = Some((dest_url.to_string(), self.line.len()));
            }
            Tag::TableRow | Tag::TableHead => self.cell_after_first = false,
            Tag::TableCell => {
                if self.cell_after_first {
                    self.line.push_str(" | ");
                }
                self.cell_after_first = true;
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) => {
                self.flush();
                self.blank();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.blank();
            }
            TagEnd::CodeBlock => {
                self.in_code = false;
                self.blank();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank();
                }
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Link => {
                if let Some((url, start)) = self.link.take() {
                    let text = self.line.get(start..).unwrap_or_default();
                    if !url.is_empty() && text != url {
                        self.line.push_str(&format!(" ({url})"));
                    }
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => self.flush(),
            TagEnd::Table => self.blank(),
            _ => {}
        }
    }

    /// Ends the current line (nothing when it is empty).
    fn flush(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let mut prefix = String::new();
        for container in &mut self.containers {
            match container {
                Container::Quote => prefix.push_str("> "),
                Container::Item { marker, first } => {
                    if *first {
                        prefix.push_str(marker);
                        *first = false;
                    } else {
                        prefix.push_str(&" ".repeat(marker.len()));
                    }
                }
            }
        }
        let line = std::mem::take(&mut self.line);
        self.out
            .push(format!("{prefix}{line}").trim_end().to_string());
    }

    /// One empty line between blocks, none inside lists.
    fn blank(&mut self) {
        let in_item = self
            .containers
            .iter()
            .any(|c| matches!(c, Container::Item { .. }));
        if !in_item && self.out.last().is_some_and(|l| !l.is_empty()) {
            self.out.push(String::new());
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        while self.out.last().is_some_and(String::is_empty) {
            self.out.pop();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(markdown: &str) -> String {
        lines(markdown).join("\n")
    }

    #[test]
    fn markup_goes_and_the_authors_lines_stay() {
        let markdown = "# Etcd lost quorum\n\nRestore **every** member from the\nsame `snapshot`; see [the docs](https://example.com/etcd).\n";
        assert_eq!(
            plain(markdown),
            "Etcd lost quorum\n\nRestore every member from the\nsame `snapshot`; see the docs (https://example.com/etcd)."
        );
    }

    #[test]
    fn lists_code_and_quotes_keep_their_shape() {
        let markdown = "Before you start:\n\n- a shell on `cp-0`\n- the restic password\n  from the vault\n\n1. stop etcd\n2. restore\n\n```\netcdctl member list\n```\n\n> Do not wait for it to finish.\n";
        assert_eq!(
            plain(markdown),
            "Before you start:\n\n- a shell on `cp-0`\n- the restic password\n  from the vault\n\n1. stop etcd\n2. restore\n\n    etcdctl member list\n\n> Do not wait for it to finish."
        );
    }

    #[test]
    fn an_autolink_is_not_repeated() {
        assert_eq!(plain("<https://example.com>"), "https://example.com");
    }

    #[test]
    fn shortening_keeps_whole_blocks_when_it_can() {
        let lines: Vec<String> = ["a", "b", "", "c", "d", "", "e"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(shortened(&lines, 7), (lines.clone(), false));
        assert_eq!(shortened(&lines, 5), (lines[..5].to_vec(), true));
        assert_eq!(shortened(&lines, 4), (lines[..2].to_vec(), true));
        // One block longer than the limit: its first lines.
        assert_eq!(shortened(&lines[..2], 1), (vec!["a".to_string()], true));
    }
}
