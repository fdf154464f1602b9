//! A site: one turmoil host that runs many clients as tasks. turmoil polls every host on
//! every step, so a host per client would make long runs slow (DESIGN.md: 24 h at a 1 s tick
//! took 1.2 s with 8 hosts and 157 s with 108); a partition or delay applies to a site.

use crate::node::jabber::{self, JabberConfig};
use crate::trace::Trace;

/// The site's program: start every client, then idle while they run.
pub async fn run(clients: Vec<JabberConfig>, trace: Trace) -> turmoil::Result {
    for config in clients {
        let tracer = trace.node(&config.name);
        tokio::task::spawn_local(jabber::run(config, tracer));
    }
    std::future::pending::<()>().await;
    Ok(())
}
