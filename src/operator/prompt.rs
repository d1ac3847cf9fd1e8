//! The prompts themselves: confirm, select and typed text, drawn with dialoguer's
//! colourful theme (so they look like dialoguer's) but driven by `keys`, so each one
//! ends at its deadline or when woken instead of waiting for a key forever.
//!
//! Every prompt draws a frame on stderr, redraws it after each key, and leaves one line
//! behind: the question with its answer.

use std::fmt;
use std::io;

use console::{Key, Term, measure_text_width};
use dialoguer::theme::{ColorfulTheme, Theme};

use super::keys::{Keys, Until, Waited};

/// Why a prompt ended without an answer.
#[derive(Debug)]
pub enum Stopped {
    /// The deadline passed or the prompt was woken.
    GaveUp,
    /// The operator pressed Ctrl-C.
    CtrlC,
    Io(io::Error),
}

impl From<io::Error> for Stopped {
    fn from(e: io::Error) -> Self {
        Stopped::Io(e)
    }
}

/// What a prompt says when the operator stopped it or the terminal failed.
fn stopped_text(stopped: &Stopped) -> String {
    match stopped {
        Stopped::GaveUp => "(no answer in time)".into(),
        Stopped::CtrlC => "(interrupted)".into(),
        Stopped::Io(e) => format!("({e})"),
    }
}

/// The lines of the current frame, so the next draw can replace them.
struct Screen {
    term: Term,
    theme: ColorfulTheme,
    /// Terminal rows above the cursor's row that belong to the frame.
    rows_above: usize,
}

impl Screen {
    fn new() -> Screen {
        Screen {
            term: Term::stderr(),
            theme: ColorfulTheme::default(),
            rows_above: 0,
        }
    }

    fn text(&self, f: impl FnOnce(&ColorfulTheme, &mut dyn fmt::Write) -> fmt::Result) -> String {
        let mut text = String::new();
        let _ = f(&self.theme, &mut text);
        text
    }

    fn clear(&mut self) -> io::Result<()> {
        self.term.clear_line()?;
        self.term.clear_last_lines(self.rows_above)?;
        self.rows_above = 0;
        Ok(())
    }

    /// Replaces the frame with `frame`; the cursor stays at its end.
    fn draw(&mut self, frame: &str) -> io::Result<()> {
        self.clear()?;
        let width = usize::from(self.term.size().1).max(1);
        let rows: usize = frame
            .split('\n')
            .map(|line| measure_text_width(line).div_ceil(width).max(1))
            .sum();
        self.rows_above = rows - 1;
        self.term.write_str(frame)?;
        self.term.flush()
    }

    /// The line a prompt leaves when it was stopped (Ctrl-C) or the terminal failed:
    /// marked as an error, never with the ✔ of an answer.
    fn stopped_line(&self, prompt: &str, stopped: &Stopped) -> String {
        let theme = &self.theme;
        format!(
            "{} {} {}",
            theme.error_prefix,
            theme.prompt_style.apply_to(prompt),
            theme.error_style.apply_to(stopped_text(stopped))
        )
    }

    /// Replaces the frame with the line that stays: the question and its answer.
    fn finish(&mut self, line: &str) -> io::Result<()> {
        self.clear()?;
        self.term.write_line(line)?;
        self.term.show_cursor()
    }
}

/// A yes/no question: `y` or `n` answers at once, Enter takes the default.
pub fn confirm(prompt: &str, default: Option<bool>, until: Until<'_>) -> Result<bool, Stopped> {
    let keys = Keys::open()?;
    let mut screen = Screen::new();
    let frame = screen.text(|t, f| t.format_confirm_prompt(f, prompt, default));
    screen.draw(&frame)?;
    let result = loop {
        let answer = match keys.next(until) {
            Ok(Waited::Key(Key::Char('y' | 'Y'))) => Some(true),
            Ok(Waited::Key(Key::Char('n' | 'N'))) => Some(false),
            Ok(Waited::Key(Key::Enter)) => default,
            Ok(Waited::Key(Key::CtrlC)) => break Err(Stopped::CtrlC),
            Ok(Waited::Key(_)) => None,
            Ok(Waited::GaveUp) => break Err(Stopped::GaveUp),
            Err(e) => break Err(Stopped::Io(e)),
        };
        if let Some(answer) = answer {
            break Ok(answer);
        }
    };
    let line = match &result {
        Ok(answer) => {
            screen.text(|t, f| t.format_confirm_prompt_selection(f, prompt, Some(*answer)))
        }
        Err(Stopped::GaveUp) => {
            screen.text(|t, f| t.format_input_prompt_selection(f, prompt, gave_up(default)))
        }
        Err(stopped) => screen.stopped_line(prompt, stopped),
    };
    screen.finish(&line)?;
    result
}

