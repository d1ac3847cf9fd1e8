//! What a template is rendered against.
//!
//! minijinja reads its own values; handed JSON, it converts the whole of it on every
//! render. A run's context holds every finished step's outputs, so converting it for
//! each template cost time that grew with the run: a fleet runbook's thousand steps,
//! each rendering its parameters and guidance, spent most of their time converting
//! the outputs of the steps before them. The run's context therefore keeps its data
//! converted once (`engine::context`), and plain JSON, as `plan` and tests have it, is
//! converted when rendered. The JSON is still what explains an undefined value, read
//! only when a template fails.

use std::borrow::Cow;

use serde_json::Value;

/// Data a template can be rendered against.
pub trait Context {
    /// The data as minijinja reads it.
    fn jinja(&self) -> minijinja::Value;

    /// The same data as JSON, to explain a value a template found undefined.
    fn json(&self) -> Cow<'_, Value>;
}

/// JSON converted on each render: small contexts (`plan`, tests).
impl Context for Value {
    fn jinja(&self) -> minijinja::Value {
        minijinja::Value::from_serialize(self)
    }

    fn json(&self) -> Cow<'_, Value> {
        Cow::Borrowed(self)
    }
}
