//! The engine in-process, as temporalio/sdk-core tests its workflows: scripted actions
//! (`fakes::ScriptedCatalog`), a scripted answerer, a clock the test advances by hand, and
//! named canned journals (`journals`) replayed to the state a resume starts from. Nothing
//! here sleeps: a back-off or a timeout passes when the test moves the clock.

mod failures;
mod fakes;
mod guidance;
mod journals;
mod pauses;
mod replayed;
mod scheduling;
