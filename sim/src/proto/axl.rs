//! What Expressway-C asks of the CallManager publisher over AXL (port 8443), and the
//! activation-code and registered-device grants phones use (docs/domain.md "SIP OAuth mode").
//! Assumption: the documents name the table and the push, not the calls; the paths and
//! bodies are ours (AXL itself is SOAP).

use serde::{Deserialize, Serialize};

/// Discovery and refresh: the CallManager nodes and their SIP MRA OAuth ports.
pub const AXL_CALLMANAGERS_PATH: &str = "/axl/callmanager";
/// Expressway-C's CN and SAN entries into `expresswaycconfiguration`.
pub const AXL_EXPRESSWAY_PATH: &str = "/axl/expresswaycconfiguration";

/// One CallManager node as discovery sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveredNode {
    pub name: String,
    /// Its SIP Mobile and Remote Access Port.
    pub mra_port: u16,
}

/// Expressway-C's certificate names, pushed on every discovery and refresh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpresswayNames {
    pub names: Vec<String>,
}

/// The table's names after the push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpresswayNamesHeld {
    pub held: u32,
}
