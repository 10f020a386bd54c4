//! Packages a build context and reports how fast, how big and how much memory: the benchmark
//! behind `scripts/bench-context.sh` (not a test: timings depend on the machine).
//!
//! `cargo run --release -p defang-resources --example package_context -- <dir> [dockerfile]`

use defang_resources::build::{context_digest, package_context};
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: package_context <context dir> [dockerfile]");
        std::process::exit(2);
    };
    let dockerfile = args.get(1).map(String::as_str);
    let out_dir = std::env::temp_dir().join(format!("bench-context-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("temp dir");
    let out = out_dir.join("context.tar.gz");

    let started = Instant::now();
    let digest = context_digest(Path::new(dir), dockerfile).unwrap_or_else(|e| fail(e));
    let digest_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let packaged = package_context(Path::new(dir), dockerfile, &out).unwrap_or_else(|e| fail(e));
    let package_secs = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out_dir);

    assert_eq!(
        digest, packaged.context_digest,
        "digest and archive disagree"
    );
    let mb = packaged.content_bytes as f64 / 1_000_000.0;
    println!("files:           {}", packaged.files);
    println!("content:         {mb:.1} MB");
    println!(
        "archive:         {:.1} MB ({:.0}% of content)",
        packaged.bytes as f64 / 1_000_000.0,
        100.0 * packaged.bytes as f64 / packaged.content_bytes.max(1) as f64
    );
    println!(
        "context_digest:  {digest_secs:.2} s, {:.0} MB/s",
        mb / digest_secs
    );
    println!(
        "package_context: {package_secs:.2} s, {:.0} MB/s",
        mb / package_secs
    );
    println!("peak RSS:        {}", peak_rss());
    println!("sha256:          {}", packaged.sha256);
}

fn fail(err: impl std::fmt::Display) -> ! {
    eprintln!("{err}");
    std::process::exit(1);
}

/// The process's high-water mark of resident memory (Linux), e.g. "3.1 MB".
fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kb| format!("{:.1} MB", kb / 1000.0))
}
