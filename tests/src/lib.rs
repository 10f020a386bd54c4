//! Test harness: a real moto server, the real provider binary launched the way the engine
//! launches it, a recording Engine for its log messages, and a gRPC client.

pub mod engine;
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
