//! `drbook plan`: what a run would do, without executing anything.
use crate::runbook::{Runbook, ValidRunbook};
pub fn parse_inputs(
    _r: &Runbook,
    _i: &[String],
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    Ok(Default::default())
}
pub struct Plan;
impl Plan {
    pub fn to_text(&self) -> String {
        String::new()
    }
}
pub fn plan(_r: &ValidRunbook, _g: &serde_json::Map<String, serde_json::Value>, _d: bool) -> Plan {
    Plan
}
