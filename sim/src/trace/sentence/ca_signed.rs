//! CA-signed certificates in words: the multi-SAN Tomcat CSR signed, the result installed.

use crate::trace::Event;

/// The multi-SAN Tomcat certificate's two events.
pub(super) fn in_words(event: &Event) -> Option<String> {
    let f = |name: &str| event.field_text(name).unwrap_or_default();
    Some(match event.kind.as_str() {
        "tomcat-csr-signed" => format!(
            "made the multi-SAN Tomcat CSR for {}; {} signed it: serial {}",
            f("names").replace(' ', ", "),
            f("signer"),
            f("serial")
        ),
        "certificate-installed" => format!(
            "CA-signed {} on disk: serial {} (was {}), signed by {}, which Tomcat-trust now holds; its services present the old one until they restart",
            f("certificate"),
            f("serial"),
            f("previous"),
            f("signer")
        ),
        _ => return None,
    })
}
