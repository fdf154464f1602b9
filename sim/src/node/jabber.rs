//! A Jabber client with OAuth and refresh login flow.
//!
//! It logs in with the authorization-code grant, calls UDS on its CallManager subscriber,
//! then polls voicemail on Unity Connection every few minutes with its access token. It
//! refreshes the access token before expiry; when a service refuses its token it refreshes
//! at once. When the refresh is refused it logs the real client's line
//! ([`REFRESH_FAILURE_LOG`]) and signs in again.

use std::time::Duration;

use hyper::StatusCode;

use crate::clock;
use crate::proto::authz::*;
use crate::proto::http::Call;
use crate::trace::{Happening, Tracer};

/// What Jabber logs when AuthZ refuses its refresh token (`SingleSignOn.cpp`,
/// `handleRefreshTokenFailure`, in the seed documents).
pub const REFRESH_FAILURE_LOG: &str =
    "Failed to get valid access token from refresh token, maybe server issue.";
/// How often visual voicemail asks Unity Connection for news.
pub const VOICEMAIL_POLL_INTERVAL: Duration = Duration::from_secs(300);
/// Pause before trying a refused request again.
pub const RETRY_DELAY: Duration = Duration::from_secs(30);
/// Tries of one voicemail poll before waiting for the next poll.
pub const VOICEMAIL_ATTEMPTS_MAX: u32 = 3;
/// Tries of one sign-in before the client gives up until its next poll.
pub const LOGIN_ATTEMPTS_MAX: u32 = 10;
/// The access token is refreshed once this fraction of its lifetime is left (1/5).
pub const REFRESH_WHEN_LEFT_DIVISOR: u64 = 5;

const _: () =
    assert!(RETRY_DELAY.as_secs() * VOICEMAIL_ATTEMPTS_MAX as u64 <= VOICEMAIL_POLL_INTERVAL.as_secs());

/// One client's fixed settings.
#[derive(Clone, Debug)]
pub struct JabberConfig {
    /// The device name, e.g. `jabber-1`; also its OAuth `client_id`.
    pub name: String,
    pub user: String,
    pub publisher: String,
    pub subscriber: String,
    pub unity: Option<String>,
    pub epoch_s: u64,
    pub start_delay: Duration,
}

/// The tokens a signed-in client holds (they never leave the client's memory but for the
/// requests that carry them).
struct Session {
    access_token: String,
    refresh_token: String,
    refresh_at_s: u64,
}

struct Client {
    config: JabberConfig,
    tracer: Tracer,
}

/// The client's program; it runs until the simulation ends.
pub async fn run(config: JabberConfig, tracer: Tracer) {
    clock::sleep(config.start_delay).await;
    let client = Client { config, tracer };
    let mut session = client.sign_in().await;
    loop {
        clock::sleep(VOICEMAIL_POLL_INTERVAL).await;
        session = match session {
            Some(session) if client.now_s() >= session.refresh_at_s => client.renew(&session).await,
            Some(session) => Some(session),
            None => client.sign_in().await,
        };
        if let Some(current) = session.as_mut() {
            if !client.poll_voicemail(current).await {
                session = None;
            }
        }
    }
}

impl Client {
    fn now_s(&self) -> u64 {
        clock::now_s(self.config.epoch_s)
    }

    /// Authorization-code grant, then UDS on the subscriber.
    async fn sign_in(&self) -> Option<Session> {
        for _ in 0..LOGIN_ATTEMPTS_MAX {
            match self.authorization_code_grant().await {
                Ok(session) => {
                    self.call_uds(&session).await;
                    return Some(session);
                }
                Err(reason) => {
                    self.tracer.emit(Happening::LoginFailed { user: self.config.user.clone(), reason });
                    clock::sleep(RETRY_DELAY).await;
                }
            }
        }
        None
    }

