//! A 78xx/88xx IP phone with SIP OAuth: it gets its tokens without a user at the keys and
//! registers over SIP with its access token, renewing the token (and so registering again)
//! before it expires.
//!
//! "OAuth Access Token for Devices" (docs/domain.md): *implicit* (already registered devices,
//! the default from release 14) gives a registered phone its tokens for asking; *explicit*
//! requires onboarding with the activation code the administrator gave the phone. Over MRA a
//! phone onboards by activation code only, never with a user name and password; the edge
//! refuses anything else.

use crate::clock;
use crate::node::client::login::{Client, ClientConfig, Session, LOGIN_ATTEMPTS_MAX, RETRY_DELAY};
use crate::node::client::registration;
use crate::proto::authz::TokenRequest;
use crate::trace::{Happening, Tracer};

/// How long a phone that could not onboard waits before trying again from the start.
/// Assumption (the documents give no client timing).
pub const ONBOARD_BACKOFF: std::time::Duration = std::time::Duration::from_secs(600);

/// The phone's program; it runs until the simulation ends.
pub async fn run(config: ClientConfig, tracer: Tracer) {
    clock::sleep(config.start_delay).await;
    let client = Client::new(config, tracer);
    if !client.config.phone_oauth {
        return without_tokens(&client).await;
    }
    let mut session: Option<Session> = None;
    loop {
        session = match session {
            None => onboard(&client).await,
            Some(current) => client.refresh(&current).await,
        };
        match &session {
            Some(current) => {
                registration::register(&client, current).await;
                // A reset by the administrator registers again at once, with the same tokens
                // (bounded: each reset is one step of the scenario).
                loop {
                    let wait_s = current.renew_at_s.saturating_sub(client.now_s()).max(1);
                    if !reset_or_sleep(&client, std::time::Duration::from_secs(wait_s)).await {
                        break;
                    }
                    registration::register(&client, current).await;
                }
            }
            None => clock::sleep(ONBOARD_BACKOFF).await,
        }
    }
}

/// Before release 14: the phone asks for no token and registers as its file says, once at
/// the start and again at each reset (bounded: each reset is one step of the scenario).
async fn without_tokens(client: &Client) {
    loop {
        registration::register_without_token(client).await;
        while !reset_or_sleep(client, IDLE_WAIT).await {}
    }
}

/// How long a phone without tokens sleeps between looks for a reset: it has nothing else to
/// wake for (any length works; the reset wakes it at once).
const IDLE_WAIT: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Sleeps `wait`, or less when the administrator resets the phone: `true` then.
async fn reset_or_sleep(client: &Client, wait: std::time::Duration) -> bool {
    match &client.config.reset {
        // `clock::timeout` polls the reset first (`biased`): no unseeded branch choice.
        Some(reset) => clock::timeout(wait, reset.notified()).await.is_ok(),
        None => {
            clock::sleep(wait).await;
            false
        }
    }
}

/// Tokens by activation code (when the phone has one) or as an already registered device.
async fn onboard(client: &Client) -> Option<Session> {
    let (grant, name) = match &client.config.activation_code {
        Some(code) => (TokenRequest::ActivationCode { code: code.clone() }, "activation-code"),
        None => (TokenRequest::RegisteredDevice, "registered-device"),
    };
    for _ in 0..LOGIN_ATTEMPTS_MAX {
        match client.token_grant(&grant, Some(name)).await {
            Ok(session) => return Some(session),
            Err(reason) => {
                client.tracer.emit(Happening::LoginFailed { user: client.config.user.clone(), reason });
                clock::sleep(RETRY_DELAY).await;
            }
        }
    }
    None
}
