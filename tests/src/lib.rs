//! Test harness: a real moto server, the real provider binary launched the way the engine
//! launches it, a recording Engine for its log messages, and a gRPC client.

pub mod engine;
pub mod faults;
pub mod inventory;
pub mod languages;
pub mod moto;
pub mod provider;
pub mod pulumi;

pub use engine::RecordingEngine;
pub use moto::Moto;
pub use provider::ProviderProcess;

use pulumi_plugin::{PropertyMap, Value};
use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where the test command keeps installed tools (`DEFANG_CACHE_DIR`, else `<repo>/.cache`).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("DEFANG_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".cache"))
}

/// Copies the folder `src` into `dst` (files, folders and dotfiles; no symlinks here).
pub fn copy_tree(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap().flatten() {
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// The files under `dir` whose bytes contain `needle` (symlinked folders are not followed): for
/// searching a workspace for a leaked secret.
pub fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file()
                && std::fs::read(&path)
                    .unwrap_or_default()
                    .windows(needle.len())
                    .any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

/// A URN the way the engine builds it.
pub fn urn(type_token: &str, name: &str) -> String {
    format!("urn:pulumi:test::itest::{type_token}::{name}")
}

/// A property map from JSON (secrets and unknowns added by the caller where needed).
pub fn props(json: serde_json::Value) -> PropertyMap {
    match pulumi_plugin::value::from_json(json) {
        Value::Object(map) => map,
        other => panic!("not an object: {other:?}"),
    }
}

/// The runtime for the synchronous end-to-end tests' AWS SDK checks.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A short random suffix so tests sharing one emulator never collide.
pub fn unique(prefix: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{:x}{count}", nanos % 0xfffff)
}

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Checks outputs against the package schema: every required output is there and nothing
/// undocumented is.
pub fn assert_outputs_match_schema(type_token: &str, outputs: &PropertyMap) {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("schema.json")).unwrap())
            .unwrap();
    let resource = &schema["resources"][type_token];
    let documented: Vec<&str> = resource["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in outputs.keys() {
        assert!(
            documented.contains(&key.as_str()),
            "{type_token} output `{key}` is not in schema.json"
        );
    }
    for required in resource["required"].as_array().unwrap() {
        let required = required.as_str().unwrap();
        assert!(
            outputs.contains_key(required),
            "{type_token} output `{required}` (required in schema.json) is missing"
        );
    }
}
