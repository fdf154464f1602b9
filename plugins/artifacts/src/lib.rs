//! The guest plugins, built to wasm32-wasip2 components by this crate's build script during
//! `cargo build` and `cargo test`: no manual step. The bytes are embedded, so the `authzlab`
//! binary carries its reference validators wherever it is copied.

/// One built plugin component.
#[derive(Clone, Copy, Debug)]
pub struct Artifact {
    /// The package name in `plugins/`, e.g. `unity-connection`.
    pub name: &'static str,
    /// Where the component was written (under `plugins/target`).
    pub path: &'static str,
    /// The component itself.
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// The built-in plugin with this package name.
pub fn by_name(name: &str) -> Option<Artifact> {
    ALL.iter().copied().find(|artifact| artifact.name == name)
}
