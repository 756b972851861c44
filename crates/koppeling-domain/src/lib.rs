//! Radar360 → SnelStart synchronisation: the rules, models, ports and the sync use case.
//!
//! This crate does no I/O. Adapters implement the traits in [`ports`]; the application
//! composes them into a [`sync::Service`].
#![deny(clippy::float_arithmetic)]

pub mod app;
pub mod auth;
pub mod booking;
pub mod connect;
pub mod document;
pub mod english;
pub mod ids;
pub mod invoice;
pub mod koppeling;
pub mod money;
pub mod notification;
pub mod pause;
pub mod ports;
pub mod problem;
pub mod readback;
pub mod reconciliation;
pub mod relation;
pub mod sync;
#[cfg(any(test, feature = "mock"))]
pub mod testkit;
pub mod text;
