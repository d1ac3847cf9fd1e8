//! One thing wrong with a PKI, as the operator reads it: which file, what is wrong with
//! it, and what to do. The checks collect every finding before they report, so one run
//! shows all the work to be done instead of one problem per attempt.

use std::fmt;

/// A problem with one file (or directory) of a PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The path as the operator knows it: relative to the checked directory, in its
    /// layout (`kubernetes/ca.key` in a KubeOne backup, `ca.key` under kubeadm).
    pub file: String,
    /// What is wrong, completing "<file>: …".
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl Finding {
    pub(crate) fn new(
        file: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            file: file.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; fix: {}", self.file, self.problem, self.fix)
    }
}

/// The findings as an indented list, one per line, for an error message.
pub(crate) fn list(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("  - {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "1 problem", "3 problems".
pub(crate) fn count(findings: &[Finding]) -> String {
    match findings.len() {
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    }
}
