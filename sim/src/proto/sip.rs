//! SIP registration (RFC 3261) as SIP OAuth uses it: a device's REGISTER carries its access
//! token in `Authorization: Bearer …`, and CallManager answers `SIP/2.0 200 OK` or the
//! documents' `SIP/2.0 403 Forbidden` (docs/domain.md "SIP OAuth mode"). Messages are built and
//! parsed by the `rsip` crate; what reaches it is bounded here first.
//!
//! One REGISTER per connection: the device connects, registers, reads the answer and closes.
//! (Real phones keep their TLS connection; nothing in the token story depends on it, and a
//! fresh connection per registration makes each one pay a full handshake, as the note measures.)

use rsip::headers::UntypedHeader;
use rsip::prelude::HasHeaders;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;

use crate::proto::http::REQUEST_TIMEOUT;
use crate::proto::tls::{self, TlsFailure};

/// Largest SIP message a node reads; a REGISTER with an access token is ~2 KiB.
pub const SIP_MESSAGE_BYTES_MAX: usize = 16 * 1024;
/// How long a device asks its registration to last (`Expires`). Assumption (the documents
/// give no figure): an hour, CallManager's usual maximum.
pub const REGISTRATION_EXPIRES_S: u32 = 3600;
/// Where the SIP OAuth ports may be: the documents' allowed range, both ends included.
pub const SIP_OAUTH_PORT_RANGE: std::ops::RangeInclusive<u16> = 1024..=49151;
/// The documents' defaults: SIP Phone OAuth Port (TLS, on premises) and SIP Mobile and Remote
/// Access Port (mutual TLS from Expressway-C).
pub const SIP_PHONE_OAUTH_PORT: u16 = 5090;
pub const SIP_MRA_OAUTH_PORT: u16 = 5091;
/// Legacy SIP, with SIP OAuth off: plain and TLS.
pub const SIP_PORT: u16 = 5060;
pub const SIP_TLS_PORT: u16 = 5061;

/// Ports a CallManager subscriber already serves, with the service: a SIP OAuth port set to
/// one of them would never reach Cisco CallManager, so the page refuses it by name.
pub const SUBSCRIBER_PORTS_IN_USE: &[(u16, &str)] = &[
    (crate::proto::authz::HTTPS_PORT, "Cisco Tomcat (AuthZ, UDS)"),
    (crate::proto::tftp::TFTP_HTTP_PORT, "Cisco TFTP"),
    (crate::proto::tftp::TFTP_HTTPS_PORT, "Cisco TFTP over HTTPS"),
    (SIP_PORT, "Cisco CallManager's SIP"),
    (SIP_TLS_PORT, "Cisco CallManager's SIP over TLS"),
];

/// Why `port` cannot be a SIP OAuth port (`outside …`, `already served by …`): outside the
/// documents' range, or a port the subscriber already serves, naming the service.
pub fn oauth_port_refusal(port: i64) -> Option<String> {
    let Some(port) = u16::try_from(port).ok().filter(|port| SIP_OAUTH_PORT_RANGE.contains(port)) else {
        return Some(format!(
            "outside {}-{}, the range the documents allow for the SIP OAuth ports",
            SIP_OAUTH_PORT_RANGE.start(),
            SIP_OAUTH_PORT_RANGE.end()
        ));
    };
    SUBSCRIBER_PORTS_IN_USE
        .iter()
        .find(|(used, _)| *used == port)
        .map(|(_, service)| format!("already served by {service} on every subscriber"))
}

/// A REGISTER as CallManager reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    /// The device name (the Contact's user part), e.g. `jabber-3`.
    pub device: String,
    /// The user registering (the From's user part).
    pub user: String,
    /// The access token, if the device sent one.
    pub bearer: Option<String>,
    /// The Via header's value, echoed in the answer.
    pub via: String,
}

impl Register {
    /// The REGISTER a device on `host` sends to `registrar:port`, its Via naming `host:source_port`.
    pub fn new(
        device: &str,
        user: &str,
        bearer: Option<&str>,
        host: &str,
        source_port: u16,
        branch: u64,
    ) -> Register {
        Register {
            device: device.to_string(),
            user: user.to_string(),
            bearer: bearer.map(str::to_string),
            via: format!("SIP/2.0/TLS {host}:{source_port};branch=z9hG4bK{branch:08x}"),
        }
    }

