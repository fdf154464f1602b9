//! Compact JWS and JWE, split and decoded but not verified.

use serde_json::{Map, Value};

use crate::b64;

/// A JSON object from a token part.
pub type Object = Map<String, Value>;

/// A compact JWS: `header.payload.signature`.
pub struct Jws<'a> {
    /// `header.payload` exactly as received: what the signature covers.
    pub signing_input: &'a str,
    pub header: Object,
    /// The payload part, still encoded: it is decoded only after the signature verifies.
    pub payload_b64: &'a str,
    pub signature: Vec<u8>,
}

/// A compact JWE: `protected.encrypted_key.iv.ciphertext.tag`.
pub struct Jwe<'a> {
    /// The protected header exactly as received: the additional authenticated data.
    pub protected_b64: &'a str,
    pub header: Object,
    pub encrypted_key_b64: &'a str,
    pub iv: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub tag: Vec<u8>,
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

/// Splits and decodes a compact JWS; the error says which part is wrong.
pub fn parse_jws(token: &str) -> Result<Jws<'_>, String> {
    parse_jws_named(token, &JWS)
}

/// [`parse_jws`] with the errors naming it as `names` says (the nested JWT, say). The names
/// are fixed text, so a parse on the validation path allocates none of them.
pub fn parse_jws_named<'t>(token: &'t str, names: &JwsNames) -> Result<Jws<'t>, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(format!("a {} has 3 parts, found {}", names.whole, parts.len()));
    }
    let header = decode_object(parts[0], names.header)?;
    let signature = b64::decode(parts[2]).ok_or_else(|| format!("{} is not base64url", names.signature))?;
    let signing_input_len = parts[0].len() + 1 + parts[1].len();
    Ok(Jws { signing_input: &token[..signing_input_len], header, payload_b64: parts[1], signature })
}

/// Splits and decodes a compact JWE; the error says which part is wrong.
pub fn parse_jwe(token: &str) -> Result<Jwe<'_>, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 5 {
        return Err(format!("a JWE has 5 parts, found {}", parts.len()));
    }
    let header = decode_object(parts[0], "JWE header")?;
    let part = |index: usize, what: &str| {
        b64::decode(parts[index]).ok_or_else(|| format!("JWE {what} is not base64url"))
    };
    Ok(Jwe {
        protected_b64: parts[0],
        header,
        encrypted_key_b64: parts[1],
        iv: part(2, "IV")?,
        ciphertext: part(3, "ciphertext")?,
        tag: part(4, "tag")?,
    })
}

/// Decodes a base64url part holding a JSON object.
pub fn decode_object(part: &str, what: &str) -> Result<Object, String> {
    let bytes = b64::decode(part).ok_or_else(|| format!("{what} is not base64url"))?;
    parse_object(&bytes, what)
}

/// Parses bytes holding a JSON object. An object with a member twice, at any depth, is
/// refused: parsers disagree on which one wins (RFC 8259 §4), so a token could mean one
/// thing to us and another to the issuer.
pub fn parse_object(bytes: &[u8], what: &str) -> Result<Object, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde::Deserialize::deserialize(&mut deserializer).and_then(|Strict(value)| {
        deserializer.end()?;
        Ok(value)
    });
    match parsed {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(format!("{what} is not a JSON object")),
        Err(error) if error.to_string().starts_with(DUPLICATE) => Err(format!("{what} has a member twice")),
        Err(_) => Err(format!("{what} is not JSON")),
    }
}

/// The message a duplicate member fails with, told apart from other JSON errors.
const DUPLICATE: &str = "duplicate member";

/// A JSON value that refuses duplicate object members.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.insert(key.clone(), value).is_some() {
                return Err(serde::de::Error::custom(format!("{DUPLICATE} `{key}`")));
            }
        }
        Ok(Value::Object(object))
    }
}

/// A string member, or an error naming it.
pub fn string<'o>(object: &'o Object, name: &str, what: &str) -> Result<&'o str, String> {
    match object.get(name) {
        Some(Value::String(value)) => Ok(value),
        Some(_) => Err(format!("{what} `{name}` is not a string")),
        None => Err(format!("{what} has no `{name}`")),
    }
}

/// A non-negative integer member, or an error naming it.
pub fn unsigned(object: &Object, name: &str, what: &str) -> Result<u64, String> {
    match object.get(name) {
        Some(value) => value.as_u64().ok_or_else(|| format!("{what} `{name}` is not a non-negative integer")),
        None => Err(format!("{what} has no `{name}`")),
    }
}
