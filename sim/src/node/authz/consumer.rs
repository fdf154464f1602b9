//! The one path a bearer access token takes through a consumer: refused before validation
//! when there is no token or no keys ([`Reason::missing`]), else the validator's verdict,
//! recorded as the consumer's accepted or rejected event. Every consumer (UDS and
//! PerfmonService on a subscriber, Cisco CallManager's REGISTER, IM and Presence, Unity
//! Connection, Expressway-C) goes through [`check`] or, for an opaque token, proxy mode with
//! the same events, so none records a refusal its own way.

use std::sync::Arc;

use authzlab_host::{reference, Claims, GuestOutput, Keyring, Plugin, Request, TokenKind, Verdict};

use crate::conformance::shadow::{Presentation, Shadow};
use crate::node::authz::refusal::Refusal;
use crate::trace::reason::Reason;
use crate::trace::{Happening, Tracer};

/// What an accepted token vouches for: its user, its id and its expiry, read from the token
/// by a validator or told by the issuer in proxy mode.
pub struct Vouched {
    pub user: String,
    pub tid: String,
    pub exp: u64,
}

/// A service that takes a bearer access token, and the events it records.
#[derive(Clone, Debug)]
pub enum Consumer {
    /// User Data Services on a CallManager node (Jabber).
    Uds,
    /// PerfmonService on a CallManager node (RTMT).
    Perfmon,
    /// Unity Connection's voicemail login.
    Voicemail,
    /// IM and Presence's XMPP login.
    ImLogin,
    /// Expressway-C's check of a request from a remote device.
    Edge,
    /// Cisco CallManager's REGISTER on an OAuth port (`peer`: Expressway-C's names on the MRA
    /// port; `line`: the answer a refusal sends).
    SipRegister { port: u16, peer: Option<String>, line: String },
}

impl Consumer {
    /// The name a validator is told (`Request::consumer`).
    pub fn name(&self) -> &'static str {
        match self {
            Consumer::Uds => "cucm-uds",
            Consumer::Perfmon => "cucm-perfmon",
            Consumer::Voicemail => "unity-connection",
            Consumer::ImLogin => "imp",
            Consumer::Edge => "expressway",
            Consumer::SipRegister { .. } => "callmanager-sip",
        }
    }

    /// The event of an accepted token (`proxy_ms`: asked its issuer; `fuel`: a plugin's).
    pub fn accepted(
        self,
        client: String,
        vouched: Vouched,
        proxy_ms: Option<u64>,
        fuel: Option<u64>,
    ) -> Happening {
        let Vouched { user, tid, exp } = vouched;
        match self {
            Consumer::Uds => Happening::UdsRequestAccepted { client, user, tid, exp, proxy_ms },
            Consumer::Perfmon => Happening::PerfmonRequestAccepted { client, user, tid, exp, proxy_ms },
            Consumer::Voicemail => {
                Happening::VoicemailLoginAccepted { client, user, tid, exp, proxy_ms, fuel }
            }
            Consumer::ImLogin => Happening::ImLoginAccepted { client, user, tid, exp, proxy_ms, fuel },
            Consumer::Edge => Happening::EdgeRequestAccepted { client, user, tid, exp, fuel },
            Consumer::SipRegister { port, peer, .. } => {
                Happening::SipRegistered { client, user, tid, exp, port, peer, fuel }
            }
        }
    }

    /// The event of a refused token.
    pub fn rejected(
        self,
        client: String,
        refusal: Refusal,
        proxy_ms: Option<u64>,
        fuel: Option<u64>,
    ) -> Happening {
        let Refusal { reason, kid, detail } = refusal;
        match self {
            Consumer::Uds => Happening::UdsRequestRejected { client, reason, kid, detail, proxy_ms },
            Consumer::Perfmon => Happening::PerfmonRequestRejected { client, reason, kid, detail, proxy_ms },
            Consumer::Voicemail => {
                Happening::VoicemailLoginRejected { client, reason, kid, detail, proxy_ms, fuel }
            }
            Consumer::ImLogin => Happening::ImLoginRejected { client, reason, kid, detail, proxy_ms, fuel },
            Consumer::Edge => Happening::EdgeRequestRejected { client, reason, kid, detail, fuel },
            Consumer::SipRegister { port, line, .. } => {
                Happening::SipRegisterRejected { client, port, reason, kid, detail, line, fuel }
            }
        }
    }
}

