//! `drbook run` and `drbook drill`: load the runbook, bind and record a new run through
//! the session layer, and drive it to its end.

use crate::app_error::AppError;
use crate::cli::RunArgs;
use crate::journal::event::Mode;
use crate::run_dir::StateDir;
use crate::session::{Session, StartRequest};
use crate::signing::Signer;
use crate::store::StoreSpec;

pub fn start(args: RunArgs, mode: Mode, state: &StateDir) -> Result<(), AppError> {
    // A key drbook cannot sign with refuses the run before anything else.
    let signer = Signer::resolve(
        args.sign.sign_key.as_deref(),
        args.sign.sign_program.as_deref(),
    )?;
    let loaded = crate::load::runbook(&args.file)?;
    let request = StartRequest {
        file: args.file,
        mode,
        inputs: args.inputs,
        answers: args.answers,
        run_id: args.run_id,
        declared_at: args.declared_at,
        failed_at: args.failed_at,
        target: args.target,
        targets: args.targets,
        operator: args.operator,
        output: args.output,
        signer,
        store: StoreSpec::resolve(
            args.store.store.as_deref(),
            args.store.store_endpoint.as_deref(),
        ),
    };
    Session::start(request, loaded, state)?.drive()
}
