//! The AuthZ keys on a CallManager subscriber or IM and Presence node: what is on its disk
//! (what `show key authz` reports) and what its running web service (Cisco Tomcat) loaded
//! and validates with.
//!
//! Assumption (docs/domain.md "Assumptions": the documented fix, "restart Cisco Tomcat on all
//! nodes", implies a node can hold synced keys its running service has not loaded): keys
//! pushed by the publisher arrive through the running service, which writes them to disk and
//! uses them at once; keys put on disk any other way (the regeneration command run on that
//! node, which fetches the cluster's keys from the publisher) are used only once Tomcat
//! restarts. While Tomcat restarts, the node's web services answer 503.

use std::cell::RefCell;

use std::sync::Arc;
use std::time::Duration;

use authzlab_host::Keyring;

use crate::certs::Service;
use crate::clock;
use crate::node::authz::held_keys::HeldKeys;
use crate::node::key_checksums;
use crate::node_id::NodeId;
use crate::proto::authz::{KeyBundle, HTTPS_PORT, KEYS_PATH};
use crate::proto::http::{Call, HttpRequest, HttpResponse};
use crate::tokens::KeyKind;
use crate::trace::{Happening, Tracer};
use hyper::StatusCode;

/// Assumption: how long Cisco Tomcat takes to restart (its web services answer 503 meanwhile).
pub const TOMCAT_RESTART: Duration = Duration::from_secs(60);

/// A node's keys on disk and in its running Tomcat.
#[derive(Default)]
pub struct NodeKeys {
    disk: Option<Arc<Keyring>>,
    held: HeldKeys,
    loaded: Option<Arc<Keyring>>,
    /// Until when (simulated time since the start) Tomcat is restarting.
    restarting_until: Option<Duration>,
}

impl NodeKeys {
    /// Keys pushed by the publisher, through the running service: on disk and loaded.
    pub fn pushed(&mut self, keyring: Keyring, now_s: u64) {
        self.held.sync(&keyring, now_s);
        let keyring = Arc::new(keyring);
        self.disk = Some(keyring.clone());
        self.loaded = Some(keyring);
    }

    /// Answers the publisher's key push (`POST /ssosp/keys/sync`): the keys are recorded
    /// (`keys-synced`), written and used at once.
    pub fn receive_push(&mut self, request: &HttpRequest, tracer: &Tracer, now_s: u64) -> HttpResponse {
        let keyring = match request.json::<KeyBundle>() {
            Ok(bundle) => match bundle.keyring() {
                Ok(keyring) => keyring,
                Err(reason) => return HttpResponse::error(StatusCode::BAD_REQUEST, &reason),
            },
            Err(response) => return response,
        };
        let (signing_key, encryption_key) = key_checksums(&keyring);
        tracer.emit(Happening::KeysSynced { signing_key, encryption_key });
        self.pushed(keyring, now_s);
        HttpResponse::json(StatusCode::OK, &serde_json::json!({ "synced": true }))
    }

    /// Keys written to disk by the regeneration command run on this node: loaded only when
    /// Tomcat restarts.
    pub fn pulled(&mut self, keyring: Keyring, now_s: u64) {
        self.held.sync(&keyring, now_s);
        self.disk = Some(Arc::new(keyring));
    }

    /// The keys the running service validates with.
    pub fn loaded(&self) -> Option<&Arc<Keyring>> {
        self.loaded.as_ref()
    }

    /// Tomcat stops now, for [`TOMCAT_RESTART`]; `finish_restart` is called when it is up.
    pub fn begin_restart(&mut self, now: Duration) {
        self.restarting_until = Some(now + TOMCAT_RESTART);
    }

    /// Tomcat is up again and has loaded what is on disk.
    pub fn finish_restart(&mut self) {
        self.restarting_until = None;
        self.loaded = self.disk.clone();
    }

    /// Whether Tomcat is restarting at `now`.
    pub fn restarting(&self, now: Duration) -> bool {
        self.restarting_until.is_some_and(|until| now < until)
    }

