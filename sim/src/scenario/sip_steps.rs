//! SIP OAuth and the edge in a scenario: `[cluster.sip]`, `[cluster.expressway]`, and the
//! steps `sip-oauth-mode`, `set-sip-ports`, `refresh-expressway` and
//! `reissue-expressway-certificate`, checked.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::action::ActionName;
use super::duration::{format_duration, SimDuration};
use super::file::{ClusterFile, StepFile};
use super::{
    Action, Cluster, Device, DeviceTokens, ExpresswayCluster, ProxyTftp, Release, ScenarioError, SipCluster,
    EXCHANGE_TICKS_MAX, EXPRESSWAY_VALIDATOR_DEFAULT, REQUEST_TIMEOUT, SAN_CHARS_MAX, SAN_ENTRIES_MAX,
    SIP_VALIDATOR_DEFAULT,
};
use crate::node_id::NodeId;
use crate::phone_security::ProfileChange;
use crate::proto::sip::{oauth_port_refusal, SIP_MRA_OAUTH_PORT, SIP_PHONE_OAUTH_PORT};

use super::error::{one_of_nodes, At};

/// Exchanges one request through the edge sets off in turn: the device to Expressway-E,
/// Expressway-E to Expressway-C, Expressway-C to the home node, and (a refresh) the home
/// node to the publisher.
pub const EDGE_EXCHANGES_PER_REQUEST_MAX: u32 = 4;
/// The largest tick with the edge: each of its exchanges must finish within the timeout.
pub const EDGE_TICK_MAX: Duration = Duration::from_millis(
    REQUEST_TIMEOUT.as_millis() as u64 / (EXCHANGE_TICKS_MAX * EDGE_EXCHANGES_PER_REQUEST_MAX) as u64 / 100
        * 100,
);

const _: () = assert!(
    EDGE_TICK_MAX.as_millis() * ((EXCHANGE_TICKS_MAX * EDGE_EXCHANGES_PER_REQUEST_MAX) as u128)
        <= REQUEST_TIMEOUT.as_millis()
);

/// `[cluster.sip]`, checked: ports in the documents' range; SIP OAuth on at the start only
/// with the refresh login flow (the documents: SIP OAuth requires it); SIP OAuth settings
/// only from the release that brought them.
pub(super) fn sip_cluster(
    cluster: &ClusterFile,
    refresh_login_flow: bool,
    release: Release,
    at: At<'_>,
) -> Result<Option<SipCluster>, ScenarioError> {
    let Some(sip) = &cluster.sip else { return Ok(None) };
    let sip = &sip.0;
    const SIP_OAUTH: (&str, Release) = ("SIP OAuth registration", Release::R12_5);
    let gates = [
        (sip.oauth.as_ref().filter(|oauth| *oauth.get_ref()).map(Spanned::span), "oauth", SIP_OAUTH),
        (sip.phone_oauth_port.as_ref().map(Spanned::span), "phone_oauth_port", SIP_OAUTH),
        (sip.mra_oauth_port.as_ref().map(Spanned::span), "mra_oauth_port", SIP_OAUTH),
        (
            sip.device_tokens.as_ref().map(Spanned::span),
            "device_tokens",
            ("\"OAuth Access Token for Devices\"", Release::R14),
        ),
        (
            sip.proxy_tftp.as_ref().filter(|proxy| *proxy.get_ref()).map(Spanned::span),
            "proxy_tftp",
            ("SIP OAuth phones behind a proxy TFTP", Release::R14Su1),
        ),
    ];
    for (span, name, (feature, from)) in gates {
        if let Some(span) = span.filter(|_| release < from) {
            return Err(at(span, &format!("cluster.sip.{name}"), release.too_old(feature, from)));
        }
    }
    let port = |value: &Option<Spanned<i64>>, name: &str, default: u16| -> Result<u16, ScenarioError> {
        match value {
            None => Ok(default),
            Some(port) => in_range(*port.get_ref()).ok_or_else(|| {
                at(port.span(), &format!("cluster.sip.{name}"), out_of_range(*port.get_ref()))
            }),
        }
    };
    let oauth = sip.oauth.as_ref().is_some_and(|oauth| *oauth.get_ref());
    if oauth && !refresh_login_flow {
        let span = sip.oauth.as_ref().map_or(0..0, Spanned::span);
        return Err(at(
            span,
            "cluster.sip.oauth",
            "SIP OAuth requires \"OAuth with Refresh Login Flow\" enabled (params.refresh_login_flow = true)"
                .to_string(),
        ));
    }
    let phone_oauth_port = port(&sip.phone_oauth_port, "phone_oauth_port", SIP_PHONE_OAUTH_PORT)?;
    let mra_oauth_port = port(&sip.mra_oauth_port, "mra_oauth_port", SIP_MRA_OAUTH_PORT)?;
    if phone_oauth_port == mra_oauth_port {
        let span = sip.mra_oauth_port.as_ref().or(sip.phone_oauth_port.as_ref()).map_or(0..0, Spanned::span);
        return Err(at(
            span,
            "cluster.sip.mra_oauth_port",
            format!("is the SIP Phone OAuth Port too ({phone_oauth_port}); the two ports differ"),
        ));
    }
    let proxy_tftp = sip.proxy_tftp.as_ref().is_some_and(|proxy| *proxy.get_ref());
    if let Some(copied) = sip.proxy_phone_edge_trust.as_ref().filter(|_| !proxy_tftp) {
        return Err(at(
            copied.span(),
            "cluster.sip.proxy_phone_edge_trust",
            "is the proxy TFTP's phone-edge-trust: add `proxy_tftp = true`".to_string(),
        ));
    }
    let proxy_tftp = proxy_tftp.then(|| ProxyTftp {
        roots_copied: sip.proxy_phone_edge_trust.as_ref().is_none_or(|copied| *copied.get_ref()),
    });
    Ok(Some(SipCluster {
        oauth,
        proxy_tftp,
        phone_oauth_port,
        mra_oauth_port,
        validator: sip
            .validator
            .as_ref()
            .map_or_else(|| SIP_VALIDATOR_DEFAULT.to_string(), |v| v.get_ref().clone()),
        device_tokens: sip.device_tokens.as_ref().map_or(DeviceTokens::Implicit, |tokens| *tokens.get_ref()),
        phone_edge_trust: sip.phone_edge_trust.unwrap_or(true),
    }))
}