    async fn authorization_code_grant(&self) -> Result<Session, String> {
        let config = &self.config;
        let authorize = AuthorizeRequest { user: config.user.clone(), client_id: config.name.clone() };
        let response = Call::post(&config.publisher, HTTPS_PORT, AUTHORIZE_PATH, &config.name, &authorize)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let code = response.decode::<AuthorizeResponse>().map_err(|e| e.to_string())?.code;
        let grant = TokenRequest::AuthorizationCode { code };
        let response = Call::post(&config.publisher, HTTPS_PORT, TOKEN_PATH, &config.name, &grant)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status != StatusCode::OK {
            return Err(error_reason(&response.body));
        }
        let tokens = response.decode::<TokenResponse>().map_err(|e| e.to_string())?;
        let refresh_token = tokens.refresh_token.ok_or("no refresh token in the grant")?;
        self.tracer.emit(Happening::LoggedIn {
            user: config.user.clone(),
            access_tid: tokens.access_tid.clone(),
            refresh_tid: tokens.refresh_tid.unwrap_or_default(),
        });
        Ok(Session {
            access_token: tokens.access_token,
            refresh_token,
            refresh_at_s: self.refresh_at(tokens.expires_in),
        })
    }

    fn refresh_at(&self, expires_in_s: u64) -> u64 {
        self.now_s() + expires_in_s - expires_in_s / REFRESH_WHEN_LEFT_DIVISOR
    }

    /// A new access token from the refresh token or, when AuthZ refuses it, a new sign-in.
    async fn renew(&self, session: &Session) -> Option<Session> {
        let config = &self.config;
        let grant = TokenRequest::RefreshToken { refresh_token: session.refresh_token.clone() };
        let outcome =
            Call::post(&config.publisher, HTTPS_PORT, TOKEN_PATH, &config.name, &grant).send().await;
        let refused = match outcome {
            Ok(response) if response.status == StatusCode::OK => match response.decode::<TokenResponse>() {
                Ok(tokens) => {
                    self.tracer.emit(Happening::TokenRefreshed { access_tid: tokens.access_tid.clone() });
                    return Some(Session {
                        access_token: tokens.access_token,
                        refresh_token: session.refresh_token.clone(),
                        refresh_at_s: self.refresh_at(tokens.expires_in),
                    });
                }
                Err(e) => e.to_string(),
            },
            Ok(response) => error_reason(&response.body),
            Err(e) => e.to_string(),
        };
        self.tracer
            .emit(Happening::RefreshFailed { message: REFRESH_FAILURE_LOG.to_string(), reason: refused });
        self.sign_in().await
    }

    async fn call_uds(&self, session: &Session) {
        let config = &self.config;
        let call =
            Call::get(&config.subscriber, HTTPS_PORT, UDS_PATH, &config.name).bearer(&session.access_token);
        match call.send().await {
            Ok(response) if response.status == StatusCode::OK => {}
            Ok(response) => self.tracer.emit(Happening::UdsFailed {
                status: Some(response.status.as_u16()),
                reason: error_reason(&response.body),
            }),
            Err(e) => self.tracer.emit(Happening::UdsFailed { status: None, reason: e.to_string() }),
        }
    }

    /// One voicemail poll, renewing the token when Unity refuses it. `false` when the client
    /// lost its session (sign-in failed).
    async fn poll_voicemail(&self, session: &mut Session) -> bool {
        let Some(unity) = self.config.unity.as_deref() else {
            return true;
        };
        for attempt in 1..=VOICEMAIL_ATTEMPTS_MAX {
            let call = Call::post(unity, HTTPS_PORT, VOICEMAIL_LOGIN_PATH, &self.config.name, &())
                .bearer(&session.access_token);
            match call.send().await {
                Ok(response) if response.status == StatusCode::OK => return true,
                Ok(response) if response.status == StatusCode::UNAUTHORIZED => {
                    self.tracer.emit(Happening::VoicemailLoginFailed {
                        attempt: Some(attempt),
                        reason: Some(error_reason(&response.body)),
                        status: None,
                    });
                    match self.renew(session).await {
                        Some(renewed) => *session = renewed,
                        None => return false,
                    }
                }
                Ok(response) => self.tracer.emit(Happening::VoicemailLoginFailed {
                    attempt: None,
                    reason: None,
                    status: Some(response.status.as_u16()),
                }),
                Err(e) => self.tracer.emit(Happening::VoicemailUnreachable { reason: e.to_string() }),
            }
            clock::sleep(RETRY_DELAY).await;
        }
        true
    }
}

/// The `reason` (or `error`) of an error body, or the body's first bytes.
fn error_reason(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            value.get("reason").or_else(|| value.get("error")).and_then(|v| v.as_str()).map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned())
}
