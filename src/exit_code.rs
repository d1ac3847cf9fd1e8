//! Exit codes of the `drbook` executable, documented in docs/exit-codes.md.
//!
//! Scripts (cron drills, CI pipelines) branch on these numbers, so they are named here,
//! returned only from `run::run`, and never change meaning once released.

/// Everything asked for was done; for `validate`, every file is valid.
pub const SUCCESS: i32 = 0;

/// The command was well formed but failed while doing its work: a run that failed (a
/// step failed and the run aborted), a plan whose steps would fail, an I/O error.
pub const FAILURE: i32 = 1;

/// A runbook (or another file drbook reads) is invalid: syntax, structure or semantics.
/// Nothing was executed.
pub const INVALID_RUNBOOK: i32 = 2;

/// A run was paused (Ctrl-C) with its state written; `drbook resume RUN_ID` continues it.
pub const PAUSED: i32 = 3;

/// drbook refused to start or continue a run, and changed nothing: a drill on a target
/// that does not allow drills, an answers file in incident mode, a missing input or
/// secret without a terminal to ask, a changed runbook on resume, a run another process
/// is writing.
pub const REFUSED: i32 = 4;

/// The operator stopped the run: a confirm checkpoint was answered "no" (by a person, or
/// by a drill's answers file). Nothing after that checkpoint ran; the state is recorded
/// and `drbook resume RUN_ID` asks the checkpoint again if the operator changes their
/// mind.
pub const STOPPED: i32 = 5;

/// A run record did not verify: `drbook verify` or `drbook audit` found a broken hash
/// chain, a signature that does not match, a signer the allowed signers file does not
/// list for the operator, a journal cut below a signed point (or registered and never
/// finished), lines no signature covers, or a bad review. What failed is printed.
pub const UNVERIFIED: i32 = 6;

/// The command line itself is wrong: unknown flag, missing argument, malformed
/// `-i name=value`. Same number as the BSD `EX_USAGE`.
pub const USAGE: i32 = 64;

/// A file named on the command line could not be read (missing, unreadable, not UTF-8).
/// Same number as the BSD `EX_NOINPUT`.
pub const NO_INPUT: i32 = 66;