    /// The message on the wire, built by rsip.
    pub fn to_bytes(&self, registrar: &str, port: u16) -> Result<Vec<u8>, String> {
        let uri = rsip::Uri::try_from(format!("sip:{registrar}:{port}")).map_err(|e| e.to_string())?;
        let mut headers = rsip::Headers::default();
        headers.push(rsip::headers::Via::new(self.via.clone()).into());
        headers.push(rsip::headers::MaxForwards::new("70").into());
        headers.push(
            rsip::headers::From::new(format!("<sip:{}@{registrar}>;tag={}", self.user, self.device)).into(),
        );
        headers.push(rsip::headers::To::new(format!("<sip:{}@{registrar}>", self.user)).into());
        headers.push(rsip::headers::CallId::new(format!("{}@{registrar}", self.device)).into());
        headers.push(rsip::headers::CSeq::new("1 REGISTER").into());
        headers.push(
            rsip::headers::Contact::new(format!("<sip:{}@{registrar};transport=tls>", self.device)).into(),
        );
        headers.push(rsip::headers::Expires::new(REGISTRATION_EXPIRES_S.to_string()).into());
        if let Some(token) = &self.bearer {
            headers.push(rsip::headers::Authorization::new(format!("Bearer {token}")).into());
        }
        headers.push(rsip::headers::ContentLength::new("0").into());
        let request = rsip::Request {
            method: rsip::Method::Register,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        Ok(request.to_string().into_bytes())
    }

    /// A REGISTER off the wire: any other request, or one without From, Contact or Via, is
    /// refused with the reason.
    pub fn parse(bytes: &[u8]) -> Result<Register, String> {
        if bytes.len() > SIP_MESSAGE_BYTES_MAX {
            return Err(format!("message of {} bytes, over {SIP_MESSAGE_BYTES_MAX}", bytes.len()));
        }
        let request = rsip::Request::try_from(bytes).map_err(|e| format!("not a SIP request: {e}"))?;
        if request.method != rsip::Method::Register {
            return Err(format!("{} is not REGISTER", request.method));
        }
        let mut via = None;
        let mut from = None;
        let mut contact = None;
        let mut bearer = None;
        for header in request.headers().iter() {
            match header {
                rsip::Header::Via(value) => via = via.or(Some(value.value().to_string())),
                rsip::Header::From(value) => from = Some(value.value().to_string()),
                rsip::Header::Contact(value) => contact = Some(value.value().to_string()),
                rsip::Header::Authorization(value) => {
                    bearer = value.value().strip_prefix("Bearer ").map(|token| token.trim().to_string())
                }
                _ => {}
            }
        }
        let user_part = |value: Option<String>, header: &str| {
            let value = value.ok_or_else(|| format!("no {header} header"))?;
            let start =
                value.find("sip:").map(|at| at + 4).ok_or_else(|| format!("{header} has no sip: URI"))?;
            let rest = &value[start..];
            let end = rest.find('@').ok_or_else(|| format!("{header} URI has no user part"))?;
            Ok::<String, String>(rest[..end].to_string())
        };
        Ok(Register {
            user: user_part(from, "From")?,
            device: user_part(contact, "Contact")?,
            bearer,
            via: via.ok_or("no Via header")?,
        })
    }
}

/// What arrives on a SIP port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    Register(Register),
    /// A keep-alive ping (Expressway-C's zone check); answered 200 OK.
    Options {
        via: String,
    },
}

/// A REGISTER or an OPTIONS ping off the wire; anything else is refused with the reason.
pub fn incoming(bytes: &[u8]) -> Result<Incoming, String> {
    if bytes.len() > SIP_MESSAGE_BYTES_MAX {
        return Err(format!("message of {} bytes, over {SIP_MESSAGE_BYTES_MAX}", bytes.len()));
    }
    let request = rsip::Request::try_from(bytes).map_err(|e| format!("not a SIP request: {e}"))?;
    if request.method == rsip::Method::Options {
        let via = request
            .headers()
            .iter()
            .find_map(|header| match header {
                rsip::Header::Via(via) => Some(via.value().to_string()),
                _ => None,
            })
            .ok_or("no Via header")?;
        return Ok(Incoming::Options { via });
    }
    Register::parse(bytes).map(Incoming::Register)
}

