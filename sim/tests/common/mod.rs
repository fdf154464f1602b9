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

/// Debian's Chromium, for the timeline page's tests: `AUTHZLAB_CHROMIUM` or
/// `/usr/bin/chromium`. Without one a test says so and passes, unless
/// `AUTHZLAB_REQUIRE_CHROMIUM=1` (CI, which installs it) makes that a failure.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("AUTHZLAB_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("AUTHZLAB_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
        "AUTHZLAB_REQUIRE_CHROMIUM=1 but there is no Chromium at {} (apt-get install chromium)",
        path.display()
    );
    eprintln!("no Chromium at {}: the page is not opened in a browser here", path.display());
    None
}

/// What headless Chromium makes of `page` after its scripts ran: the DOM, and the console
/// lines it logged (`INFO:CONSOLE...`: the page logs nothing when all is well).
pub fn open_in_chromium(chromium: &std::path::Path, page: &std::path::Path) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().expect("a temporary profile directory");
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1600,1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Chromium runs");
    let console =
        text(&output.stderr).lines().filter(|line| line.contains(":CONSOLE")).map(str::to_string).collect();
    (text(&output.stdout), console)
}
