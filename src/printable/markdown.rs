//! Markdown in runbooks (`description:` fields), prepared for the printed document.
//!
//! Descriptions are written as top-level markdown but printed under a step's heading, so
//! their headings move down a few levels in both outputs. For HTML they are rendered with
//! pulldown-cmark, and nothing in them may become markup the author did not write as
//! markdown: raw HTML is shown as text, link targets are limited to web and mail
//! addresses, and images are replaced by their text (the page must work offline).

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The markdown text with every heading `shift` levels deeper (at most `######`);
/// everything else is left exactly as written.
pub(crate) fn demote_headings(text: &str, shift: usize) -> String {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for (event, range) in Parser::new_ext(text, options()).into_offset_iter() {
        let Event::Start(Tag::Heading { level, .. }) = event else {
            continue;
        };
        let old = level as usize;
        let new = (old + shift).min(6);
        let source = &text[range.clone()];
        let indent = source.len() - source.trim_start_matches(' ').len();
        if source[indent..].starts_with('#') {
            let at = range.start + indent;
            edits.push((at..at, "#".repeat(new - old)));
        } else {
            // A setext heading (text underlined with `===` or `---`): rewritten as an
            // ATX heading when it is one line, the only form that can be moved safely.
            let body = source.trim_end_matches(['\n', '\r']);
            let mut lines = body.lines();
            if let (Some(title), Some(_underline), None) =
                (lines.next(), lines.next(), lines.next())
            {
                let end = range.start + body.len();
                edits.push((
                    range.start..end,
                    format!("{} {}", "#".repeat(new), title.trim()),
                ));
            }
        }
    }
    let mut out = text.to_string();
    for (range, replacement) in edits.into_iter().rev() {
        out.replace_range(range, &replacement);
    }
    out
}

/// The markdown rendered as an HTML fragment that is safe to embed in the page.
pub(crate) fn to_html(text: &str, shift: usize) -> String {
    let mut events = Vec::new();
    // The target of the image being replaced, printed after its text.
    let mut image_urls: Vec<CowStr> = Vec::new();
    // Whether each open link was kept (an unsafe one is dropped, its text kept).
    let mut links: Vec<bool> = Vec::new();
    for event in Parser::new_ext(text, options()) {
        match event {
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            Event::Start(Tag::HtmlBlock) => {
                events.push(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)))
            }
            Event::End(TagEnd::HtmlBlock) => events.push(Event::End(TagEnd::CodeBlock)),
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => events.push(Event::Start(Tag::Heading {
                level: deeper(level, shift),
                id,
                classes,
                attrs,
            })),
            Event::End(TagEnd::Heading(level)) => {
                events.push(Event::End(TagEnd::Heading(deeper(level, shift))))
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let keep = safe_url(&dest_url);
                links.push(keep);
                if keep {
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                events.push(Event::Start(Tag::Emphasis));
                events.push(Event::Text("[image: ".into()));
                image_urls.push(dest_url);
            }
            Event::End(TagEnd::Image) => {
                let url = image_urls.pop().unwrap_or(CowStr::Borrowed(""));
                events.push(Event::Text(format!(" — {url}]").into()));
                events.push(Event::End(TagEnd::Emphasis));
            }
            Event::TaskListMarker(done) => {
                events.push(Event::Text(if done { "☑ " } else { "☐ " }.into()))
            }
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// One line of markdown (an action's summary) as inline HTML, without the paragraph.
pub(crate) fn inline_html(text: &str) -> String {
    let html = to_html(text, 0);
    let trimmed = html.trim_end();
    match trimmed
        .strip_prefix("<p>")
        .and_then(|t| t.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

fn deeper(level: HeadingLevel, shift: usize) -> HeadingLevel {
    HeadingLevel::try_from((level as usize + shift).min(6)).unwrap_or(HeadingLevel::H6)
}

/// Relative links and web or mail addresses; never `javascript:` or `data:`.
fn safe_url(url: &str) -> bool {
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (None, _) => true,
        (Some(colon), Some(slash)) if slash < colon => true,
        (Some(colon), _) => {
            let scheme = url[..colon].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_headings_down_and_keeps_the_rest() {
        let text = "# Before\n\nRun `{{ inputs.x }}`.\n\nAfter\n-----\n\n> ## quoted\n";
        assert_eq!(
            demote_headings(text, 3),
            "#### Before\n\nRun `{{ inputs.x }}`.\n\n##### After\n\n> ##### quoted\n"
        );
        assert_eq!(demote_headings("##### deep\n", 3), "###### deep\n");
    }

    #[test]
    fn html_shows_raw_markup_as_text() {
        let html = to_html(
            "Hi <script>alert(1)</script>\n\n<div onclick=x>\nblock\n</div>\n",
            0,
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn html_drops_unsafe_links_and_images() {
        let html = to_html(
            "[a](javascript:alert(1)) [b](https://example.org/x) [c](docs/x.md) ![d](http://img/x.png) <JavaScript:alert(2)>",
            0,
        );
        assert!(
            !html.to_lowercase().contains("javascript:alert(1)\""),
            "{html}"
        );
        assert!(!html.contains("href=\"JavaScript"), "{html}");
        assert!(html.contains("href=\"https://example.org/x\""), "{html}");
        assert!(html.contains("href=\"docs/x.md\""), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("[image: d — http://img/x.png]"), "{html}");
    }

    #[test]
    fn inline_html_has_no_paragraph() {
        assert_eq!(
            inline_html("say `idempotent: true` <b>"),
            "say <code>idempotent: true</code> &lt;b&gt;"
        );
    }

    #[test]
    fn html_headings_move_down() {
        assert!(to_html("# Title\n", 3).contains("<h4>Title</h4>"));
    }
}