/// Expressway-C's OPTIONS ping to `target:port`, its Via naming `from`.
pub fn options_bytes(from: &str, target: &str, port: u16, branch: u64) -> Result<Vec<u8>, String> {
    let uri = rsip::Uri::try_from(format!("sip:{target}:{port}")).map_err(|e| e.to_string())?;
    let mut headers = rsip::Headers::default();
    headers
        .push(rsip::headers::Via::new(format!("SIP/2.0/TLS {from}:5061;branch=z9hG4bK{branch:08x}")).into());
    headers.push(rsip::headers::MaxForwards::new("70").into());
    headers.push(rsip::headers::From::new(format!("<sip:{from}>;tag=ping")).into());
    headers.push(rsip::headers::To::new(format!("<sip:{target}>")).into());
    headers.push(rsip::headers::CallId::new(format!("ping-{branch}@{from}")).into());
    headers.push(rsip::headers::CSeq::new("1 OPTIONS").into());
    headers.push(rsip::headers::ContentLength::new("0").into());
    let request = rsip::Request {
        method: rsip::Method::Options,
        uri,
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    };
    Ok(request.to_string().into_bytes())
}

/// CallManager's answer to a REGISTER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `SIP/2.0 200 OK`: registered.
    Ok,
    /// `SIP/2.0 403 Forbidden`: the token is missing or does not validate here.
    Forbidden,
}

impl Answer {
    fn status(self) -> rsip::StatusCode {
        match self {
            Answer::Ok => rsip::StatusCode::OK,
            Answer::Forbidden => rsip::StatusCode::Forbidden,
        }
    }

    /// The answer on the wire to a request whose Via was `via`.
    pub fn to_bytes(self, via: &str) -> Vec<u8> {
        let mut headers = rsip::Headers::default();
        headers.push(rsip::headers::Via::new(via).into());
        headers.push(rsip::headers::ContentLength::new("0").into());
        let response = rsip::Response {
            status_code: self.status(),
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        response.to_string().into_bytes()
    }

    /// The status line and Via as the documents quote them, e.g.
    /// `SIP/2.0 403 Forbidden Via: SIP/2.0/TLS 10.5.10.121:50347;branch=z9hG4bK00005163`.
    pub fn line(self, via: &str) -> String {
        format!("SIP/2.0 {} Via: {via}", self.status())
    }

    /// An answer off the wire: its status code and its line as above.
    pub fn parse(bytes: &[u8]) -> Result<(u16, String), String> {
        let response = rsip::Response::try_from(bytes).map_err(|e| format!("not a SIP response: {e}"))?;
        let via = response
            .headers()
            .iter()
            .find_map(|header| match header {
                rsip::Header::Via(via) => Some(via.value().to_string()),
                _ => None,
            })
            .unwrap_or_default();
        Ok((response.status_code.code(), format!("SIP/2.0 {} Via: {via}", response.status_code)))
    }
}

/// Reads one SIP message (its head up to the blank line; bodies are not used here), at most
/// [`SIP_MESSAGE_BYTES_MAX`] bytes.
pub async fn read_message<R: AsyncRead + Unpin>(stream: &mut R) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::with_capacity(2048);
    let mut buf = [0u8; 2048];
    loop {
        if message.windows(4).any(|window| window == b"\r\n\r\n") {
            return Ok(message);
        }
        if message.len() >= SIP_MESSAGE_BYTES_MAX {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("no end of message within {SIP_MESSAGE_BYTES_MAX} bytes"),
            ));
        }
        let want = buf.len().min(SIP_MESSAGE_BYTES_MAX - message.len());
        let n = stream.read(&mut buf[..want]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        message.extend_from_slice(&buf[..n]);
    }
}

/// Why a SIP request got no answer: the TLS handshake or alert, or anything else in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AskFailure {
    Tls(TlsFailure),
    Other(String),
}

