//! Every file a user hands authzlab is read here, and only here, with a size limit per kind.
//!
//! A path can name anything: `/dev/zero`, a FIFO, a directory, a 4 GB log. A FIFO or a socket
//! is refused before it is opened (opening a FIFO blocks until a writer comes). Reading
//! through `Read::take(limit + 1)` stops after the limit whatever the file claims its size is
//! (a device reports 0), so memory is bounded before parsing begins; the error names the file,
//! its kind and the limit.

use std::io::Read as _;
use std::path::Path;

/// Largest scenario file. The longest legal one, 10,000 steps and 10,000 expectations of
/// ~100 bytes each, is about 2 MB; parsing TOML costs ~40x its size in memory, so this also
/// bounds the parser.
pub const SCENARIO_BYTES_MAX: u64 = 4 << 20;
/// Largest vectors file: 10,000 cases of ~2 KB tokens, or a few cases holding a 1 MiB token.
pub const VECTORS_BYTES_MAX: u64 = 64 << 20;
/// Largest component: the reference validators are ~300 KB; a debug build with DWARF a few MB.
/// Compiling takes ~21 bytes of memory per byte of component (a 58 MiB component of huge
/// functions peaked at 1.21 GB), so 16 MiB keeps a compile near 350 MB.
pub const COMPONENT_BYTES_MAX: u64 = 16 << 20;
/// Largest plugin manifest: a few lines of TOML.
pub const MANIFEST_BYTES_MAX: u64 = 64 << 10;
/// Largest sweep summary (`authzlab sweep --out`): at most 1,000 causes of a few hundred bytes.
pub const SUMMARY_BYTES_MAX: u64 = 16 << 20;
/// Largest claims file (`authzlab token mint --claims`): a JSON object of a few claims; room
/// for a hostile one of a few thousand.
pub const CLAIMS_BYTES_MAX: u64 = 1 << 20;
/// Largest keys file (`authzlab-keys/1`): an RSA 2048 key and 32 bytes, ~2 KB.
pub const KEYS_BYTES_MAX: u64 = 64 << 10;

const _: () = assert!(SCENARIO_BYTES_MAX >= 1 << 20);
const _: () = assert!(VECTORS_BYTES_MAX > 1 << 20, "a vectors file must hold a 1 MiB token case");

/// What a file is meant to be: decides its limit and how errors name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Scenario,
    Vectors,
    Component,
    Manifest,
    Summary,
    Claims,
    Keys,
}

impl InputKind {
    pub fn bytes_max(self) -> u64 {
        match self {
            InputKind::Scenario => SCENARIO_BYTES_MAX,
            InputKind::Vectors => VECTORS_BYTES_MAX,
            InputKind::Component => COMPONENT_BYTES_MAX,
            InputKind::Manifest => MANIFEST_BYTES_MAX,
            InputKind::Summary => SUMMARY_BYTES_MAX,
            InputKind::Claims => CLAIMS_BYTES_MAX,
            InputKind::Keys => KEYS_BYTES_MAX,
        }
    }

    /// The constant that sets the limit, so a message points at it.
    fn limit_name(self) -> &'static str {
        match self {
            InputKind::Scenario => "SCENARIO_BYTES_MAX",
            InputKind::Vectors => "VECTORS_BYTES_MAX",
            InputKind::Component => "COMPONENT_BYTES_MAX",
            InputKind::Manifest => "MANIFEST_BYTES_MAX",
            InputKind::Summary => "SUMMARY_BYTES_MAX",
            InputKind::Claims => "CLAIMS_BYTES_MAX",
            InputKind::Keys => "KEYS_BYTES_MAX",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            InputKind::Scenario => "scenario file",
            InputKind::Vectors => "vectors file",
            InputKind::Component => "component",
            InputKind::Manifest => "plugin manifest",
            InputKind::Summary => "sweep summary",
            InputKind::Claims => "claims file",
            InputKind::Keys => "keys file",
        }
    }
}

/// Why a file could not be read; the message names the file and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: cannot read the {noun}: {reason}")]
    Io { file: String, noun: &'static str, reason: String },
    #[error("{file}: the {noun} is larger than {limit} bytes, the limit for a {noun} ({name})")]
    TooLarge { file: String, noun: &'static str, limit: u64, name: &'static str },
}

impl ReadError {
    pub fn file(&self) -> &str {
        match self {
            ReadError::Io { file, .. } | ReadError::TooLarge { file, .. } => file,
        }
    }
}

