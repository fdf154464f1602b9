//! Requests through the Mobile and Remote Access edge: a remote device sends every request
//! for the cluster to Expressway-E, which hands it to Expressway-C, which checks its token
//! and sends it on to the CallManager node it names. The target rides in the path:
//! `/edge/<host>/<port><path>`. A SIP registration through the edge is its own request
//! ([`EDGE_REGISTER_PATH`]): Expressway-C registers the device over mutual TLS on the
//! node's MRA port and reports CallManager's answer. Assumption: the real edge proxies HTTP
//! and SIP transparently; the path scheme and messages are ours.

use serde::{Deserialize, Serialize};

/// Expressway-E's and Expressway-C's HTTPS port for the devices and the traversal zone.
pub const EDGE_PORT: u16 = 8443;
/// The prefix of a proxied request's path.
pub const EDGE_PREFIX: &str = "/edge/";
/// A SIP registration through the edge.
pub const EDGE_REGISTER_PATH: &str = "/mra/register";
/// Longest host name the edge forwards to.
const HOST_CHARS_MAX: usize = 64;

/// The edge path for a request to `host:port` `path`.
pub fn edge_path(host: &str, port: u16, path: &str) -> String {
    format!("{EDGE_PREFIX}{host}/{port}{path}")
}

/// The target of an edge path: host, port and the path there.
pub fn target(path: &str) -> Option<(&str, u16, &str)> {
    let rest = path.strip_prefix(EDGE_PREFIX)?;
    let (host, rest) = rest.split_once('/')?;
    let (port, path) = rest.split_at(rest.find('/')?);
    let host_ok = !host.is_empty()
        && host.len() <= HOST_CHARS_MAX
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    host_ok.then_some(())?;
    Some((host, port.parse().ok()?, path))
}

/// A device asks the edge to register it at its home node.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EdgeRegister {
    pub home: String,
    pub user: String,
}

/// What came of a registration through the edge.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EdgeRegistered {
    /// CallManager's SIP status code, when it answered.
    pub status: Option<u16>,
    /// The MRA port used.
    pub port: Option<u16>,
    /// CallManager's answer as the documents quote it.
    pub line: Option<String>,
    /// The TLS alert, when Expressway-C's handshake with CallManager failed.
    pub alert: Option<String>,
    /// Why it failed, in words.
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_round_trips_and_junk_is_refused() {
        let path = edge_path("cucm-pub", 8443, "/ssosp/oauth/token");
        assert_eq!(path, "/edge/cucm-pub/8443/ssosp/oauth/token");
        assert_eq!(target(&path), Some(("cucm-pub", 8443, "/ssosp/oauth/token")));
        assert_eq!(target("/edge/cucm-pub/99999/x"), None);
        assert_eq!(target("/edge/../8443/x"), None);
        assert_eq!(target("/edge/cucm-pub/8443"), None);
        assert_eq!(target("/other"), None);
    }
}
