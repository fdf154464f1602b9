//! Compact JWS and JWE, split and decoded but not verified.
//!
//! Every part goes through here on each validation, inside the plugin, so nothing is copied
//! that need not be: a JSON part is read into an [`Object`] that borrows its names and text
//! from the decoded bytes (only a string with escapes is copied), and its members sit in a
//! short list, not a map (a token's objects hold a dozen members at most; a hostile one with
//! thousands is still checked for duplicates in order log n per member).

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::b64;

/// A compact JWS, split: `header.payload.signature`, each part still encoded.
pub struct Jws<'a> {
    /// `header.payload` exactly as received: what the signature covers.
    pub signing_input: &'a str,
    pub header_b64: &'a str,
    /// The payload part, still encoded: it is decoded only after the signature verifies.
    pub payload_b64: &'a str,
    pub signature_b64: &'a str,
}

/// A compact JWE, split: `protected.encrypted_key.iv.ciphertext.tag`, each part still encoded.
pub struct Jwe<'a> {
    /// The protected header exactly as received: the additional authenticated data.
    pub protected_b64: &'a str,
    pub encrypted_key_b64: &'a str,
    pub iv_b64: &'a str,
    pub ciphertext_b64: &'a str,
    pub tag_b64: &'a str,
}

/// What the errors call a JWS and its parts.
pub struct JwsNames {
    pub whole: &'static str,
    pub header: &'static str,
    pub signature: &'static str,
}

/// The token itself.
pub const JWS: JwsNames = JwsNames { whole: "JWS", header: "JWS header", signature: "JWS signature" };
/// The JWT inside an access token's JWE.
pub const NESTED_JWT: JwsNames =
    JwsNames { whole: "nested JWT", header: "nested JWT header", signature: "nested JWT signature" };

/// Splits a compact JWS; the error says how many parts there were.
pub fn parse_jws(token: &str) -> Result<Jws<'_>, String> {
    parse_jws_named(token, &JWS)
}

/// [`parse_jws`] with the errors naming it as `names` says (the nested JWT, say). The names
/// are fixed text, so a parse on the validation path allocates none of them.
pub fn parse_jws_named<'t>(token: &'t str, names: &JwsNames) -> Result<Jws<'t>, String> {
    let [header_b64, payload_b64, signature_b64] = split(token, names.whole)?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    Ok(Jws { signing_input, header_b64, payload_b64, signature_b64 })
}

/// Splits a compact JWE; the error says how many parts there were.
pub fn parse_jwe(token: &str) -> Result<Jwe<'_>, String> {
    let [protected_b64, encrypted_key_b64, iv_b64, ciphertext_b64, tag_b64] = split(token, "JWE")?;
    Ok(Jwe { protected_b64, encrypted_key_b64, iv_b64, ciphertext_b64, tag_b64 })
}

/// Exactly `N` dot-separated parts, without collecting them first.
fn split<'t, const N: usize>(token: &'t str, what: &str) -> Result<[&'t str; N], String> {
    let mut parts = [""; N];
    let mut found = 0;
    let mut rest = token;
    loop {
        // A `.` is one byte in UTF-8 and never part of another character, so slicing at one
        // keeps every part whole text.
        let (part, after) = match b64::find_dot(rest.as_bytes()) {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        if let Some(slot) = parts.get_mut(found) {
            *slot = part;
        }
        found += 1;
        match after {
            Some(after) => rest = after,
            None => break,
        }
    }
    if found != N {
        return Err(format!("a {what} has {N} parts, found {found}"));
    }
    Ok(parts)
}

/// The text of an object that is exactly `{"<name>":"<text>"}` (no whitespace) and whose
/// text holds only base64url characters and dots; `None` for any other bytes. An access
/// token's payload is always `{"private":"<JWE>"}`, 1.3 KiB of it: read this way it takes
/// one pass of sixteen bytes at a time instead of the JSON parser's reading and UTF-8 check
/// of every character. Whatever this returns, [`parse_object`] reads the same member from
/// the same bytes (an escape or a second member cannot hide in such text), so a caller may
/// fall back to it on `None` and reach the same verdict either way.
pub fn sole_compact_member<'b>(bytes: &'b [u8], name: &str) -> Option<&'b str> {
    // A name JSON would escape could not be matched as bytes; the token's never needs it.
    if !b64::is_compact_text(name.as_bytes()) {
        return None;
    }
    let rest = bytes.strip_prefix(b"{\"")?.strip_prefix(name.as_bytes())?.strip_prefix(b"\":\"")?;
    let text = rest.strip_suffix(b"\"}")?;
    if !b64::is_compact_text(text) {
        return None;
    }
    // SAFETY: every byte was just found to be ASCII (base64url or a dot), so valid UTF-8;
    // `from_utf8` would read all 1.3 KiB again, a byte at a time inside wasm.
    Some(unsafe { core::str::from_utf8_unchecked(text) })
}