fn gave_up(default: Option<bool>) -> &'static str {
    match default {
        Some(true) => "yes (no answer in time)",
        Some(false) => "no (no answer in time)",
        None => "(no answer in time)",
    }
}

/// One of `items`, chosen with the arrow keys (or j/k) and Enter.
pub fn select(
    prompt: &str,
    items: &[String],
    default: usize,
    until: Until<'_>,
) -> Result<usize, Stopped> {
    let keys = Keys::open()?;
    let mut screen = Screen::new();
    screen.term.hide_cursor()?;
    let mut active = default.min(items.len().saturating_sub(1));
    let result = loop {
        let mut frame = screen.text(|t, f| t.format_select_prompt(f, prompt));
        for (i, item) in items.iter().enumerate() {
            frame.push('\n');
            frame.push_str(&screen.text(|t, f| t.format_select_prompt_item(f, item, i == active)));
        }
        screen.draw(&frame)?;
        match keys.next(until) {
            Ok(Waited::Key(Key::ArrowDown | Key::Tab | Key::Char('j'))) => {
                active = (active + 1) % items.len().max(1);
            }
            Ok(Waited::Key(Key::ArrowUp | Key::BackTab | Key::Char('k'))) => {
                active = (active + items.len() - 1) % items.len().max(1);
            }
            Ok(Waited::Key(Key::Home)) => active = 0,
            Ok(Waited::Key(Key::End)) => active = items.len().saturating_sub(1),
            Ok(Waited::Key(Key::Enter | Key::Char(' '))) if !items.is_empty() => break Ok(active),
            Ok(Waited::Key(Key::CtrlC)) => break Err(Stopped::CtrlC),
            Ok(Waited::Key(_)) => {}
            Ok(Waited::GaveUp) => break Err(Stopped::GaveUp),
            Err(e) => break Err(Stopped::Io(e)),
        }
    };
    let shown = match &result {
        Ok(i) => items[*i].clone(),
        Err(Stopped::GaveUp) => stopped_text(&Stopped::GaveUp),
        Err(stopped) => {
            let line = screen.stopped_line(prompt, stopped);
            screen.finish(&line)?;
            return result;
        }
    };
    let line = screen.text(|t, f| t.format_select_prompt_selection(f, prompt, &shown));
    screen.finish(&line)?;
    result
}

/// Typed text, checked by `parse` on Enter: a rejected answer is explained under the
/// prompt and asked again. An empty line takes the default, when there is one.
pub fn text<T>(
    prompt: &str,
    default: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
    until: Until<'_>,
) -> Result<T, Stopped> {
    let keys = Keys::open()?;
    let mut screen = Screen::new();
    let mut typed = String::new();
    let mut error: Option<String> = None;
    let result = loop {
        let mut frame = String::new();
        if let Some(error) = &error {
            frame = screen.text(|t, f| t.format_error(f, error));
            frame.push('\n');
        }
        frame.push_str(&screen.text(|t, f| t.format_input_prompt(f, prompt, default)));
        frame.push_str(&typed);
        screen.draw(&frame)?;
        match keys.next(until) {
            Ok(Waited::Key(Key::Char(c))) if !c.is_control() => typed.push(c),
            Ok(Waited::Key(Key::Backspace)) => {
                typed.pop();
            }
            // Ctrl-U, as in a shell: start the line again.
            Ok(Waited::Key(Key::Char('\u{15}'))) => typed.clear(),
            Ok(Waited::Key(Key::Enter)) => {
                let answer = match (typed.trim(), default) {
                    ("", Some(default)) => default.to_string(),
                    ("", None) => {
                        error = Some("an answer is needed".into());
                        continue;
                    }
                    (answer, _) => answer.to_string(),
                };
                match parse(&answer) {
                    Ok(value) => {
                        typed = answer;
                        break Ok(value);
                    }
                    Err(reason) => {
                        error = Some(reason);
                        typed.clear();
                    }
                }
            }
            Ok(Waited::Key(Key::CtrlC)) => break Err(Stopped::CtrlC),
            Ok(Waited::Key(_)) => {}
            Ok(Waited::GaveUp) => break Err(Stopped::GaveUp),
            Err(e) => break Err(Stopped::Io(e)),
        }
    };
    let shown = match &result {
        Ok(_) => typed,
        Err(Stopped::GaveUp) => match default {
            Some(d) => format!("{d} (no answer in time)"),
            None => stopped_text(&Stopped::GaveUp),
        },
        Err(stopped) => {
            let line = screen.stopped_line(prompt, stopped);
            screen.finish(&line)?;
            return result;
        }
    };
    let line = screen.text(|t, f| t.format_input_prompt_selection(f, prompt, &shown));
    screen.finish(&line)?;
    result
}
