//! The device configuration file a CallManager node's TFTP service serves over HTTP:
//! `http://<cucm>:6970/<device>.cnf.xml` (phones with SIP OAuth: HTTPS on 6971), with the
//! three elements the documents name (`sipOAuthMode`, `sipOAuthPort`, `sipMRAOAuthPort`),
//! and the Identity Trust List phones trust the cluster's Tomcat certificates from.
//!
//! Departures: 6971 serves plain HTTP here, like 6970 (the configuration carries no secret
//! in this model); the ITL is served as JSON certificates rather than the TLV file.

/// TFTP over HTTP.
pub const TFTP_HTTP_PORT: u16 = 6970;
/// TFTP over HTTPS, for phones with SIP OAuth.
pub const TFTP_HTTPS_PORT: u16 = 6971;
/// The Identity Trust List.
pub const ITL_PATH: &str = "/ITLFile.tlv";
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
        format!(
            "<device><fullConfig>true</fullConfig><deviceName>{device}</deviceName>\
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
        Ok(DeviceConfig {
            sip_oauth_mode,
            sip_oauth_port: port("sipOAuthPort")?,
            sip_mra_oauth_port: port("sipMRAOAuthPort")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_and_names_what_is_wrong() {
        let config = DeviceConfig { sip_oauth_mode: true, sip_oauth_port: 5090, sip_mra_oauth_port: 5091 };
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
