//! The device configuration file a CallManager node's TFTP service serves over HTTP:
//! `http://<cucm>:6970/<device>.cnf.xml` (phones with SIP OAuth: HTTPS on 6971), with the
//! three elements the documents name (`sipOAuthMode`, `sipOAuthPort`, `sipMRAOAuthPort`) and,
//! for a phone, the device security mode of the profile it was last reset with
//! (`deviceSecurityMode`: 1 Non Secure, 2 Authenticated, 3 Encrypted, as CallManager numbers
//! them), and the Identity Trust List phones trust the cluster's Tomcat certificates from.
//!
//! Departures: 6971 serves plain HTTP here, like 6970 (the configuration carries no secret
//! in this model); the ITL is served as JSON certificates rather than the TLV file.

use crate::certs::sync::{CertificateSet, CERTIFICATE_SET_MAX};
use crate::certs::{Certificate, Identity};
use crate::node_id::NodeId;
use crate::phone_security::DeviceSecurityMode;
use crate::proto::http::Call;

/// TFTP over HTTP.
pub const TFTP_HTTP_PORT: u16 = 6970;
/// TFTP over HTTPS, for phones with SIP OAuth.
pub const TFTP_HTTPS_PORT: u16 = 6971;
/// The Identity Trust List.
pub const ITL_PATH: &str = "/ITLFile.tlv";
/// Where a phone reads the cluster's phone-edge-trust before it asks for tokens (the path is
/// ours: assumption).
pub const PHONE_EDGE_TRUST_PATH: &str = "/PhoneEdgeTrust.tlv";
/// A trust list a device reads from its home node's TFTP (`ITL_PATH`,
/// `PHONE_EDGE_TRUST_PATH`): the Tomcat certificates it holds, bounded.
pub async fn read_trust_list(
    home: &NodeId,
    port: u16,
    path: &str,
    device: &NodeId,
) -> Result<Vec<Certificate>, String> {
    let set = Call::get(home, port, path, device).fetch::<CertificateSet>().await?;
    if set.certificates.len() > CERTIFICATE_SET_MAX {
        return Err(format!("{path} is too long"));
    }
    set.read(Identity::Tomcat)
}

/// Largest configuration file a device reads.
pub const CONFIG_BYTES_MAX: usize = 16 * 1024;

/// What a device reads from its configuration file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceConfig {
    /// `sipOAuthMode`: whether the device registers with its token on the OAuth ports.
    pub sip_oauth_mode: bool,
    /// `sipOAuthPort`: the SIP Phone OAuth Port.
    pub sip_oauth_port: u16,
    /// `sipMRAOAuthPort`: the SIP Mobile and Remote Access Port.
    pub sip_mra_oauth_port: u16,
    /// `deviceSecurityMode`, in a phone's file only.
    pub device_security_mode: Option<DeviceSecurityMode>,
}

/// CallManager's number for a device security mode.
fn mode_number(mode: DeviceSecurityMode) -> u8 {
    match mode {
        DeviceSecurityMode::NonSecure => 1,
        DeviceSecurityMode::Authenticated => 2,
        DeviceSecurityMode::Encrypted => 3,
    }
}

/// The path of a device's configuration file.
pub fn config_path(device: &str) -> String {
    format!("/{device}.cnf.xml")
}

