//! A client's side of the grant flows: sign in (through the identity provider when the
//! cluster uses SSO), then the authorization-code grant with a refresh token or the implicit
//! grant with an access token only, and renew before the access token expires.
//!
//! A client that knows the refresh login flow asks for it first; AuthZ refuses a grant it
//! does not offer before the user signs in (`unsupported_response_type`), and the client
//! falls back to the implicit grant with the same sign-in (docs/domain.md: new clients check
//! whether the cluster supports the new flow). It asks again at every sign-in, so a flow
//! enabled later is taken up at the next one. Assumption: the documents do not say how the
//! client checks; asking the authorization endpoint is OAuth's own way.

use std::time::Duration;

use hyper::StatusCode;

use crate::certs::phone_edge_trust::PHONE_EDGE_TRUST;
use crate::clock;
use crate::node_id::NodeId;
use crate::proto::authz::*;
use crate::proto::http::{Call, HttpResponse, NetError};
use crate::proto::keep_alive::KeptConnections;
use crate::proto::sso::{IdpLoginRequest, IdpLoginResponse, IDP_LOGIN_PATH, IDP_PORT};
use crate::proto::tftp::{read_trust_list, PHONE_EDGE_TRUST_PATH, TFTP_HTTPS_PORT};
use crate::scenario::ClientKind;
use crate::trace::{Happening, Tracer};

/// What Jabber logs when AuthZ refuses its refresh token (`SingleSignOn.cpp`,
/// `handleRefreshTokenFailure`, in the seed documents).
pub const REFRESH_FAILURE_LOG: &str =
    "Failed to get valid access token from refresh token, maybe server issue.";
/// The prefix of that line in Jabber's log, after the time: level, thread, source file and
/// line, logger and function, exactly as in the documents' sample
/// (`2021-03-30 14:21:49,631 WARN [0x0000264c] [vices\impl\system\SingleSignOn.cpp(1186)] …`).
/// Assumption: every client logs from the sample's thread id.
pub const REFRESH_FAILURE_PREFIX: &str = "WARN [0x0000264c] [vices\\impl\\system\\SingleSignOn.cpp(1186)] \
     [Single-Sign-On-Logger] [CSFUnified::SingleSignOn::Impl::handleRefreshTokenFailure] - ";

/// The whole line Jabber logs when its refresh is refused, stamped by the client's own clock.
pub fn refresh_failure_line(now_ms: u64) -> String {
    format!("{} {REFRESH_FAILURE_PREFIX}{REFRESH_FAILURE_LOG}", jabber_log_stamp(now_ms))
}

/// The prefix of the line Jabber logs when it has read its configuration file, exactly as in
/// the documents' sample of a SIP OAuth registration on 5090 (`2020-03-30 13:03:18,278 DEBUG
/// [0x000012d8] [src\callcontrol\ServicesManager.cpp(993)] …`). Assumption: every client logs
/// from the sample's thread id.
pub const FETCH_DEVICE_CONFIG_PREFIX: &str =
    "DEBUG [0x000012d8] [src\\callcontrol\\ServicesManager.cpp(993)] \
     [csf.ecc] [csf::ecc::ServicesManager::fetchDeviceConfig] - ";

/// The whole line Jabber logs when it has read `device`'s configuration file.
pub fn fetch_device_config_line(now_ms: u64, device: &str) -> String {
    format!(
        "{} {FETCH_DEVICE_CONFIG_PREFIX}fetchDeviceConfig() retrieved config for {device}",
        jabber_log_stamp(now_ms)
    )
}

/// A Jabber log line's time, `YYYY-MM-DD HH:MM:SS,mmm` by the client's own clock (UTC: the
/// client's time zone is not modelled).
fn jabber_log_stamp(now_ms: u64) -> String {
    i64::try_from(now_ms / 1000)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map_or_else(
            || format!("@{now_ms}"),
            |at| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
                    at.year(),
                    u8::from(at.month()),
                    at.day(),
                    at.hour(),
                    at.minute(),
                    at.second(),
                    now_ms % 1000
                )
            },
        )
}