/// What checks a token for a consumer: a plugin, or CallManager's native validator.
pub trait Validator {
    fn validate(&mut self, keyring: Arc<Keyring>, request: &Request) -> Verdict;
    /// What the last validation cost, when the validator counts it (a plugin's fuel).
    fn fuel(&self) -> Option<u64>;
    /// What the last validation wrote for its author, with the validator's name (a plugin's
    /// log and stderr); `None` when it wrote nothing.
    fn said(&mut self) -> Option<(String, GuestOutput)> {
        None
    }
}

impl Validator for Plugin {
    fn validate(&mut self, keyring: Arc<Keyring>, request: &Request) -> Verdict {
        Plugin::validate(self, keyring, request)
    }
    fn fuel(&self) -> Option<u64> {
        Some(self.last_fuel_used())
    }
    fn said(&mut self) -> Option<(String, GuestOutput)> {
        let output = self.take_output();
        (!output.lines.is_empty()).then(|| (self.name().to_string(), output))
    }
}

/// A plugin's lines as `plugin-said` events, the count of dropped ones on the last.
fn said_events<'a>(
    plugin: &'a str,
    client: &'a str,
    output: GuestOutput,
) -> impl Iterator<Item = Happening> + 'a {
    let last = output.lines.len().saturating_sub(1);
    let dropped = output.dropped;
    output.lines.into_iter().enumerate().map(move |(n, line)| Happening::PluginSaid {
        plugin: plugin.to_string(),
        client: client.to_string(),
        level: line.level.name().to_string(),
        text: line.text,
        dropped: (n == last && dropped > 0).then_some(dropped),
    })
}

/// The reference validator CallManager's own services use, compiled in.
pub struct Native;

impl Validator for Native {
    fn validate(&mut self, keyring: Arc<Keyring>, request: &Request) -> Verdict {
        Verdict::from(reference::validate(&keyring, request))
    }
    fn fuel(&self) -> Option<u64> {
        None
    }
}

/// One presentation of a token to a consumer.
pub struct Presented<'a> {
    pub client: String,
    /// The keys the consumer holds now (`None`: none yet).
    pub keyring: Option<Arc<Keyring>>,
    pub bearer: Option<&'a str>,
    /// The consumer's clock, UNIX seconds.
    pub now_s: u64,
    /// Where the native reference's verdict on the same token goes beside the validator's,
    /// when the run compares them (`plugin check --scenarios`); never into the trace.
    pub shadow: Option<&'a Shadow>,
}

