//! Tests of the booking rules.
