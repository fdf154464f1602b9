//! authzlab: a deterministic turmoil simulation of an on-premises UC cluster's OAuth tokens.
//!
//! The map, in the order data flows (docs/architecture.md):
//! * [`scenario`]: scenario files (TOML) parsed and checked; errors name file, line, field.
//! * [`cluster`]: builds the turmoil simulation from a scenario, drives its steps, runs checks.
//! * [`cost`]: what a run will cost (wall time, events), estimated before it starts.
//! * [`node`]: node programs (publisher, subscriber, Unity, Jabber, sites). Nodes read time
//!   only from [`clock`] and randomness only from [`seeds`]; they never see [`check`].
//! * [`proto`]: the wire protocols nodes speak over turmoil TCP.
//! * [`conformance`]: the built-in suite of hostile tokens `authzlab plugin check` runs.
//! * [`tokens`]: AuthZ's keys and tokens in the real system's format; [`mint`]: a plugin author's own
//!   test keys and tokens (`authzlab token`).
//! * [`certs`]: IM and Presence identity certificates (rcgen), trust stores and services.
//! * [`key_pool`]: real RSA signing keys generated once per build, drawn by the seed.
//! * [`store`]: the publisher's refresh-token table (SQLite).
//! * [`cluster_database`]: the cluster's configuration tables (`processconfig`, SIP ports,
//!   `expresswaycconfiguration`) in the publisher's database.
//! * [`dns_domain`]: the cluster's DNS domain, and which domain a certificate's name is in.
//! * [`phone_security`]: the phone security profile SIP OAuth needs, and the models that have it.
//! * [`release`]: the CallManager release a cluster runs, and which features came with which.
//! * [`trace`]: the ordered record of a run, its JSON Lines form and hash, and the catalogue of
//!   its events with each field's type and domain.
//! * [`check`]: expectations, invariants and token-consistency anomalies; reads only the trace.
//! * [`cleanup`]: temporary files removed however a run ends (signals, stale ones of dead runs).
//! * [`report`]: the timeline and summary a person reads, the timeline page, Perfetto files.
//! * [`shrink`]: `authzlab shrink`, the smallest scenario that still fails the same way.
//! * [`plugin_new`]: `authzlab plugin new`, a plugin crate from the template.
//! * [`cli`]: the `authzlab` command.
//! * [`bench`](mod@bench): `authzlab bench`, which times runs from outside (the only wall clock here).
//!
//! Determinism is a law here: no wall clock, no unseeded randomness, `BTreeMap` wherever
//! order can reach the trace. Same scenario + seed + build = same trace hash.

// Functions stay under 120 lines (clippy.toml); tests may be longer.
#![cfg_attr(not(test), warn(clippy::too_many_lines))]
// Module maps link their private submodules too: they are for readers of
// `cargo doc --document-private-items`, where every such link resolves.
#![allow(rustdoc::private_intra_doc_links)]

pub mod bench;
pub mod certs;
pub mod check;
pub mod cleanup;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod cluster_database;
pub mod conformance;
pub mod cost;
pub mod dns_domain;
pub mod key_pool;
pub mod mint;
pub mod node;
pub mod node_id;
pub mod phone_security;
pub mod plugin_new;
pub mod proto;
pub mod release;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod seeds;
pub mod shrink;
pub mod store;
pub mod sweep;
pub mod tokens;
pub mod trace;
