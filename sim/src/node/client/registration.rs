//! A device's SIP registration (docs/domain.md "SIP OAuth mode"): it reads its configuration file
//! from its home node's TFTP and registers where the file says: with SIP OAuth, over TLS on
//! the SIP Phone OAuth Port with its access token in the REGISTER; without, on legacy 5060.
//! A remote device asks the edge instead, which registers it on the node's MRA port.
//!
//! Trust for the OAuth port's certificate: Jabber trusts what the administrator pushed to the
//! devices (`DeviceTrust`); a phone trusts the Identity Trust List it reads from TFTP, which
//! holds each subscriber's current `tomcat.pem`. Assumption: phones take the new list at
//! their next registration.

use crate::node::client::login::{error_reason, fetch_device_config_line, Client, Session};
use crate::node_id::NodeId;
use crate::phone_security::registration_refusal;
use crate::proto::edge::{EdgeRegister, EdgeRegistered, EDGE_PORT, EDGE_REGISTER_PATH};
use crate::proto::http::Call;
use crate::proto::sip::{self, AskFailure, Register, SIP_PORT};
use crate::proto::tftp::{
    config_path, read_trust_list, DeviceConfig, ITL_PATH, TFTP_HTTPS_PORT, TFTP_HTTP_PORT,
};
use crate::proto::tls;
use crate::scenario::ClientKind;
use crate::trace::Happening;

/// The source port a device's Via names (the documents' sample shows an ephemeral port;
/// turmoil does not expose the real one to the application).
const VIA_PORT: u16 = 50347;

/// Registers the device with its current access token, if the cluster registers over SIP.
pub async fn register(client: &Client, session: &Session) {
    if !client.config.sip {
        return;
    }
    match client.config.edge.as_ref() {
        Some(edge) => register_through_edge(client, session, edge).await,
        None => register_direct(client, Some(session)).await,
    }
}

/// Registers a phone that holds no token (before release 14 phones ask AuthZ for none): as
/// its configuration file says, which on those releases never says SIP OAuth for a phone.
pub async fn register_without_token(client: &Client) {
    if client.config.sip {
        register_direct(client, None).await;
    }
}

async fn register_direct(client: &Client, session: Option<&Session>) {
    let config = &client.config;
    let failed = |port: Option<u16>, reason: String, line: Option<String>, alert: Option<String>| {
        client.tracer.emit(Happening::RegistrationFailed {
            port,
            via: "direct".to_string(),
            reason,
            line,
            alert,
        })
    };
    let phone = config.kind == ClientKind::Phone;
    let tftp_port = if phone { TFTP_HTTPS_PORT } else { TFTP_HTTP_PORT };
    let path = config_path(config.name.as_str());
    let file = match Call::get(&config.tftp, tftp_port, &path, &config.name).send().await {
        Ok(response) if response.status.is_success() => response.body,
        Ok(response) => return failed(None, format!("{path}: {}", error_reason(&response.body)), None, None),
        Err(e) => return failed(None, format!("{path}: {e}"), None, None),
    };
    let device_config =
        match std::str::from_utf8(&file).map_err(|e| e.to_string()).and_then(DeviceConfig::from_xml) {
            Ok(device_config) => device_config,
            Err(reason) => return failed(None, format!("{path}: {reason}"), None, None),
        };
    if config.kind != ClientKind::Phone {
        let now_ms = crate::clock::node_now_ms(&config.name, config.epoch_s);
        client.tracer.emit(Happening::DeviceConfigFetched {
            line: fetch_device_config_line(now_ms, config.name.as_str()),
        });
    }
    let register = Register::new(
        config.name.as_str(),
        &config.user,
        None,
        config.name.as_str(),
        VIA_PORT,
        branch(client),
    );
    // A phone with SIP OAuth on in the file but a model without it, or reset with an
    // Encrypted or Authenticated profile without OAuth, cannot register (`phone_security`).
    if let Some(mode) = device_config.device_security_mode.filter(|_| phone) {
        if let Some(reason) = registration_refusal(&config.model, mode, device_config.sip_oauth_mode) {
            let port = device_config.sip_oauth_mode.then_some(device_config.sip_oauth_port);
            return failed(port, reason, None, None);
        }
    }
    if !device_config.sip_oauth_mode {
        return register_legacy(client, register).await;
    }
    let port = device_config.sip_oauth_port;
    let Some(session) = session else {
        return failed(
            Some(port),
            "the file says SIP OAuth but the device holds no access token".to_string(),
            None,
            None,
        );
    };
    let trust = if phone {
        match read_trust_list(&config.tftp, tftp_port, ITL_PATH, &config.name).await {
            Ok(trust) => trust,
            Err(reason) => return failed(Some(port), reason, None, None),
        }
    } else {
        config.device_trust.roots()
    };
    let register = Register { bearer: Some(session.access_token.clone()), ..register };
    let outcome = async {
        let connector =
            tls::connector(&config.name, config.epoch_s, &trust, None).map_err(AskFailure::Other)?;
        let bytes = register.to_bytes(config.subscriber.as_str(), port).map_err(AskFailure::Other)?;
        sip::ask_over_tls(&connector, config.subscriber.as_str(), port, &bytes).await
    };
    report(client, port, outcome.await);
}

