//! Running the `authzlab` binary as a user runs it, for the binary's tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository's top directory: the binary runs there, as the README's commands do.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("sim/ is in the repository").to_path_buf()
}

/// The precompile cache the tests share (one per test binary run).
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!("authzlab-test-cache-{}", std::process::id()))
}

/// Runs the binary with `args` and extra environment variables.
pub fn authzlab_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authzlab"));
    command.args(args).current_dir(repo()).env("AUTHZLAB_CACHE_DIR", cache_dir());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

pub fn authzlab(args: &[&str]) -> Output {
    authzlab_with(args, &[])
}

/// `authzlab plugin check COMPONENT --vectors VECTORS`.
pub fn plugin_check(component: &str, vectors: &str) -> Output {
    authzlab(&["plugin", "check", component, "--vectors", vectors])
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A path for `name` in this test run's scratch directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authzlab-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    dir.join(name)
}

/// Writes `contents` to a scratch file and returns its path.
pub fn write(name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, contents).expect("the scratch directory is writable");
    path
}

/// The shipped conformance vectors, to edit into a hostile variant.
pub fn shipped_vectors() -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("tests/vectors/unity-connection.json")).expect("shipped");
    serde_json::from_str(&text).expect("the shipped vectors file is JSON")
}
