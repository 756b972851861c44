//! Black-box tests of koppeling: one integration-test binary.

mod api;
mod helpers;
mod sync;
