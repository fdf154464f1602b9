//! The Real-Time Monitoring Tool: an administrator's client that signs in with the implicit
//! grant only (the documents: the implicit flow is kept so that clients such as RTMT keep
//! working) and queries a CallManager node's counters (PerfmonService) with its token. In the
//! implicit grant there is no refresh token: every expiry is a new login at the identity
//! provider.

use std::time::Duration;

use hyper::StatusCode;

use crate::clock;
use crate::node::client::login::{error_reason, Client, ClientConfig, Session};
use crate::proto::authz::*;
use crate::proto::http::Call;
use crate::trace::{Happening, Tracer};

/// How often RTMT queries the counters. Assumption: RTMT's own polling is configurable and
/// not in the documents; five minutes keeps its events few.
pub const PERFMON_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// The tool's program; it runs until the simulation ends.
pub async fn run(config: ClientConfig, tracer: Tracer) {
    clock::sleep(config.start_delay).await;
    let client = Client::new(config, tracer);
    let mut session = client.sign_in().await;
    loop {
        if let Some(current) = &session {
            if !query_counters(&client, current).await {
                // Refused (expired, or unknown to its issuer): sign in again at once.
                session = client.sign_in().await;
            }
        }
        clock::sleep(PERFMON_POLL_INTERVAL).await;
        session = match session {
            Some(current) if client.now_s() >= current.renew_at_s => match client.refresh(&current).await {
                Some(renewed) => Some(renewed),
                None => client.sign_in().await,
            },
            Some(current) => Some(current),
            None => client.sign_in().await,
        };
    }
}

/// One counter query; `false` when the node refused the token.
async fn query_counters(client: &Client, session: &Session) -> bool {
    let config = &client.config;
    let call =
        Call::get(&config.subscriber, HTTPS_PORT, PERFMON_PATH, &config.name).bearer(&session.access_token);
    match call.send().await {
        Ok(response) if response.status == StatusCode::OK => true,
        Ok(response) => {
            client.tracer.emit(Happening::PerfmonFailed {
                status: Some(response.status.as_u16()),
                reason: error_reason(&response.body),
            });
            response.status != StatusCode::UNAUTHORIZED
        }
        Err(e) => {
            client.tracer.emit(Happening::PerfmonFailed { status: None, reason: e.to_string() });
            true
        }
    }
}
