//! What runs on the sites (`site-campus`, `site-remote`): the users' devices and the
//! administrator's console, each a task on its site's host.
//!
//! * [`site`]: a site host running many clients (and the console) as tasks.
//! * [`jabber`]: a Jabber client: logs in, refreshes, checks voicemail.
//! * [`phone`]: a 78xx/88xx phone: tokens implicitly or by activation code, SIP OAuth.
//! * [`rtmt`]: the Real-Time Monitoring Tool: implicit grant, polls a node's counters.
//! * [`login`]: a client's side of the grant flows (SSO, code or implicit, fallback).
//! * [`registration`]: a device's SIP registration, direct (TLS) or through the edge.
//! * [`console`]: the administrator's console: steps carried out over the network.
//! * [`trust_push`]: the servers' certificates pushed into the devices' trust stores.

pub mod console;
pub mod jabber;
pub mod login;
pub mod phone;
pub mod registration;
pub mod rtmt;
pub mod site;
pub mod trust_push;