/// Decodes one base64url part; the error names it.
pub fn decode(part: &str, what: &str) -> Result<Vec<u8>, String> {
    b64::decode(part).ok_or_else(|| format!("{what} is not base64url"))
}

/// A JSON value read from a token part, borrowing its text where it can.
#[derive(Debug, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// A non-negative integer that fits in 64 bits.
    Unsigned(u64),
    /// Any other number (negative, fractional, or with an exponent): no claim takes one.
    OtherNumber,
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Object<'a>),
}

impl Json<'_> {
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Unsigned(value) => Some(*value),
            _ => None,
        }
    }
}

/// A JSON object, its members in the order received, each name once.
#[derive(Debug, Default, PartialEq)]
pub struct Object<'a> {
    members: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Object<'a> {
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        self.members.iter().find(|(member, _)| member == name).map(|(_, value)| value)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Parses bytes holding a JSON object. An object with a member twice, at any depth, is
/// refused: parsers disagree on which one wins (RFC 8259 §4), so a token could mean one
/// thing to us and another to the issuer.
pub fn parse_object<'b>(bytes: &'b [u8], what: &str) -> Result<Object<'b>, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde::Deserialize::deserialize(&mut deserializer).and_then(|Strict(value)| {
        deserializer.end()?;
        Ok(value)
    });
    match parsed {
        Ok(Json::Object(object)) => Ok(object),
        Ok(_) => Err(format!("{what} is not a JSON object")),
        Err(error) if error.to_string().starts_with(DUPLICATE) => Err(format!("{what} has a member twice")),
        Err(_) => Err(format!("{what} is not JSON")),
    }
}

/// How a member of a parsed object reads in a message: a string as it is, anything else as
/// JSON. Only rejections print one, so `bytes` (the object's own) is read again, with
/// `serde_json`'s writer, rather than the fast path carrying a writer of its own.
pub fn member_text(bytes: &[u8], name: &str) -> String {
    let value = serde_json::from_slice::<serde_json::Value>(bytes).ok();
    match value.as_ref().and_then(|object| object.get(name)) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The message a duplicate member fails with, told apart from other JSON errors.
const DUPLICATE: &str = "duplicate member";

/// Members an object is searched for duplicates one by one; past this, through a set.
const LINEAR_DUPLICATE_SEARCH_MAX: usize = 16;

/// A JSON value that refuses duplicate object members.
struct Strict<'a>(Json<'a>);

impl<'de> serde::Deserialize<'de> for Strict<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(u64::try_from(v).map_or(Json::OtherNumber, Json::Unsigned))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Unsigned(v))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Json<'de>, E> {
        Ok(Json::OtherNumber)
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members: Vec<(Cow<'de, str>, Json<'de>)> = Vec::new();
        let mut names: Option<BTreeSet<Cow<'de, str>>> = None;
        while let Some(Name(name)) = map.next_key()? {
            let Strict(value) = map.next_value()?;
            let twice = match names.as_mut() {
                Some(names) => !names.insert(name.clone()),
                None if members.len() < LINEAR_DUPLICATE_SEARCH_MAX => {
                    members.iter().any(|(member, _)| *member == name)
                }
                None => {
                    let set: &mut BTreeSet<_> =
                        names.insert(members.iter().map(|(n, _)| n.clone()).collect());
                    !set.insert(name.clone())
                }
            };
            if twice {
                return Err(serde::de::Error::custom(format!("{DUPLICATE} `{name}`")));
            }
            members.push((name, value));
        }
        Ok(Json::Object(Object { members }))
    }
}

/// An object member's name, borrowed from the input unless it holds an escape.
struct Name<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Name<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> serde::de::Visitor<'de> for NameVisitor {
            type Value = Name<'de>;

            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_string())))
            }

            fn visit_string<E>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// A string member, or an error naming it.
pub fn string<'o>(object: &'o Object<'_>, name: &str, what: &str) -> Result<&'o str, String> {
    match object.get(name) {
        Some(Json::String(value)) => Ok(value),
        Some(_) => Err(format!("{what} `{name}` is not a string")),
        None => Err(format!("{what} has no `{name}`")),
    }
}

/// A non-negative integer member, or an error naming it.
pub fn unsigned(object: &Object<'_>, name: &str, what: &str) -> Result<u64, String> {
    match object.get(name) {
        Some(value) => value.as_u64().ok_or_else(|| format!("{what} `{name}` is not a non-negative integer")),
        None => Err(format!("{what} has no `{name}`")),
    }
}