/// `[cluster.expressway]`, checked: it needs SIP, a tick the edge's requests fit in, and SAN
/// entries that are DNS names.
pub(super) fn expressway_cluster(
    cluster: &ClusterFile,
    sip: bool,
    release: Release,
    tick: &Spanned<SimDuration>,
    at: At<'_>,
) -> Result<Option<ExpresswayCluster>, ScenarioError> {
    let Some(expressway) = &cluster.expressway else { return Ok(None) };
    let expressway = &expressway.0;
    if !release.has_sip_oauth() {
        return Err(at(
            0..0,
            "cluster.expressway",
            release.too_old("SIP OAuth through the edge (CEOAuth zones, the MRA port)", Release::R12_5),
        ));
    }
    if !sip {
        return Err(at(
            0..0,
            "cluster.expressway",
            "the edge carries SIP registrations: add [cluster.sip] too".to_string(),
        ));
    }
    if tick.get_ref().0 > EDGE_TICK_MAX {
        return Err(at(
            tick.span(),
            "tick",
            format!(
                "is at most {} with the edge ([cluster.expressway]): a request through it makes {} exchanges in turn, each within the {}s timeout",
                format_duration(EDGE_TICK_MAX),
                EDGE_EXCHANGES_PER_REQUEST_MAX,
                REQUEST_TIMEOUT.as_secs()
            ),
        ));
    }
    let san = match &expressway.san {
        None => vec![format!("{}.example.com", NodeId::EXPRESSWAY_C)],
        Some(san) => {
            check_san(san.get_ref()).map_err(|message| at(san.span(), "cluster.expressway.san", message))?
        }
    };
    Ok(Some(ExpresswayCluster {
        validator: expressway
            .validator
            .as_ref()
            .map_or_else(|| EXPRESSWAY_VALIDATOR_DEFAULT.to_string(), |v| v.get_ref().clone()),
        san,
        ca_in_tomcat_trust: expressway.ca_in_tomcat_trust.unwrap_or(true),
        trusts_callmanager: expressway.trusts_callmanager.unwrap_or(true),
        oauth_with_refresh: expressway.oauth_with_refresh.unwrap_or(true),
    }))
}

