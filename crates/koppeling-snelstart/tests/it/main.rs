//! Integration tests of the SnelStart adapter against the in-process sandbox, plus the OpenAPI contract test.

mod activation;
mod booking;
mod contract;
mod faults;
mod hostile;
mod readback;
mod reconcile;
mod relatie;
mod support;
