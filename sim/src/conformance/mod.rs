//! Conformance of validator plugins: the built-in suite `authzlab plugin check` runs.
//!
//! * [`suite`]: the hostile and boundary tokens, each with the verdict the contract requires.

pub mod suite;
