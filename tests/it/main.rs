//! Black-box tests of koppeling: one integration-test binary.

mod api;
mod busy;
mod cli;
mod crash;
mod documents;
mod exactly_once;
mod faults;
mod helpers;
mod hostile;
mod model;
mod notify;
mod probe;
mod readback;
mod readme;
mod reconcile;
mod sync;
mod ui;
// issue 13: the HTTP edge and input limits
mod edge;
// issue 13 (secrets)
mod secrets;

// issue 13: log-in and sessions
mod login;

mod connect;
