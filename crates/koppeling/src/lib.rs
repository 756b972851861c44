//! The koppeling application: settings, CLI, telemetry, composition root, worker and demo.

pub mod cli;
pub mod demo;
pub mod events;
pub mod metrics;
pub mod progress;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod worker;
// issue 13
pub mod edge;