/// Pause before trying a refused request again.
pub const RETRY_DELAY: Duration = Duration::from_secs(30);
/// Tries of one sign-in before the client gives up until its next poll.
pub const LOGIN_ATTEMPTS_MAX: u32 = 10;
/// The access token is renewed once this fraction of its lifetime is left (1/5): with a
/// refresh token, or in the implicit grant by signing in again. Assumption: the documents
/// give no client timing.
pub const REFRESH_WHEN_LEFT_DIVISOR: u64 = 5;

/// One client's fixed settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The device name, e.g. `jabber-1`; also its OAuth `client_id`.
    pub name: NodeId,
    pub user: String,
    pub kind: ClientKind,
    pub publisher: NodeId,
    /// The CallManager node the client is homed on.
    pub subscriber: NodeId,
    /// Where it reads its TFTP files: its home node, or a phone's proxy TFTP.
    pub tftp: NodeId,
    pub unity: Option<NodeId>,
    /// The IM and Presence node the client is homed on, if the cluster has any.
    pub imp: Option<NodeId>,
    /// The certificates the device trusts (shared by every device of the run).
    pub device_trust: crate::certs::DeviceTrust,
    /// The identity provider, when the cluster uses SSO.
    pub idp: Option<NodeId>,
    /// Expressway-E, for a remote device: every request for the cluster goes through it.
    pub edge: Option<NodeId>,
    /// Whether the device registers over SIP (the cluster has `[cluster.sip]`).
    pub sip: bool,
    /// A phone's activation code (a secret), when it onboards by code.
    pub activation_code: Option<String>,
    /// Whether a phone asks AuthZ for tokens: from release 14 ("OAuth Access Token for
    /// Devices"). Before, it registers without one.
    pub phone_oauth: bool,
    /// A phone's model; empty for other devices.
    pub model: String,
    /// What wakes a phone when the administrator resets it.
    pub reset: Option<std::rc::Rc<tokio::sync::Notify>>,
    pub epoch_s: u64,
    pub start_delay: Duration,
}

/// The tokens a signed-in client holds (they never leave the client's memory but for the
/// requests that carry them).
pub struct Session {
    pub access_token: String,
    /// `None` in the implicit grant: renewing means signing in again.
    pub refresh_token: Option<String>,
    pub renew_at_s: u64,
}

/// What the authorization endpoint answered.
enum Authorized {
    Code(String),
    Token(TokenResponse),
    /// The grant asked for is not offered here, and why.
    Unsupported(String),
}

/// A client program's identity and trace.
pub struct Client {
    pub config: ClientConfig,
    pub tracer: Tracer,
    /// The phone-edge-trust a phone last read from its TFTP: kept when TFTP cannot be
    /// reached, as a phone keeps its trust lists in flash (assumption).
    phone_edge_trust: std::cell::RefCell<Option<Vec<crate::certs::Certificate>>>,
    /// The HTTP connections it keeps open on premises (sign-in, refresh, IM, voicemail).
    pub kept: KeptConnections,
}

impl Client {
    pub fn new(config: ClientConfig, tracer: Tracer) -> Client {
        Client {
            config,
            tracer,
            phone_edge_trust: std::cell::RefCell::default(),
            kept: KeptConnections::default(),
        }
    }

    pub fn now_s(&self) -> u64 {
        clock::node_now_s(&self.config.name, self.config.epoch_s)
    }

    /// Signs in, trying again after [`RETRY_DELAY`] up to [`LOGIN_ATTEMPTS_MAX`] times.
    pub async fn sign_in(&self) -> Option<Session> {
        for _ in 0..LOGIN_ATTEMPTS_MAX {
            match self.log_in_once().await {
                Ok(session) => return Some(session),
                Err(reason) => {
                    self.tracer.emit(Happening::LoginFailed { user: self.config.user.clone(), reason });
                    clock::sleep(RETRY_DELAY).await;
                }
            }
        }
        None
    }

