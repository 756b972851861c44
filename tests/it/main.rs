//! Black-box tests of koppeling: one integration-test binary.

mod api;
mod cli;
mod crash;
mod faults;
mod helpers;
mod notify;
mod sync;
mod ui;
