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

/// A component that cannot be a validator (here the reference validator with its `validate`
/// export renamed) is refused from its outline, before anything is compiled: no cache entry
/// appears, and the message names what is missing.
#[test]
fn a_misfit_is_refused_before_it_is_compiled() {
    let dir = scratch_dir("misfit");
    let mut bytes = authzlab_plugins::UNITY_CONNECTION.bytes.to_vec();
    assert_eq!(authzlab_host::component_shape::misfit(&bytes), None, "the reference validator fits");
    // Every `validate` name, nested modules' included: the outline sees the top level's.
    let mut renamed = 0;
    while let Some(at) = bytes.windows(8).position(|window| window == b"validate") {
        bytes[at..at + 8].copy_from_slice(b"validatf");
        renamed += 1;
    }
    assert!(renamed > 0);
    let host = PluginHost::new(Limits::default(), 0).unwrap().with_cache_dir(&dir);
    let error = host.load("unity-misfit", &bytes).err().expect("refused").to_string();
    assert!(error.contains("it does not export validate (it exports"), "{error}");
    assert!(error.contains("does not fit the authzlab:validator@0.3.0 world"), "{error}");
    assert!(!dir.exists() || cached_files(&dir).is_empty(), "nothing was compiled");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A core module, an empty component and garbage after a component header are refused from
/// the outline with their reasons, never a panic.
#[test]
fn outlines_that_are_not_validators_are_named() {
    use authzlab_host::component_shape::misfit;
    let core = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    assert_eq!(misfit(&core).as_deref(), Some("a core module, not a component"));
    let empty_component = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    assert_eq!(
        misfit(&empty_component).as_deref(),
        Some("it does not export describe and validate (it exports nothing)")
    );
    let garbage = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff];
    assert!(misfit(&garbage).is_some_and(|reason| reason.starts_with("not a well-formed component")));
}