    async fn log_in_once(&self) -> Result<Session, String> {
        let assertion = match &self.config.idp {
            Some(idp) => Some(self.idp_login(idp).await?),
            None => None,
        };
        if self.config.kind.knows_refresh_flow() {
            match self.authorize(ResponseType::Code, assertion.clone()).await? {
                Authorized::Code(code) => return self.exchange_code(code).await,
                Authorized::Unsupported(reason) => self.tracer.emit(Happening::LoginFlowFallback { reason }),
                Authorized::Token(_) => return Err("a token where a code was asked for".to_string()),
            }
        }
        match self.authorize(ResponseType::Token, assertion).await? {
            Authorized::Token(tokens) => {
                self.tracer.emit(Happening::LoggedIn {
                    user: self.config.user.clone(),
                    access_tid: tokens.access_tid.clone(),
                    refresh_tid: None,
                    grant: Some("implicit".to_string()),
                });
                Ok(Session {
                    access_token: tokens.access_token,
                    refresh_token: None,
                    renew_at_s: self.renew_at(tokens.expires_in),
                })
            }
            Authorized::Unsupported(reason) => Err(reason),
            Authorized::Code(_) => Err("a code where a token was asked for".to_string()),
        }
    }

    /// SSO: the user authenticates at the identity provider; the client gets an assertion.
    async fn idp_login(&self, idp: &NodeId) -> Result<String, String> {
        let config = &self.config;
        let login = IdpLoginRequest { user: config.user.clone(), client_id: config.name.to_string() };
        let response = Call::post(idp, IDP_PORT, IDP_LOGIN_PATH, &config.name, &login)
            .send()
            .await
            .map_err(|e| format!("identity provider: {e}"))?;
        if response.status != StatusCode::OK {
            return Err(format!("identity provider: {}", error_reason(&response.body)));
        }
        Ok(response.decode::<IdpLoginResponse>().map_err(|e| e.to_string())?.assertion)
    }

    async fn authorize(
        &self,
        response_type: ResponseType,
        assertion: Option<String>,
    ) -> Result<Authorized, String> {
        let config = &self.config;
        let authorize = AuthorizeRequest {
            user: config.user.clone(),
            client_id: config.name.to_string(),
            response_type,
            assertion,
        };
        let response = Call::post(&config.publisher, HTTPS_PORT, AUTHORIZE_PATH, &config.name, &authorize)
            .send_via_kept(config.edge.as_ref(), &self.kept)
            .await
            .map_err(|e| e.to_string())?;
        if response.status != StatusCode::OK {
            return match serde_json::from_slice::<OAuthError>(&response.body) {
                Ok(error) if error.error == UNSUPPORTED_RESPONSE_TYPE => {
                    Ok(Authorized::Unsupported(error.reason))
                }
                _ => Err(error_reason(&response.body)),
            };
        }
        match response_type {
            ResponseType::Code => {
                Ok(Authorized::Code(response.decode::<AuthorizeResponse>().map_err(|e| e.to_string())?.code))
            }
            ResponseType::Token => {
                Ok(Authorized::Token(response.decode::<TokenResponse>().map_err(|e| e.to_string())?))
            }
        }
    }

    async fn exchange_code(&self, code: String) -> Result<Session, String> {
        let grant = TokenRequest::AuthorizationCode { code };
        self.token_grant(&grant, None).await
    }

    /// Asks the publisher's token endpoint for an access and a refresh token with `grant`
    /// (logged in the trace as `grant_name`, or as the authorization-code grant).
    pub async fn token_grant(
        &self,
        grant: &TokenRequest,
        grant_name: Option<&str>,
    ) -> Result<Session, String> {
        let config = &self.config;
        let call = Call::post(&config.publisher, HTTPS_PORT, TOKEN_PATH, &config.name, grant);
        let response = self.send_token_request(call).await.map_err(|e| e.to_string())?;
        if response.status != StatusCode::OK {
            return Err(error_reason(&response.body));
        }
        let tokens = response.decode::<TokenResponse>().map_err(|e| e.to_string())?;
        let refresh_token = tokens.refresh_token.ok_or("no refresh token in the grant")?;
        self.tracer.emit(Happening::LoggedIn {
            user: config.user.clone(),
            access_tid: tokens.access_tid.clone(),
            refresh_tid: Some(tokens.refresh_tid.unwrap_or_default()),
            grant: grant_name.map(str::to_string),
        });
        Ok(Session {
            access_token: tokens.access_token,
            refresh_token: Some(refresh_token),
            renew_at_s: self.renew_at(tokens.expires_in),
        })
    }

