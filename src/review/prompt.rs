//! Asks the reviewer for the review at the terminal, with dialoguer's prompts as the
//! engine's input prompts draw them: lessons learned (line by line, an empty line ends),
//! corrective actions one by one, and who signs off.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input};

use super::model::{CorrectiveAction, ReviewInput, SignOff, due_date};

/// The review, asked at the terminal; the caller has checked there is one.
pub(crate) fn ask() -> Result<ReviewInput, dialoguer::Error> {
    let theme = ColorfulTheme::default();
    let mut lessons = Vec::new();
    loop {
        let prompt = if lessons.is_empty() {
            "Lessons learned (an empty line ends them)"
        } else {
            "  …"
        };
        let line: String = Input::with_theme(&theme)
            .with_prompt(prompt)
            .allow_empty(!lessons.is_empty())
            .interact_text()?;
        if line.trim().is_empty() {
            break;
        }
        lessons.push(line);
    }
    let mut actions = Vec::new();
    while Confirm::with_theme(&theme)
        .with_prompt("Add a corrective action?")
        .default(actions.is_empty())
        .interact()?
    {
        let action: String = Input::with_theme(&theme)
            .with_prompt("  Action")
            .interact_text()?;
        let owner: String = Input::with_theme(&theme)
            .with_prompt("  Owner")
            .interact_text()?;
        let due: String = Input::with_theme(&theme)
            .with_prompt("  Due (YYYY-MM-DD)")
            .validate_with(|text: &String| due_date(text).map(|_| ()))
            .interact_text()?;
        let ticket: String = Input::with_theme(&theme)
            .with_prompt("  Ticket (empty: none yet)")
            .allow_empty(true)
            .interact_text()?;
        actions.push(CorrectiveAction {
            action,
            owner,
            due,
            ticket: Some(ticket).filter(|t| !t.trim().is_empty()),
        });
    }
    let by: String = Input::with_theme(&theme)
        .with_prompt("Signed off by (the scenario owner)")
        .interact_text()?;
    Ok(ReviewInput {
        lessons_learned: lessons.join("\n"),
        corrective_actions: actions,
        sign_off: SignOff { by },
    })
}
