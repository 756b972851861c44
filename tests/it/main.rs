//! Black-box tests of koppeling: one integration-test binary.