    /// Sends a token request: through the edge for a remote device; over TLS for a phone on
    /// premises, which checks Cisco Tomcat's certificate against the phone-edge-trust it
    /// reads from its TFTP first (docs/domain.md "Phone-edge-trust"); plain for the others.
    async fn send_token_request(&self, call: Call<'_>) -> Result<HttpResponse, NetError> {
        let config = &self.config;
        if config.kind != ClientKind::Phone || config.edge.is_some() {
            return call.send_via_kept(config.edge.as_ref(), &self.kept).await;
        }
        let read = read_trust_list(&config.tftp, TFTP_HTTPS_PORT, PHONE_EDGE_TRUST_PATH, &config.name).await;
        let trust = match (read, self.phone_edge_trust.borrow().clone()) {
            (Ok(trust), _) => trust,
            (Err(_), Some(kept)) => kept,
            (Err(reason), None) => return Err(NetError::Protocol(format!("{PHONE_EDGE_TRUST}: {reason}"))),
        };
        *self.phone_edge_trust.borrow_mut() = Some(trust.clone());
        let connector = crate::proto::tls::connector(&config.name, config.epoch_s, &trust, None)
            .map_err(NetError::Tls)?;
        call.send_tls(&connector).await
    }

    pub fn renew_at(&self, expires_in_s: u64) -> u64 {
        self.now_s() + expires_in_s - expires_in_s / REFRESH_WHEN_LEFT_DIVISOR
    }

    /// A new access token from the refresh token, asked of the AuthZ of the client's home
    /// CallManager node; `None` when the client must sign in again:
    /// AuthZ refused the refresh token (logged as Jabber logs it), or the session has none
    /// (the implicit grant: back to the identity provider).
    pub async fn refresh(&self, session: &Session) -> Option<Session> {
        let refresh_token = session.refresh_token.as_ref()?;
        let config = &self.config;
        let grant = TokenRequest::RefreshToken { refresh_token: refresh_token.clone() };
        let outcome = self
            .send_token_request(Call::post(&config.subscriber, HTTPS_PORT, TOKEN_PATH, &config.name, &grant))
            .await;
        let refused = match outcome {
            Ok(response) if response.status == StatusCode::OK => match response.decode::<TokenResponse>() {
                Ok(tokens) => {
                    self.tracer.emit(Happening::TokenRefreshed { access_tid: tokens.access_tid.clone() });
                    return Some(Session {
                        access_token: tokens.access_token,
                        refresh_token: session.refresh_token.clone(),
                        renew_at_s: self.renew_at(tokens.expires_in),
                    });
                }
                Err(e) => e.to_string(),
            },
            Ok(response) => error_reason(&response.body),
            Err(e) => e.to_string(),
        };
        let line = refresh_failure_line(clock::node_now_ms(&self.config.name, self.config.epoch_s));
        self.tracer.emit(Happening::RefreshFailed {
            message: REFRESH_FAILURE_LOG.to_string(),
            line,
            reason: refused,
        });
        None
    }
}

/// The `reason` (or `error`) of an error body, or the body's first bytes.
pub fn error_reason(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            value.get("reason").or_else(|| value.get("error")).and_then(|v| v.as_str()).map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The German document's sample line (copied into the fixture), re-made from its time:
    /// everything after the time is the documents' text, byte for byte.
    #[test]
    fn the_refresh_failure_line_is_the_documents_line() {
        let sample = include_str!("../../../../tests/fixtures/seed-jabber-refresh-failure.log").trim_end();
        // 2021-03-30 14:21:49.631 UTC.
        assert_eq!(refresh_failure_line(1_617_114_109_631), sample);
    }

    /// Document 004's sample of Jabber's log for a SIP OAuth registration on 5090.
    #[test]
    fn the_fetch_device_config_line_is_the_documents_line() {
        let sample =
            include_str!("../../../../tests/fixtures/seed-jabber-fetch-device-config.log").trim_end();
        // 2020-03-30 13:03:18.278 UTC.
        assert_eq!(fetch_device_config_line(1_585_573_398_278, "CSFrado"), sample);
    }
}
