//! Key distribution: one task per subscriber pushes the newest keys whenever they change.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock;
use crate::node_id::NodeId;
use crate::proto::authz::*;
use crate::proto::http::Call;
use crate::tokens::KeyBundle;
use crate::trace::{Happening, Tracer};

/// Attempts to push keys to one node before reporting it unsynced.
pub const KEY_SYNC_ATTEMPTS_MAX: u32 = 5;

pub const KEY_SYNC_RETRY: Duration = Duration::from_secs(5);

/// The newest keys not yet pushed to one subscriber, and the signal that they changed.
///
/// Not `tokio::sync::watch`: its receivers are spread over eight `Notify`s chosen by tokio's
/// unseeded thread RNG, so the order in which subscribers' tasks wake after a regeneration,
/// and with it the order of their connections and of turmoil's latency draws, differed from
/// one process to the next. One `Notify` per subscriber, notified in subscriber order, wakes
/// the tasks in the same order every time.
pub struct KeyPush {
    node: NodeId,
    newest: RefCell<Option<KeyBundle>>,
    changed: Notify,
}

impl KeyPush {
    pub(super) fn new(node: &NodeId, keys: KeyBundle) -> Rc<KeyPush> {
        let push = KeyPush { node: node.clone(), newest: RefCell::new(None), changed: Notify::new() };
        push.offer(keys);
        Rc::new(push)
    }

    /// Replaces what is waiting to be pushed; the sync task wakes (or finds the permit).
    pub(super) fn offer(&self, keys: KeyBundle) {
        *self.newest.borrow_mut() = Some(keys);
        self.changed.notify_one();
    }

    fn take(&self) -> Option<KeyBundle> {
        self.newest.borrow_mut().take()
    }

    fn pending(&self) -> bool {
        self.newest.borrow().is_some()
    }
}

/// Pushes the newest keys to one subscriber whenever they change, with bounded retries. One
/// task per subscriber, one push at a time: keys regenerated while a push is under way are
/// pushed next (the newest only, as the node only ever needs the current keys), so however
/// many regenerations a scenario makes at one instant, a subscriber sees one connection.
pub(super) async fn sync_keys(push: Rc<KeyPush>, tracer: Tracer) {
    loop {
        push.changed.notified().await;
        let Some(bundle) = push.take() else { continue };
        let mut delivered = false;
        for _ in 0..KEY_SYNC_ATTEMPTS_MAX {
            let call = Call::post(&push.node, HTTPS_PORT, KEY_SYNC_PATH, &NodeId::PUBLISHER, &bundle);
            if let Ok(response) = call.send().await {
                if response.status.is_success() {
                    delivered = true;
                    break;
                }
            }
            clock::sleep(KEY_SYNC_RETRY).await;
            if push.pending() {
                // Newer keys supersede these; the permit `offer` left wakes the loop at once.
                delivered = true;
                break;
            }
        }
        if !delivered {
            tracer.emit(Happening::KeySyncFailed {
                to: push.node.to_string(),
                attempts: KEY_SYNC_ATTEMPTS_MAX,
            });
        }
    }
}
