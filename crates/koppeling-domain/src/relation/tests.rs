//! Tests of the relation rules.