/// Reads the whole of `path`, refusing it once it passes `kind`'s limit.
pub fn read_bounded(path: &Path, kind: InputKind) -> Result<Vec<u8>, ReadError> {
    let file = path.display().to_string();
    let io = |error: std::io::Error| ReadError::Io {
        file: file.clone(),
        noun: kind.noun(),
        reason: error.to_string(),
    };
    // Opening a FIFO blocks until a writer comes, perhaps forever, and a socket cannot be
    // opened as a file at all: refuse both by what the path names, before opening it. A
    // device such as `/dev/zero` opens at once and meets the size limit below.
    if let Some(what) = std::fs::metadata(path).ok().and_then(|metadata| never_a_file(&metadata)) {
        return Err(ReadError::Io {
            file,
            noun: kind.noun(),
            reason: format!("it is {what}, which may never open or end; give a regular file"),
        });
    }
    let handle = std::fs::File::open(path).map_err(io)?;
    // A directory opens on Linux and fails at the first read with EISDIR; say so plainly.
    if handle.metadata().map_err(io)?.is_dir() {
        return Err(ReadError::Io { file, noun: kind.noun(), reason: "it is a directory".to_string() });
    }
    let limit = kind.bytes_max();
    let mut bytes = Vec::new();
    handle.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { file, noun: kind.noun(), limit, name: kind.limit_name() });
    }
    Ok(bytes)
}

/// What a path names when it is something no input file can be: a FIFO or a socket.
pub fn never_a_file(metadata: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = metadata.file_type();
    if kind.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

/// Deserializes a sequence of at most `MAX` items, refusing the next one as it arrives: a
/// count limit is enforced while parsing, before a hostile file's items are all in memory.
/// Use as `#[serde(deserialize_with = "bounded_vec::<_, _, LIMIT>")]`.
pub fn bounded_vec<'de, D, T, const MAX: usize>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct Visitor<T, const MAX: usize>(std::marker::PhantomData<T>);

    impl<'de, T: serde::Deserialize<'de>, const MAX: usize> serde::de::Visitor<'de> for Visitor<T, MAX> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "a list of at most {MAX} entries")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX).min(1024));
            while let Some(item) = seq.next_element()? {
                if items.len() == MAX {
                    return Err(serde::de::Error::custom(format!(
                        "more than {MAX} entries; at most {MAX} are allowed"
                    )));
                }
                items.push(item);
            }
            Ok(items)
        }
    }

    deserializer.deserialize_seq(Visitor::<T, MAX>(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_device_is_refused_at_the_limit() {
        let error = read_bounded(Path::new("/dev/zero"), InputKind::Scenario).unwrap_err();
        assert!(matches!(error, ReadError::TooLarge { limit: SCENARIO_BYTES_MAX, .. }), "{error}");
        let message = error.to_string();
        assert!(message.starts_with("/dev/zero: the scenario file is larger than"), "{message}");
        assert!(message.contains("SCENARIO_BYTES_MAX"), "{message}");
    }

    #[test]
    fn a_directory_and_a_missing_file_say_so() {
        let error = read_bounded(Path::new("/"), InputKind::Vectors).unwrap_err();
        assert_eq!(error.to_string(), "/: cannot read the vectors file: it is a directory");
        let error = read_bounded(Path::new("/no/such/file.wasm"), InputKind::Component).unwrap_err();
        assert!(error.to_string().starts_with("/no/such/file.wasm: cannot read the component: "), "{error}");
    }

    #[derive(Debug, serde::Deserialize)]
    struct List {
        #[serde(deserialize_with = "bounded_vec::<_, _, 3>")]
        items: Vec<u8>,
    }

    #[test]
    fn a_bounded_list_refuses_the_entry_past_its_limit() {
        assert_eq!(serde_json::from_str::<List>(r#"{"items":[1,2,3]}"#).unwrap().items, [1, 2, 3]);
        let error = serde_json::from_str::<List>("{\"items\":[1,2,3,\n4]}").unwrap_err();
        assert!(error.to_string().contains("more than 3 entries"), "{error}");
        assert_eq!(error.line(), 2, "the error points at the entry past the limit");
    }

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let bytes = read_bounded(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml").as_path(),
            InputKind::Scenario,
        )
        .unwrap();
        assert!(bytes.starts_with(b"[package]"));
    }
}
