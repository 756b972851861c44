//! Black-box tests of koppeling: one integration-test binary.

mod api;
mod cli;
mod crash;
mod faults;
mod helpers;
mod model;
mod sync;
mod ui;
