//! Conformance of validator plugins: the built-in suite `authzlab plugin check` runs.
//!
//! * [`suite`]: the hostile and boundary tokens, each with the verdict the contract requires.
//! * [`shadow`]: the native reference beside a consumer's plugin in a run.
//! * [`time_aware`]: `plugin check --scenarios`: the plugin as Unity Connection through key
//!   regenerations, a revocation and clock skew, scored against the native reference.

pub mod shadow;
pub mod suite;
pub mod time_aware;