/// The CallManager subscriber a step's `node` names.
fn subscriber_node(
    step: &StepFile,
    field: &str,
    action: &str,
    cluster: &Cluster,
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<NodeId, ScenarioError> {
    let subscribers = cluster.cucm_subscriber_nodes();
    let Some(node) = &step.node else {
        return Err(at(action_span, field, format!("{action} needs `node = \"cucm-sub-N\"`")));
    };
    one_of_nodes(node.get_ref(), &subscribers).map_err(|hint| {
        at(
            node.span(),
            field,
            format!("{action} acts on a CallManager subscriber{hint}; here: {}", subscribers.join(", ")),
        )
    })
}

/// SAN entries: at most [`SAN_ENTRIES_MAX`] DNS names of letters, digits, `-` and `.`.
fn check_san(san: &[String]) -> Result<Vec<String>, String> {
    if san.len() > SAN_ENTRIES_MAX {
        return Err(format!("holds at most {SAN_ENTRIES_MAX} names"));
    }
    for name in san {
        let dns = !name.is_empty()
            && name.len() <= SAN_CHARS_MAX
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !name.starts_with(['.', '-'])
            && !name.ends_with(['.', '-']);
        if !dns {
            return Err(format!(
                "{name:?} is not a DNS name (letters, digits, '-' and '.', at most {SAN_CHARS_MAX})"
            ));
        }
    }
    Ok(san.to_vec())
}

fn in_range(port: i64) -> Option<u16> {
    match oauth_port_refusal(port) {
        None => u16::try_from(port).ok(),
        Some(_) => None,
    }
}

fn out_of_range(port: i64) -> String {
    format!("{port} is {}", oauth_port_refusal(port).unwrap_or_default())
}

/// The action of a SIP or edge step (`name` is one of them).
pub(super) fn sip_action(
    name: ActionName,
    step: &StepFile,
    index: usize,
    cluster: &Cluster,
    devices: &[Device],
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let field = |name: &str| format!("step[{index}].{name}");
    let action = name.name();
    if cluster.sip.is_none() {
        return Err(at(action_span, &field("action"), format!("{action} needs [cluster.sip]")));
    }
    let edge = || {
        if cluster.expressway.is_none() {
            return Err(at(
                action_span.clone(),
                &field("action"),
                format!("{action} needs [cluster.expressway]"),
            ));
        }
        Ok(())
    };
    let release = cluster.release;
    let gate = match name {
        ActionName::SipOauthMode | ActionName::SetSipPorts => {
            Some(("SIP OAuth registration", Release::R12_5))
        }
        ActionName::SaveExpresswayCEntry => Some(("the Device > Expressway-C page", Release::R12_5Su1)),
        ActionName::SetSecurityProfile if step.oauth_authentication.is_some() => {
            Some(("the phone security profile's \"Enable OAuth Authentication\"", Release::R14))
        }
        _ => None,
    };
    if let Some((feature, from)) = gate.filter(|(_, from)| release < *from) {
        return Err(at(action_span, &field("action"), release.too_old(feature, from)));
    }
    Ok(match name {
        ActionName::SipOauthMode => {
            match step.value.as_ref().map(|value| (value.get_ref().as_bool(), value.span())) {
                Some((Some(enabled), _)) => Action::SetSipOAuthMode(enabled),
                Some((None, span)) => {
                    return Err(at(span, &field("value"), "is true (enable) or false (disable)".to_string()))
                }
                None => {
                    return Err(at(
                        action_span,
                        &field("value"),
                        "sip-oauth-mode needs `value = true` (utils sipOAuth-mode enable) or `value = false`"
                            .to_string(),
                    ))
                }
            }
        }
        ActionName::ShowOpenPorts => {
            let node = subscriber_node(step, &field("node"), action, cluster, action_span.clone(), at)?;
            let port = match &step.port {
                Some(port) => u16::try_from(*port.get_ref())
                    .ok()
                    .filter(|port| *port > 0)
                    .ok_or_else(|| at(port.span(), &field("port"), "is a port, 1 to 65535".to_string()))?,
                None => {
                    return Err(at(
                        action_span,
                        &field("port"),
                        "show-open-ports needs `port = 5090` (show open ports regexp 5090)".to_string(),
                    ))
                }
            };
            Action::ShowOpenPorts { node, port }
        }
        ActionName::SetSipPorts => {
            let node = subscriber_node(step, &field("node"), action, cluster, action_span.clone(), at)?;
            let (phone_port, mra_port) = (
                step.phone_port.as_ref().map(|p| *p.get_ref()),
                step.mra_port.as_ref().map(|p| *p.get_ref()),
            );
            if phone_port.is_none() && mra_port.is_none() {
                return Err(at(
                    action_span,
                    &field("phone_port"),
                    "set-sip-ports needs `phone_port`, `mra_port` or both".to_string(),
                ));
            }
            // A port out of range is what the administrator types; the page refuses it at
            // run time, which the trace shows.
            Action::SetSipPorts { node, phone_port, mra_port }
        }
        ActionName::RefreshExpressway => {
            edge()?;
            Action::RefreshExpressway
        }
        ActionName::ReissueExpresswayCertificate => {
            edge()?;
            let Some(san) = &step.san else {
                return Err(at(
                    action_span,
                    &field("san"),
                    "reissue-expressway-certificate needs `san = [\"…\"]`".to_string(),
                ));
            };
            let san = check_san(san.get_ref()).map_err(|message| at(san.span(), &field("san"), message))?;
            Action::ReissueExpresswayCertificate { san }
        }
        ActionName::ConfigureExpressway => {
            let (oauth_with_refresh, trusts_callmanager) = (
                step.oauth_with_refresh.as_ref().map(|flag| *flag.get_ref()),
                step.trusts_callmanager.as_ref().map(|flag| *flag.get_ref()),
            );
            if oauth_with_refresh.is_none() && trusts_callmanager.is_none() {
                return Err(at(
                    action_span,
                    &field("oauth_with_refresh"),
                    "configure-expressway needs `oauth_with_refresh`, `trusts_callmanager` or both (true or false)"
                        .to_string(),
                ));
            }
            edge()?;
            Action::ConfigureExpressway { oauth_with_refresh, trusts_callmanager }
        }
        ActionName::SetSecurityProfile => super::phone_steps::security_profile(step, index, action_span, at)?,
        ActionName::ResetPhone => super::phone_steps::reset_phone(step, index, devices, action_span, at)?,
        ActionName::SaveExpresswayCEntry => {
            edge()?;
            expressway_entry(step, index, action_span, at)?
        }
        other => unreachable!("{} is not a SIP step", other.name()),
    })
}

/// `save-expressway-c-entry`: a host and the X.509 names typed for it, DNS names both.
fn expressway_entry(
    step: &StepFile,
    index: usize,
    action_span: Range<usize>,
    at: At<'_>,
) -> Result<Action, ScenarioError> {
    let field = |name: &str| format!("step[{index}].{name}");
    let (Some(host), Some(names)) = (&step.host, &step.names) else {
        return Err(at(
            action_span,
            &field(if step.host.is_none() { "host" } else { "names" }),
            "save-expressway-c-entry needs `host = \"…\"` (Expressway-C's address) and `names = [\"…\"]` \
             (the X.509 names of its certificate)"
                .to_string(),
        ));
    };
    let host = check_san(std::slice::from_ref(host.get_ref()))
        .map_err(|message| at(host.span(), &field("host"), message))?
        .remove(0);
    if names.get_ref().is_empty() {
        return Err(at(names.span(), &field("names"), "names at least one X.509 name".to_string()));
    }
    let names = check_san(names.get_ref()).map_err(|message| at(names.span(), &field("names"), message))?;
    let domain = match &step.domain {
        None => None,
        Some(domain) => {
            let typed = check_san(std::slice::from_ref(domain.get_ref()))
                .map_err(|message| at(domain.span(), &field("domain"), message))?
                .remove(0);
            if !typed.contains('.') || crate::dns_domain::is_cluster_domain(&typed) {
                return Err(at(
                    domain.span(),
                    &field("domain"),
                    format!(
                        "is Expressway-C's domain when it is not the cluster's ({}): a dotted name such as \"edge.example.net\"",
                        crate::dns_domain::CLUSTER_DOMAIN
                    ),
                ));
            }
            Some(typed)
        }
    };
    Ok(Action::SaveExpresswayEntry { host, names, domain })
}

/// The fields each of these steps takes.
pub(super) fn fields(name: ActionName) -> &'static [&'static str] {
    match name {
        ActionName::SipOauthMode => &["value"],
        ActionName::SetSipPorts => &["node", "phone_port", "mra_port"],
        ActionName::ReissueExpresswayCertificate => &["san"],
        ActionName::ConfigureExpressway => &["oauth_with_refresh", "trusts_callmanager"],
        ActionName::ShowOpenPorts => &["node", "port"],
        ActionName::SetSecurityProfile => ProfileChange::FIELDS,
        ActionName::ResetPhone => &["client"],
        ActionName::SaveExpresswayCEntry => &["host", "names", "domain"],
        _ => &[],
    }
}