/// The device named in a configuration file's path, if the path is one.
pub fn device_of(path: &str) -> Option<&str> {
    path.strip_prefix('/')?.strip_suffix(".cnf.xml").filter(|device| {
        !device.is_empty()
            && device.len() <= 64
            && device.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

impl DeviceConfig {
    /// The file, as CallManager writes it (the elements the documents name; the rest of a
    /// real file is left out).
    pub fn to_xml(&self, device: &str) -> String {
        let security = self.device_security_mode.map_or_else(String::new, |mode| {
            format!("<deviceSecurityMode>{}</deviceSecurityMode>", mode_number(mode))
        });
        format!(
            "<device><fullConfig>true</fullConfig><deviceName>{device}</deviceName>{security}\
             <sipOAuthMode>{}</sipOAuthMode><sipOAuthPort>{}</sipOAuthPort>\
             <sipMRAOAuthPort>{}</sipMRAOAuthPort></device>",
            u8::from(self.sip_oauth_mode),
            self.sip_oauth_port,
            self.sip_mra_oauth_port
        )
    }

    /// Reads the three elements; a file without them, or with bad values, is refused with
    /// the element's name.
    pub fn from_xml(xml: &str) -> Result<DeviceConfig, String> {
        if xml.len() > CONFIG_BYTES_MAX {
            return Err(format!("configuration file over {CONFIG_BYTES_MAX} bytes"));
        }
        let element = |name: &str| -> Result<&str, String> {
            let open = format!("<{name}>");
            let close = format!("</{name}>");
            let start = xml.find(&open).ok_or_else(|| format!("no <{name}> element"))? + open.len();
            let end = xml[start..].find(&close).ok_or_else(|| format!("<{name}> is not closed"))?;
            Ok(xml[start..start + end].trim())
        };
        let port = |name: &str| -> Result<u16, String> {
            element(name)?.parse().map_err(|_| format!("<{name}> is not a port"))
        };
        let sip_oauth_mode = match element("sipOAuthMode")? {
            "1" | "true" => true,
            "0" | "false" => false,
            other => return Err(format!("<sipOAuthMode> is {other:?}, not 0 or 1")),
        };
        let device_security_mode = match element("deviceSecurityMode") {
            Err(_) if !xml.contains("<deviceSecurityMode>") => None,
            Ok("1") => Some(DeviceSecurityMode::NonSecure),
            Ok("2") => Some(DeviceSecurityMode::Authenticated),
            Ok("3") => Some(DeviceSecurityMode::Encrypted),
            Ok(other) => return Err(format!("<deviceSecurityMode> is {other:?}, not 1, 2 or 3")),
            Err(reason) => return Err(reason),
        };
        Ok(DeviceConfig {
            sip_oauth_mode,
            sip_oauth_port: port("sipOAuthPort")?,
            sip_mra_oauth_port: port("sipMRAOAuthPort")?,
            device_security_mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_and_names_what_is_wrong() {
        let config = DeviceConfig {
            sip_oauth_mode: true,
            sip_oauth_port: 5090,
            sip_mra_oauth_port: 5091,
            device_security_mode: None,
        };
        let phone = DeviceConfig { device_security_mode: Some(DeviceSecurityMode::Authenticated), ..config };
        let phone_xml = phone.to_xml("phone-1");
        assert!(phone_xml.contains("<deviceSecurityMode>2</deviceSecurityMode>"), "{phone_xml}");
        assert_eq!(DeviceConfig::from_xml(&phone_xml).unwrap(), phone);
        let odd = phone_xml.replace("<deviceSecurityMode>2", "<deviceSecurityMode>7");
        assert_eq!(DeviceConfig::from_xml(&odd).unwrap_err(), "<deviceSecurityMode> is \"7\", not 1, 2 or 3");
        let xml = config.to_xml("phone-1");
        assert!(xml.contains("<sipOAuthMode>1</sipOAuthMode><sipOAuthPort>5090</sipOAuthPort>"), "{xml}");
        assert_eq!(DeviceConfig::from_xml(&xml).unwrap(), config);
        assert_eq!(DeviceConfig::from_xml("<device/>").unwrap_err(), "no <sipOAuthMode> element");
        let bad = xml.replace("<sipOAuthPort>5090", "<sipOAuthPort>99999");
        assert_eq!(DeviceConfig::from_xml(&bad).unwrap_err(), "<sipOAuthPort> is not a port");
        assert_eq!(device_of("/phone-1.cnf.xml"), Some("phone-1"));
        assert_eq!(device_of("/../x.cnf.xml"), None);
        assert_eq!(device_of("/x.xml"), None);
    }
}
