//! A site (`site-campus`, `site-remote`): one turmoil host that runs many clients as tasks. turmoil polls every host on
//! every step, so a host per client would make long runs slow (docs/architecture.md: 24 h at a 1 s tick
//! took 1.2 s with 8 hosts and 157 s with 108); a partition or delay applies to a site.

use std::cell::RefCell;
use std::rc::Rc;

use tokio::sync::mpsc;

use crate::node::client::console::{self, AdminCall};
use crate::node::client::login::ClientConfig;
use crate::node::client::{jabber, phone, rtmt};
use crate::node_id::NodeId;
use crate::scenario::ClientKind;
use crate::trace::Trace;

/// The site's program: start every client, then run the administrator's console.
pub async fn run(
    clients: Vec<ClientConfig>,
    admin_calls: Option<Rc<RefCell<mpsc::Receiver<AdminCall>>>>,
    trace: Trace,
) -> turmoil::Result {
    let publisher = clients.first().map_or(NodeId::PUBLISHER, |client| client.publisher.clone());
    for config in clients {
        let tracer = trace.node(&config.name);
        match config.kind {
            ClientKind::Jabber | ClientKind::JabberLegacy => {
                tokio::task::spawn_local(jabber::run(config, tracer))
            }
            ClientKind::Rtmt => tokio::task::spawn_local(rtmt::run(config, tracer)),
            ClientKind::Phone => tokio::task::spawn_local(phone::run(config, tracer)),
        };
    }
    // The administrator's console is on the campus site only.
    if let Some(admin_calls) = admin_calls {
        console::run(admin_calls, publisher, trace.node(&NodeId::ADMIN)).await?;
    }
    std::future::pending::<()>().await;
    Ok(())
}
