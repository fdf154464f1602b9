//! The precompile cache: a component compiled once is stored by content hash and engine
//! compatibility hash, reused by the next host, and a damaged file is recompiled rather than
//! trusted or fatal.

use std::path::PathBuf;

use authzlab_host::{Limits, PluginHost};

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authzlab-cache-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cached_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn compiled_components_are_cached_reused_and_repaired() {
    let dir = scratch_dir("reuse");
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    let host = || PluginHost::new(Limits::default(), 0).unwrap().with_cache_dir(&dir);

    let first = host().load(artifact.name, artifact.bytes).unwrap();
    assert_eq!(first.info().consumer, "unity-connection");
    let files = cached_files(&dir);
    assert_eq!(files.len(), 1, "one precompiled file, no temporaries left: {files:?}");
    assert!(files[0].extension().is_some_and(|ext| ext == "cwasm"));
    let size = std::fs::metadata(&files[0]).unwrap().len();
    assert!(size > 1000);

    // A second host loads from the cache and gets a working plugin.
    let second = host().load(artifact.name, artifact.bytes).unwrap();
    assert_eq!(second.info(), first.info());
    assert_eq!(cached_files(&dir), files);

    // A damaged cache file is recompiled and replaced, never fatal.
    std::fs::write(&files[0], b"damaged").unwrap();
    let third = host().load(artifact.name, artifact.bytes).unwrap();
    assert_eq!(third.info(), first.info());
    assert_eq!(std::fs::metadata(&files[0]).unwrap().len(), size);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unwritable_cache_only_costs_a_compile() {
    let artifact = authzlab_plugins::UNITY_CONNECTION;
    let host =
        PluginHost::new(Limits::default(), 0).unwrap().with_cache_dir("/proc/authzlab-cannot-write-here");
    assert!(host.load(artifact.name, artifact.bytes).is_ok());
}