/// Sends `request` on `stream` and reads the answer within [`REQUEST_TIMEOUT`]: its status
/// code and line. A TLS alert on the write or the read (a TLS 1.3 server refuses a client's
/// certificate after the client's side of the handshake is done) keeps its alert.
pub async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
) -> Result<(u16, String), AskFailure> {
    let refused = |error: std::io::Error, what: &str| match TlsFailure::of(&error) {
        failure @ TlsFailure::Alert { .. } => AskFailure::Tls(failure),
        _ if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            AskFailure::Other(format!("{what}: CallManager closed the connection"))
        }
        _ => AskFailure::Other(format!("{what}: {error}")),
    };
    let exchange = async {
        stream.write_all(request).await.map_err(|e| refused(e, "cannot send"))?;
        let answer = read_message(stream).await.map_err(|e| refused(e, "no SIP answer"))?;
        Answer::parse(&answer).map_err(AskFailure::Other)
    };
    match crate::clock::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => Err(AskFailure::Other(format!("no SIP answer within {}s", REQUEST_TIMEOUT.as_secs()))),
    }
}

/// [`ask`] on a fresh TLS connection to `host:port`.
pub async fn ask_over_tls(
    connector: &TlsConnector,
    host: &str,
    port: u16,
    request: &[u8],
) -> Result<(u16, String), AskFailure> {
    let mut stream = tls::connect(connector, host, port).await.map_err(AskFailure::Tls)?;
    ask(&mut stream, request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_register_round_trips_through_rsip_with_its_bearer_token() {
        let register =
            Register::new("jabber-1", "user-1", Some("eyJhbGciOi.x.y"), "site-campus", 50347, 0x5163);
        let bytes = register.to_bytes("cucm-sub-1", 5090).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("REGISTER sip:cucm-sub-1:5090 SIP/2.0\r\n"), "{text}");
        assert!(text.contains("Authorization: Bearer eyJhbGciOi.x.y\r\n"), "{text}");
        assert_eq!(Register::parse(&bytes).unwrap(), register);
        let line = Answer::Forbidden.line(&register.via);
        assert_eq!(line, "SIP/2.0 403 Forbidden Via: SIP/2.0/TLS site-campus:50347;branch=z9hG4bK00005163");
        assert_eq!(Answer::parse(&Answer::Forbidden.to_bytes(&register.via)).unwrap(), (403, line));
        assert_eq!(Answer::parse(&Answer::Ok.to_bytes(&register.via)).unwrap().0, 200);
        let ping = options_bytes("expressway-c", "cucm-sub-1", 5091, 7).unwrap();
        assert_eq!(
            incoming(&ping).unwrap(),
            Incoming::Options { via: "SIP/2.0/TLS expressway-c:5061;branch=z9hG4bK00000007".to_string() }
        );
        assert_eq!(incoming(&bytes).unwrap(), Incoming::Register(register));
    }

    #[test]
    fn a_register_without_token_parses_and_other_requests_do_not() {
        let register = Register::new("phone-1", "user-2", None, "site-remote", 5061, 1);
        assert_eq!(Register::parse(&register.to_bytes("cucm-pub", 5091).unwrap()).unwrap().bearer, None);
        let invite = b"INVITE sip:bob@cucm-pub SIP/2.0\r\nVia: SIP/2.0/TLS a:1\r\n\r\n";
        assert!(Register::parse(invite).unwrap_err().contains("not REGISTER"));
        assert!(Register::parse(b"\xff\xfe").unwrap_err().contains("not a SIP request"));
        let no_contact =
            b"REGISTER sip:cucm-pub SIP/2.0\r\nVia: SIP/2.0/TLS a:1\r\nFrom: <sip:u@cucm-pub>\r\n\r\n";
        assert_eq!(Register::parse(no_contact).unwrap_err(), "no Contact header");
        assert!(Register::parse(&vec![b'A'; SIP_MESSAGE_BYTES_MAX + 1]).unwrap_err().contains("over"));
    }

    #[test]
    fn the_reader_stops_at_the_blank_line_and_at_its_bound() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let mut input: &[u8] = b"REGISTER x SIP/2.0\r\n\r\nrest";
            assert_eq!(read_message(&mut input).await.unwrap(), b"REGISTER x SIP/2.0\r\n\r\nrest".to_vec());
            let endless = vec![b'a'; SIP_MESSAGE_BYTES_MAX * 2];
            let mut input: &[u8] = &endless;
            assert_eq!(read_message(&mut input).await.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
            let mut input: &[u8] = b"REGISTER";
            assert_eq!(read_message(&mut input).await.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
        });
    }
}