/// Checks a self-contained access token and records the consumer's event: the token's
/// claims, or the reason it was refused.
pub fn check(
    consumer: Consumer,
    presented: Presented<'_>,
    validator: &mut dyn Validator,
    tracer: &Tracer,
) -> Result<Claims, &'static str> {
    let Presented { client, keyring, bearer, now_s, shadow } = presented;
    let (Some(keyring), Some(token)) = (keyring.clone(), bearer) else {
        let reason = Reason::missing(keyring.is_some(), bearer.is_some()).unwrap_or(Reason::NoToken);
        tracer.emit(consumer.rejected(client, Refusal::because(reason), None, None));
        return Err(reason.name());
    };
    let request = Request {
        token: token.to_string(),
        kind: TokenKind::Access,
        now: now_s,
        consumer: consumer.name().to_string(),
    };
    // The native verdict first, while the keyring is still ours: the validator takes it.
    let native = shadow.map(|_| Verdict::from(reference::validate(&keyring, &request)).name());
    let verdict = validator.validate(keyring, &request);
    let fuel = validator.fuel();
    if let Some((plugin, output)) = validator.said() {
        for happening in said_events(&plugin, &client, output) {
            tracer.emit(happening);
        }
    }
    if let (Some(shadow), Some(native)) = (shadow, native) {
        shadow.record(Presentation {
            t_ms: crate::clock::elapsed().as_millis() as u64,
            client: client.clone(),
            component: verdict.name(),
            native,
        });
    }
    match verdict {
        Verdict::Accepted(claims) => {
            let vouched = Vouched {
                user: claims.subject.clone(),
                tid: claims.token_id.clone(),
                exp: claims.expires_at,
            };
            tracer.emit(consumer.accepted(client, vouched, None, fuel));
            Ok(claims)
        }
        verdict => {
            tracer.emit(consumer.rejected(client, Refusal::of(&verdict), None, fuel));
            Err(verdict.reason().unwrap_or(Reason::PluginFault.name()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node_id::NodeId;
    use crate::seeds::Seeds;
    use crate::tokens::{KeyKind, Lifetimes, TokenService};
    use crate::trace::{Seen, Trace};

    fn consumers() -> Vec<Consumer> {
        vec![
            Consumer::Uds,
            Consumer::Perfmon,
            Consumer::Voicemail,
            Consumer::ImLogin,
            Consumer::Edge,
            Consumer::SipRegister { port: 5090, peer: None, line: "SIP/2.0 403 Forbidden".to_string() },
        ]
    }

    /// Every consumer names a missing token and missing keys alike, and records a valid
    /// token and a token under a key it lacks the same way: one path, one vocabulary.
    #[test]
    fn every_consumer_refuses_and_accepts_alike() {
        const NOW_S: u64 = 1_767_571_200;
        let mut tokens = TokenService::new(&Seeds::new(5), Lifetimes::defaults());
        let token = tokens.mint_access("alice", "jabber-1", NOW_S).token;
        let held = Arc::new(tokens.keys.keyring());
        tokens.regenerate(KeyKind::Signing);
        let replaced = Arc::new(tokens.keys.keyring());
        for consumer in consumers() {
            let trace = Trace::new();
            let seen = Seen::default();
            trace.observe(Box::new(seen.clone()));
            let tracer = trace.node(&NodeId::cucm_subscriber(1));
            let present = |keyring: Option<&Arc<Keyring>>, bearer: Option<&str>| {
                let presented = Presented {
                    client: "jabber-1".to_string(),
                    keyring: keyring.cloned(),
                    bearer,
                    now_s: NOW_S,
                    shadow: None,
                };
                check(consumer.clone(), presented, &mut Native, &tracer)
            };
            assert_eq!(present(Some(&held), None).unwrap_err(), "no-token");
            assert_eq!(present(None, None).unwrap_err(), "no-token", "no token is told before no keys");
            assert_eq!(present(None, Some(&token)).unwrap_err(), "no-keys");
            assert_eq!(present(Some(&held), Some(&token)).unwrap().subject, "alice");
            assert_eq!(present(Some(&replaced), Some(&token)).unwrap_err(), "unknown-signing-key");
            let events = seen.0.borrow();
            let reasons: Vec<Option<String>> =
                events.iter().map(|event| event.field_text("reason")).collect();
            let expected =
                [Some("no-token"), Some("no-token"), Some("no-keys"), None, Some("unknown-signing-key")];
            assert_eq!(reasons, expected.map(|reason| reason.map(str::to_string)), "{}", consumer.name());
            assert!(
                events[3].kind.ends_with("accepted") || events[3].kind == "sip-registered",
                "{}",
                events[3].kind
            );
            assert!(events[4].field_text("kid").is_some(), "the refusal names the token's key");
            assert!(events
                .iter()
                .all(|event| event.field_text("reason").is_none_or(|r| Reason::named(&r).is_some())));
        }
    }

    /// What a plugin logs reaches the trace as `plugin-said` events before its verdict, and
    /// the presented token does not.
    #[test]
    fn what_a_plugin_says_is_traced_before_its_verdict() {
        let artifact = authzlab_plugins::FAULTY;
        let host = authzlab_host::PluginHost::new(authzlab_host::Limits::default(), 0).unwrap();
        let mut plugin = host.load(artifact.name, artifact.bytes).unwrap();
        let trace = Trace::new();
        let seen = Seen::default();
        trace.observe(Box::new(seen.clone()));
        let tracer = trace.node(&NodeId::new("unity"));
        let bearer = "log c2VjcmV0LXRva2VuLXRleHQtaGVyZQ";
        let presented = Presented {
            client: "jabber-1".to_string(),
            keyring: Some(Arc::new(Keyring::new("issuer"))),
            bearer: Some(bearer),
            now_s: 1_767_571_200,
            shadow: None,
        };
        assert_eq!(check(Consumer::Voicemail, presented, &mut plugin, &tracer).unwrap_err(), "denied");
        let events = seen.0.borrow();
        let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
        assert_eq!(kinds[..5], ["plugin-said"; 5]);
        assert_eq!(kinds[5], "voicemail-login-rejected");
        assert_eq!(events[1].field_text("text").as_deref(), Some("presented log <token>"));
        assert_eq!(events[4].field_text("level").as_deref(), Some("stderr"));
        assert_eq!(events[4].field_text("plugin").as_deref(), Some("faulty"));
        assert!(events.iter().all(|event| !event.sentence().contains("c2VjcmV0LXRva2Vu")));
        assert_eq!(
            events[1].sentence(),
            "plugin faulty said (info, checking jabber-1's token): presented log <token>"
        );
    }
}