/// What came of a direct registration on `port`, in the trace.
fn report(client: &Client, port: u16, outcome: Result<(u16, String), AskFailure>) {
    let via = "direct".to_string();
    let (reason, line, alert) = match outcome {
        Ok((200, _)) => return client.tracer.emit(Happening::Registered { port, via }),
        Ok((status, line)) => (format!("SIP {status}"), Some(line), None),
        Err(AskFailure::Tls(failure)) => (failure.to_string(), None, failure.alert().map(str::to_string)),
        Err(AskFailure::Other(reason)) => (reason, None, None),
    };
    client.tracer.emit(Happening::RegistrationFailed { port: Some(port), via, reason, line, alert });
}

/// SIP OAuth off: the legacy port, no token (the device's certificate or digest would be
/// checked here in a real cluster; not modelled).
async fn register_legacy(client: &Client, register: Register) {
    let config = &client.config;
    let outcome = async {
        crate::clock::note_sent();
        let stream =
            turmoil::net::TcpStream::connect((config.subscriber.as_str(), SIP_PORT)).await.map_err(|e| {
                AskFailure::Other(format!("cannot connect to {}:{SIP_PORT}: {e}", config.subscriber))
            })?;
        let mut stream = crate::proto::metered::Metered::new(stream);
        let bytes = register.to_bytes(config.subscriber.as_str(), SIP_PORT).map_err(AskFailure::Other)?;
        sip::ask(&mut stream, &bytes).await
    };
    report(client, SIP_PORT, outcome.await);
}

async fn register_through_edge(client: &Client, session: &Session, edge: &NodeId) {
    let config = &client.config;
    let body = EdgeRegister { home: config.subscriber.to_string(), user: config.user.clone() };
    let call =
        Call::post(edge, EDGE_PORT, EDGE_REGISTER_PATH, &config.name, &body).bearer(&session.access_token);
    let outcome = match call.send().await {
        Ok(response) if response.status.is_success() => {
            response.decode::<EdgeRegistered>().map_err(|e| e.to_string())
        }
        Ok(response) => Err(format!("edge: {}", error_reason(&response.body))),
        Err(e) => Err(format!("edge: {e}")),
    };
    let via = "edge".to_string();
    match outcome {
        Ok(EdgeRegistered { status: Some(200), port: Some(port), .. }) => {
            client.tracer.emit(Happening::Registered { port, via })
        }
        Ok(EdgeRegistered { status, port, line, alert, reason }) => {
            let reason = reason.or_else(|| status.map(|status| format!("SIP {status}"))).unwrap_or_default();
            client.tracer.emit(Happening::RegistrationFailed { port, via, reason, line, alert })
        }
        Err(reason) => client.tracer.emit(Happening::RegistrationFailed {
            port: None,
            via,
            reason,
            line: None,
            alert: None,
        }),
    }
}

/// A Via branch from the device's clock: unique per registration, deterministic per run.
fn branch(client: &Client) -> u64 {
    crate::clock::node_now_ms(&client.config.name, client.config.epoch_s)
}
