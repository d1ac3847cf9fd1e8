//! `drbook render`: the runbook as a printable document.
use crate::cli::RenderFormat;
use crate::runbook::Runbook;
pub fn render(_r: &Runbook, _f: RenderFormat) -> Result<String, String> {
    Ok(String::new())
}
