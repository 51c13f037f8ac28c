//! The `gallery` binary's library half: configuration, logging, and the wiring of adapters
//! to use-cases to routes. `tests/` builds the same [`Application`] the binary runs.

pub mod app;
pub mod metrics;
mod runtime;
pub mod settings;
pub mod telemetry;

pub use app::Application;
pub use settings::Settings;
