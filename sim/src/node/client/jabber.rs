//! A Jabber client: it signs in ([`login`](crate::node::client::login)), calls UDS on its
//! CallManager subscriber, then polls voicemail on Unity Connection every few minutes with
//! its access token. It renews the access token before expiry; when a service refuses its
//! token it renews at once.

use std::time::Duration;

use hyper::StatusCode;

use crate::certs::sync::{WireCertificate, PRESENTED_PATH};
use crate::certs::{Certificate, Identity};
use crate::clock;
use crate::node::client::login::{error_reason, Client, ClientConfig, Session, RETRY_DELAY};
use crate::node::client::registration;
use crate::node::imp::{BOSH_PATH, BOSH_PORT};
use crate::proto::authz::*;
use crate::proto::http::{Call, NetError};
use crate::proto::tls;
use crate::trace::{Happening, Tracer};

/// How often visual voicemail asks Unity Connection for news. Assumption (docs/domain.md: client
/// timing is not in the documents).
pub const VOICEMAIL_POLL_INTERVAL: Duration = Duration::from_secs(300);
/// Tries of one voicemail poll before waiting for the next poll.
pub const VOICEMAIL_ATTEMPTS_MAX: u32 = 3;

const _: () =
    assert!(RETRY_DELAY.as_secs() * VOICEMAIL_ATTEMPTS_MAX as u64 <= VOICEMAIL_POLL_INTERVAL.as_secs());

/// The client's program; it runs until the simulation ends.
pub async fn run(config: ClientConfig, tracer: Tracer) {
    clock::sleep(config.start_delay).await;
    let client = Client::new(config, tracer);
    let mut session = sign_in(&client).await;
    loop {
        clock::sleep(VOICEMAIL_POLL_INTERVAL).await;
        session = match session {
            Some(session) if client.now_s() >= session.renew_at_s => renew(&client, &session).await,
            Some(session) => Some(session),
            None => sign_in(&client).await,
        };
        if let Some(current) = session.as_mut() {
            if !poll_voicemail(&client, current).await {
                session = None;
            }
        }
    }
}

/// Sign-in, then UDS on the subscriber and the XMPP session on IM and Presence.
async fn sign_in(client: &Client) -> Option<Session> {
    let session = client.sign_in().await?;
    call_uds(client, &session).await;
    im_login(client, &session).await;
    registration::register(client, &session).await;
    Some(session)
}

/// Opens the XMPP session (BOSH) on the client's IM and Presence node with its token, once
/// the certificate the node presents (`cup-xmpp.pem`) is one the device trusts; otherwise
/// Jabber shows the untrusted-certificate pop-up and does not send its token.
///
/// Remote Jabber (through the edge) signs in, refreshes, calls UDS and registers over SIP;
/// its IM and voicemail are not modelled through the edge (a departure: the real edge
/// carries XMPP and voicemail too).
async fn im_login(client: &Client, session: &Session) {
    let Some(imp) = client.config.imp.as_ref().filter(|_| client.config.edge.is_none()) else { return };
    let presented =
        Call::get(imp, BOSH_PORT, PRESENTED_PATH, &client.config.name).send_kept(&client.kept).await;
    let presented = match presented {
        Ok(response) if response.status == StatusCode::OK => response
            .decode::<WireCertificate>()
            .map_err(|e| e.to_string())
            .and_then(|wire| wire.certificate()),
        Ok(response) => {
            return client.tracer.emit(Happening::ImLoginFailed {
                status: Some(response.status.as_u16()),
                reason: error_reason(&response.body),
            })
        }
        Err(e) => Err(e.to_string()),
    };
    match presented {
        Ok(certificate) if client.config.device_trust.trusts(&certificate) => {}
        Ok(certificate) => {
            return client.tracer.emit(Happening::UntrustedCertificate {
                host: imp.to_string(),
                certificate: certificate.identity.file(),
                serial: certificate.serial,
            })
        }
        Err(reason) => return client.tracer.emit(Happening::ImLoginFailed { status: None, reason }),
    }
    let call = Call::post(imp, BOSH_PORT, BOSH_PATH, &client.config.name, &()).bearer(&session.access_token);
    match call.send_kept(&client.kept).await {
        Ok(response) if response.status == StatusCode::OK => {}
        Ok(response) => client.tracer.emit(Happening::ImLoginFailed {
            status: Some(response.status.as_u16()),
            reason: error_reason(&response.body),
        }),
        Err(e) => client.tracer.emit(Happening::ImLoginFailed { status: None, reason: e.to_string() }),
    }
}

