//! Black-box tests of koppeling: one integration-test binary.

mod api;
mod busy;
mod cli;
mod crash;
mod faults;
mod helpers;
mod sync;
mod ui;
