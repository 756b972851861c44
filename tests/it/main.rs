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
mod readme;
mod sync;
mod ui;

mod connect;