    /// What `show key authz signing` and `show key authz encryption` print: the disk's keys,
    /// times in the cluster's local time.
    pub fn show(&self, utc_offset_s: i64) -> Happening {
        Happening::KeysShown {
            signing: self.held.show(KeyKind::Signing, utc_offset_s),
            encryption: self.held.show(KeyKind::Encryption, utc_offset_s),
        }
    }
}

/// `set key regen authz …` on this node: the publisher's keys onto this node's disk.
pub async fn pull_keys(keys: &RefCell<NodeKeys>, publisher: &NodeId, epoch_s: u64, tracer: &Tracer) {
    let bundle = Call::get(publisher, HTTPS_PORT, KEYS_PATH, tracer.node()).fetch::<KeyBundle>().await;
    let keyring = bundle.and_then(|bundle| bundle.keyring());
    match keyring {
        Ok(keyring) => {
            let (signing_key, encryption_key) = key_checksums(&keyring);
            keys.borrow_mut().pulled(keyring, clock::node_now_s(tracer.node(), epoch_s));
            tracer.emit(Happening::KeysPulled { from: publisher.to_string(), signing_key, encryption_key });
        }
        Err(reason) => tracer.emit(Happening::KeyFetchFailed { from: publisher.to_string(), reason }),
    }
}

/// Cisco Tomcat restarts: down for [`TOMCAT_RESTART`], then up with the keys on disk.
/// Returns the checksums of the keys it loaded.
pub async fn restart_tomcat(keys: &RefCell<NodeKeys>) -> Option<(String, String)> {
    keys.borrow_mut().begin_restart(clock::elapsed());
    clock::sleep(TOMCAT_RESTART).await;
    let mut keys = keys.borrow_mut();
    keys.finish_restart();
    keys.loaded().map(|keyring| key_checksums(keyring))
}

/// The `service-restarted` event of a Tomcat restart.
pub fn tomcat_restarted(loaded: Option<(String, String)>, certificates: Option<String>) -> Happening {
    let (signing_key, encryption_key) = loaded.unwrap_or_default();
    Happening::ServiceRestarted {
        service: Service::Tomcat.name().to_string(),
        signing_key: Some(signing_key).filter(|key| !key.is_empty()),
        encryption_key: Some(encryption_key).filter(|key| !key.is_empty()),
        certificates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::Seeds;
    use crate::tokens::{KeyBundle, TokenService};

    fn keyring(seed: u64) -> Keyring {
        let service = TokenService::new(&Seeds::new(seed), crate::tokens::Lifetimes::defaults());
        KeyBundle::from_keys(&service.keys).keyring().unwrap()
    }

    /// Pushed keys are used at once; pulled keys show on `show key authz` but are used only
    /// after Tomcat restarts.
    #[test]
    fn pulled_keys_are_on_disk_but_used_only_after_a_tomcat_restart() {
        let (old, new) = (keyring(1), keyring(2));
        let old_kid = old.signing_keys().next().unwrap().0.to_string();
        let new_kid = new.signing_keys().next().unwrap().0.to_string();
        let mut keys = NodeKeys::default();
        keys.pushed(old, 100);
        let has = |keys: &NodeKeys, kid: &str| keys.loaded().unwrap().signing_keys().any(|(k, _)| k == kid);
        assert!(has(&keys, &old_kid));
        let shown_before = keys.show(0);
        keys.pulled(new, 200);
        assert_ne!(keys.show(0), shown_before, "show key authz reads the disk");
        assert!(has(&keys, &old_kid) && !has(&keys, &new_kid), "still validating with the old keys");
        keys.begin_restart(Duration::from_secs(10));
        assert!(keys.restarting(Duration::from_secs(69)));
        assert!(!keys.restarting(Duration::from_secs(70)));
        keys.finish_restart();
        assert!(has(&keys, &new_kid) && !has(&keys, &old_kid));
    }
}
