//! Black-box tests of koppeling: one integration-test binary.

mod api;
mod cli;
mod crash;
mod faults;
mod helpers;
mod hostile;
mod sync;
mod ui;