/// A new access token: refreshed (and the XMPP session re-authenticated with it), or else
/// from a new sign-in. Assumption: Jabber re-authenticates its XMPP session with each new
/// access token; the documents do not say.
async fn renew(client: &Client, session: &Session) -> Option<Session> {
    match client.refresh(session).await {
        Some(renewed) => {
            im_login(client, &renewed).await;
            registration::register(client, &renewed).await;
            Some(renewed)
        }
        None => sign_in(client).await,
    }
}

/// UDS on the client's home subscriber with its token. On premises Jabber checks the
/// `tomcat.pem` Cisco Tomcat presents against the device's trust store first (the Korean
/// certificate document: Jabber validates the CallManager Tomcat certificate); one it does
/// not trust gives the untrusted-certificate pop-up and the token is not sent. Through the
/// edge the request goes as before (the edge's own TLS is not modelled).
async fn call_uds(client: &Client, session: &Session) {
    let config = &client.config;
    let call =
        Call::get(&config.subscriber, HTTPS_PORT, UDS_PATH, &config.name).bearer(&session.access_token);
    let outcome = match config.edge.as_ref() {
        Some(edge) => call.send_via(Some(edge)).await,
        None => match tls::recording_connector(&config.name, config.epoch_s, &config.device_trust.roots()) {
            Ok((connector, presented)) => {
                let outcome = call.send_tls(&connector).await;
                if let (Err(_), Some(der)) = (&outcome, presented.refused()) {
                    return untrusted_tomcat(client, &der);
                }
                outcome
            }
            Err(reason) => Err(NetError::Tls(reason)),
        },
    };
    match outcome {
        Ok(response) if response.status == StatusCode::OK => {}
        Ok(response) => client.tracer.emit(Happening::UdsFailed {
            status: Some(response.status.as_u16()),
            reason: error_reason(&response.body),
        }),
        Err(e) => client.tracer.emit(Happening::UdsFailed { status: None, reason: e.to_string() }),
    }
}

/// The pop-up for the `tomcat.pem` (DER) the home subscriber presented.
fn untrusted_tomcat(client: &Client, der: &[u8]) {
    let event = match Certificate::from_der(Identity::Tomcat, der) {
        Ok(certificate) => Happening::UntrustedCertificate {
            host: client.config.subscriber.to_string(),
            certificate: certificate.identity.file(),
            serial: certificate.serial,
        },
        Err(reason) => Happening::UdsFailed { status: None, reason },
    };
    client.tracer.emit(event);
}

/// One voicemail poll, renewing the token when Unity refuses it. `false` when the client
/// lost its session (sign-in failed).
async fn poll_voicemail(client: &Client, session: &mut Session) -> bool {
    let Some(unity) = client.config.unity.as_ref().filter(|_| client.config.edge.is_none()) else {
        return true;
    };
    for attempt in 1..=VOICEMAIL_ATTEMPTS_MAX {
        let call = Call::post(unity, HTTPS_PORT, VOICEMAIL_LOGIN_PATH, &client.config.name, &())
            .bearer(&session.access_token);
        match call.send_kept(&client.kept).await {
            Ok(response) if response.status == StatusCode::OK => return true,
            Ok(response) if response.status == StatusCode::UNAUTHORIZED => {
                client.tracer.emit(Happening::VoicemailLoginFailed {
                    attempt: Some(attempt),
                    reason: Some(error_reason(&response.body)),
                    status: None,
                });
                match renew(client, session).await {
                    Some(renewed) => *session = renewed,
                    None => return false,
                }
            }
            Ok(response) => client.tracer.emit(Happening::VoicemailLoginFailed {
                attempt: None,
                reason: None,
                status: Some(response.status.as_u16()),
            }),
            Err(e) => client.tracer.emit(Happening::VoicemailUnreachable { reason: e.to_string() }),
        }
        clock::sleep(RETRY_DELAY).await;
    }
    true
}
