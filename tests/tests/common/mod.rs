//! Helpers shared by the end-to-end tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use authzlab_host::{Limits, Plugin, PluginHost};
use authzlab_plugins::Artifact;

/// One plugin host per test binary: compiling a component is the slowest part of a test,
/// and the host keeps compiled components by content hash.
pub fn plugins() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| PluginHost::new(Limits::default(), 0).expect("the plugin engine starts"))
}

/// `artifact`, a component built from `plugins/`, loaded into the shared host.
pub fn load(artifact: Artifact) -> Plugin {
    plugins().load(artifact.name, artifact.bytes).unwrap_or_else(|e| panic!("{} loads: {e}", artifact.name))
}

/// The repository's top directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repository").to_path_buf()
}

/// Every scenario file of the library, in name order.
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/ is in the repository")
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    files.sort();
    files
}
