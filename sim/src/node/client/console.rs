//! The administrator's console: the scenario steps an administrator carries out over the
//! network, such as the revoke API, run as a task on the campus site. Each call is one HTTP
//! request to the publisher, so the revocation reaches AuthZ with the network's delay and
//! commits when the publisher handles it (its `tokens-revoked` event), not at the step.

use std::cell::RefCell;
use std::rc::Rc;

use hyper::StatusCode;
use tokio::sync::mpsc;

use crate::node_id::NodeId;
use crate::proto::authz::{HTTPS_PORT, REVOKE_PATH};
use crate::proto::http::Call;
use crate::scenario::Action;
use crate::tokens::client_id_hash;
use crate::trace::{Happening, Tracer};

/// Calls waiting for the console, at most one per scenario step.
pub const ADMIN_CALLS_MAX: usize = crate::scenario::STEPS_MAX;

/// One call the console makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminCall {
    /// Revoke `user`'s refresh tokens, or only those of the device whose `ccid` is given.
    Revoke { user: String, ccid: Option<String> },
}

impl AdminCall {
    /// The call a step routed to the console asks for (`None`: not the console's). A
    /// device's tokens are named by its client id, as the revoke API takes them.
    pub fn of(action: &Action) -> Option<AdminCall> {
        match action {
            Action::Revoke { user, device } => {
                Some(AdminCall::Revoke { user: user.clone(), ccid: device.as_deref().map(client_id_hash) })
            }
            _ => None,
        }
    }
}

/// The console's program: make each call in turn. The queue is the scenario's and outlives
/// a crash of the site; it is borrowed only while polled.
pub async fn run(
    calls: Rc<RefCell<mpsc::Receiver<AdminCall>>>,
    publisher: NodeId,
    tracer: Tracer,
) -> turmoil::Result {
    while let Some(call) = std::future::poll_fn(|cx| calls.borrow_mut().poll_recv(cx)).await {
        match call {
            AdminCall::Revoke { user, ccid } => {
                let mut path = format!("{REVOKE_PATH}?user_id={user}");
                if let Some(ccid) = &ccid {
                    path.push_str(&format!("&client_id={ccid}"));
                }
                let answer = Call::post(&publisher, HTTPS_PORT, &path, &NodeId::ADMIN, &()).send().await;
                let reason = match answer {
                    Ok(response) if response.status == StatusCode::OK => None,
                    Ok(response) => Some(format!("HTTP {}", response.status.as_u16())),
                    Err(error) => Some(error.to_string()),
                };
                if let Some(reason) = reason {
                    tracer.emit(Happening::AdminCallFailed { action: "revoke".to_string(), reason });
                }
            }
        }
    }
    Ok(())
}
