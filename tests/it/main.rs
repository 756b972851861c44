//! Black-box tests of koppeling: one integration-test binary.

mod api;
mod busy;
mod cli;
mod crash;
mod exactly_once;
mod faults;
mod helpers;
mod hostile;
mod model;
mod notify;
mod sync;
mod ui;

// issue 13: log-in and sessions
mod login;
