//! RPC micro-benchmark of the provider binary, launched as the engine launches it.
//!
//! 1. Cold start: time from spawn to the port line on stdout over `--runs` launches (median,
//!    min, max), and the resident memory (VmRSS) right after the port line and after a
//!    Handshake + GetSchema, with its private part (RssAnon): VmRSS also counts the binary's
//!    clean file pages, and how many of those the kernel maps per fault depends on the file's
//!    page-cache state (the same binary measured 9.7 MiB, and 11.4 MiB as a freshly written
//!    copy), so compare VmRSS only between binaries in the same state; RssAnon is what the
//!    process itself costs.
//! 2. Nagle check: on one connection, Check calls of a `defang:index:Service` whose reply is
//!    about 100 bytes and about 2 KB (no Configure: such a Check makes no cloud calls). A reply
//!    larger than one segment that waited for a delayed ACK would show as ~40 ms.
//! 3. CPU per call: the provider's own on-CPU time per small Check, back to back, 5 ms apart,
//!    and 5 ms apart with a 64 MiB buffer walked in between (what the engine's work does to
//!    the provider's caches in a large preview, where the provider's CPU per service was found
//!    to grow with the preview's length while its instruction count did not); and 5 ms apart
//!    from a client that probes bandwidth as the engine's grpc-go client does (a PING whenever
//!    a reply arrives and no probe is outstanding), counting all of the provider's time over
//!    the calls, so what answering the probes costs shows.
//!
//! ```sh
//! cargo build --release -p pulumi-resource-defang
//! cargo build --release -p defang-tests --bin rpc_bench
//! $CARGO_TARGET_DIR/release/rpc_bench [--provider PATH] [--runs 20] [--calls 20] [--json]
//! ```
//!
//! The table goes to stdout; with `--json` stdout has one JSON object per figure instead and
//! the table goes to stderr.

use defang_tests::RecordingEngine;
use prost::Message;
use pulumi_plugin::rpc;
use pulumi_plugin::rpc::resource_provider_client::ResourceProviderClient;
use pulumi_plugin::value::{from_json, properties_to_struct};
use pulumi_plugin::{PropertyMap, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

const SERVICE: &str = "defang:index:Service";
const WARM_UP_CALLS: usize = 5;

struct Args {
    provider: PathBuf,
    runs: usize,
    calls: usize,
    json: bool,
}

fn usage() -> ! {
    eprintln!("usage: rpc_bench [--provider PATH] [--runs N] [--calls N] [--json]");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| defang_tests::repo_root().join("target"));
    let mut args = Args {
        provider: target.join("release/pulumi-resource-defang"),
        runs: 20,
        calls: 20,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        let count = |v: String| match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => usage(),
        };
        match arg.as_str() {
            "--provider" => args.provider = PathBuf::from(value()),
            "--runs" => args.runs = count(value()),
            "--calls" => args.calls = count(value()),
            "--json" => args.json = true,
            _ => usage(),
        }
    }
    if !args.provider.exists() {
        eprintln!(
            "rpc_bench: {} is missing: run `cargo build --release -p pulumi-resource-defang` or pass --provider",
            args.provider.display()
        );
        std::process::exit(1);
    }
    args
}

/// A launched provider: the process and the port it printed.
struct Launched {
    child: Child,
    port: u16,
    /// Spawn to port line.
    start: Duration,
}

/// Launches the provider as the engine does (engine address as the last argument) and reads the
/// port line. The AWS settings point nowhere: nothing here may reach a cloud.
fn launch(provider: &PathBuf, engine_address: &str) -> Launched {
    let started = Instant::now();
    let mut child = Command::new(provider)
        .arg(engine_address)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("launch {}: {e}", provider.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port line");
    let start = started.elapsed();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a port line: {line:?}"));
    Launched { child, port, start }
}

impl Launched {
    /// VmRSS in KiB.
    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// RssAnon (private memory) in KiB.
    fn anon_kib(&self) -> u64 {
        self.status_kib("RssAnon:")
    }

    /// A KiB field of /proc/<pid>/status.
    fn status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with(field))?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{field} of the provider"))
    }

    async fn client(&self) -> ResourceProviderClient<Channel> {
        let channel = Channel::from_shared(format!("http://127.0.0.1:{}", self.port))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        ResourceProviderClient::new(channel).max_decoding_message_size(400 * 1024 * 1024)
    }

    /// Ends the process as the engine does: SIGINT, then wait.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One figure: printed as a table row, or as a JSON object.
struct Figure {
    id: String,
    value: f64,
    unit: &'static str,
    note: String,
}

fn figure(id: &str, value: f64, unit: &'static str, note: impl Into<String>) -> Figure {
    Figure {
        id: id.to_string(),
        value,
        unit,
        note: note.into(),
    }
}

fn props(json: serde_json::Value) -> PropertyMap {
    match from_json(json) {
        Value::Object(map) => map,
        other => panic!("not an object: {other:?}"),
    }
}

fn check_request(news: &PropertyMap) -> rpc::CheckRequest {
    rpc::CheckRequest {
        urn: format!("urn:pulumi:bench::rpcbench::{SERVICE}::web"),
        name: "web".into(),
        r#type: SERVICE.into(),
        olds: Some(properties_to_struct(&PropertyMap::new())),
        news: Some(properties_to_struct(news)),
        random_seed: vec![0; 32],
        autonaming: None,
    }
}

/// Check latencies (ms, sorted) of `calls` calls after a warm-up, and the encoded reply size.
async fn time_checks(
    client: &mut ResourceProviderClient<Channel>,
    news: &PropertyMap,
    calls: usize,
) -> (Vec<f64>, usize) {
    let request = check_request(news);
    let mut size = 0;
    for _ in 0..WARM_UP_CALLS {
        let reply = client
            .check(request.clone())
            .await
            .expect("check")
            .into_inner();
        assert!(
            reply.failures.is_empty(),
            "the benchmark's service fails Check: {:?}",
            reply.failures
        );
        size = reply.encoded_len();
    }
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let request = request.clone();
        let started = Instant::now();
        let reply = client.check(request).await.expect("check");
        times.push(ms(started.elapsed()));
        drop(reply);
    }
    (sorted(times), size)
}

async fn run(args: &Args) -> Vec<Figure> {
    let engine = RecordingEngine::default();
    let engine_address = engine.serve().await;
    let mut figures = Vec::new();

    // 1. Cold start and memory.
    let mut starts = Vec::new();
    let mut rss_port = Vec::new();
    let mut rss_schema = Vec::new();
    let mut anon_port = Vec::new();
    let mut anon_schema = Vec::new();
    let mut schema_bytes = 0;
    for _ in 0..args.runs {
        let provider = args.provider.clone();
        let address = engine_address.clone();
        // Blocking spawn and read, off the runtime that serves the engine.
        let p = tokio::task::spawn_blocking(move || launch(&provider, &address))
            .await
            .expect("launch");
        starts.push(ms(p.start));
        rss_port.push(p.rss_kib() as f64);
        anon_port.push(p.anon_kib() as f64);
        let mut client = p.client().await;
        client
            .handshake(rpc::ProviderHandshakeRequest {
                engine_address: engine_address.clone(),
                ..Default::default()
            })
            .await
            .expect("handshake");
        let schema = client
            .get_schema(rpc::GetSchemaRequest::default())
            .await
            .expect("get schema")
            .into_inner();
        schema_bytes = schema.schema.len();
        rss_schema.push(p.rss_kib() as f64);
        anon_schema.push(p.anon_kib() as f64);
        drop(client);
        tokio::task::spawn_blocking(move || p.stop())
            .await
            .expect("stop");
    }
    let starts = sorted(starts);
    let runs = format!("{} runs", args.runs);
    figures.push(figure("cold_start.median", median(&starts), "ms", &runs));
    figures.push(figure("cold_start.min", starts[0], "ms", &runs));
    figures.push(figure(
        "cold_start.max",
        starts[starts.len() - 1],
        "ms",
        &runs,
    ));
    figures.push(figure(
        "rss.after_port_line.median",
        median(&sorted(rss_port)) / 1024.0,
        "MiB",
        "VmRSS",
    ));
    figures.push(figure(
        "rss.after_get_schema.median",
        median(&sorted(rss_schema)) / 1024.0,
        "MiB",
        format!("VmRSS, after Handshake + GetSchema ({schema_bytes} B schema)"),
    ));
    figures.push(figure(
        "rss_anon.after_port_line.median",
        median(&sorted(anon_port)) / 1024.0,
        "MiB",
        "RssAnon (private memory)",
    ));
    figures.push(figure(
        "rss_anon.after_get_schema.median",
        median(&sorted(anon_schema)) / 1024.0,
        "MiB",
        "RssAnon, after Handshake + GetSchema",
    ));

    // 2. Small and large Check replies on one connection.
    let provider = args.provider.clone();
    let address = engine_address.clone();
    let p = tokio::task::spawn_blocking(move || launch(&provider, &address))
        .await
        .expect("launch");
    let mut client = p.client().await;
    client
        .handshake(rpc::ProviderHandshakeRequest {
            engine_address: engine_address.clone(),
            ..Default::default()
        })
        .await
        .expect("handshake");
    let small = props(serde_json::json!({
        "project": "shop",
        "name": "web",
        "image": "public.ecr.aws/docker/library/nginx:1.27-alpine",
    }));
    let environment: serde_json::Map<String, serde_json::Value> = (0..50)
        .map(|i| {
            (
                format!("SETTING_{i:02}"),
                serde_json::json!(format!("value-{i:02}-of-a-setting")),
            )
        })
        .collect();
    let large = props(serde_json::json!({
        "project": "shop",
        "name": "web",
        "image": "nginx:1.27-alpine",
        "environment": environment,
    }));
    for (label, news) in [("small", &small), ("large", &large)] {
        let (times, size) = time_checks(&mut client, news, args.calls).await;
        let note = format!("{} calls, reply {size} B", args.calls);
        figures.push(figure(
            &format!("check.{label}.median"),
            median(&times),
            "ms",
            &note,
        ));
        figures.push(figure(
            &format!("check.{label}.p90"),
            percentile(&times, 90.0),
            "ms",
            &note,
        ));
        figures.push(figure(
            &format!("check.{label}.reply_bytes"),
            size as f64,
            "B",
            "prost encoded_len of the CheckResponse",
        ));
    }

    // 3. The provider's CPU per Check, back to back and paced as the engine paces a large
    //    preview (an RPC every few ms, the engine's own work in between).
    for (label, gap, thrash) in [
        ("back_to_back", Duration::ZERO, false),
        ("paced_5ms", Duration::from_millis(5), false),
        ("paced_5ms_cache_thrashed", Duration::from_millis(5), true),
    ] {
        let us = cpu_per_check(&mut client, p.child.id(), &small, gap, thrash).await;
        figures.push(figure(
            &format!("check.cpu_per_call.{label}"),
            us,
            "us",
            format!(
                "{PACED_CALLS} small Checks, provider on-CPU time (schedstat){}",
                if thrash {
                    ", a 64 MiB buffer walked between calls"
                } else {
                    ""
                }
            ),
        ));
    }
    drop(client);
    let (us, probes) = cpu_per_probed_check(p.port, p.child.id(), &small).await;
    figures.push(figure(
        "check.cpu_per_call.paced_5ms_probing_client",
        us,
        "us",
        format!(
            "{PACED_CALLS} small Checks from a client that PINGs after replies as grpc-go \
             does ({probes} probes sent)"
        ),
    ));
    tokio::task::spawn_blocking(move || p.stop())
        .await
        .expect("stop");
    figures
}

/// The provider's mean on-CPU time per Check (us) over [`PACED_CALLS`] Checks 5 ms apart from
/// a client that, like grpc-go's, sends a PING whenever a reply's data arrives and its last
/// PING has been answered; all of the provider's time from the first call to 50 ms after the
/// last counts. Also how many PINGs the client sent.
async fn cpu_per_probed_check(port: u16, pid: u32, news: &PropertyMap) -> (f64, usize) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let tcp = GrpcGoProbes(tcp);
    let (mut send, mut connection) = h2::client::handshake(tcp).await.expect("handshake");
    let mut pings = connection.ping_pong().expect("ping_pong");
    tokio::spawn(async move { connection.await.expect("connection") });
    let message = check_request(news).encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend((message.len() as u32).to_be_bytes());
    framed.extend(message);
    let framed = bytes::Bytes::from(framed);
    let (mut outstanding, mut probes) = (false, 0);
    let before = on_cpu_ns(pid);
    for _ in 0..PACED_CALLS {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let request = http::Request::post(format!(
            "http://127.0.0.1:{port}/pulumirpc.ResourceProvider/Check"
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("request");
        send = send.ready().await.expect("ready");
        let (reply, mut body) = send.send_request(request, false).expect("send");
        body.send_data(framed.clone(), true).expect("data");
        let mut reply = reply.await.expect("reply").into_body();
        while let Some(data) = reply.data().await {
            let data = data.expect("data");
            let _ = reply.flow_control().release_capacity(data.len());
            if outstanding {
                outstanding = std::future::poll_fn(|cx| {
                    std::task::Poll::Ready(pings.poll_pong(cx).is_pending())
                })
                .await;
            }
            if !outstanding {
                pings.send_ping(h2::Ping::opaque()).expect("ping");
                (outstanding, probes) = (true, probes + 1);
            }
        }
        let trailers = reply
            .trailers()
            .await
            .expect("trailers")
            .expect("grpc-status");
        assert_eq!(trailers["grpc-status"], "0", "{trailers:?}");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let spent = on_cpu_ns(pid) - before;
    (spent as f64 / PACED_CALLS as f64 / 1000.0, probes)
}

/// h2's own PING payload: the only one its `ping_pong` sends.
const H2_PING: [u8; 8] = [0x3b, 0x7c, 0xdb, 0x7a, 0x0b, 0x87, 0x16, 0xb4];

/// grpc-go's bandwidth probe's payload (`bdpPing`), which the provider treats as a probe.
const GRPC_GO_PROBE: [u8; 8] = [2, 4, 16, 16, 9, 14, 7, 7];

/// The client's socket, with h2's PINGs made to look like grpc-go's bandwidth probes on the
/// wire (h2 sends only its own payload) and their acknowledgements turned back for h2 (a PING
/// split across two writes or reads would be left as it is; over loopback they are not).
struct GrpcGoProbes(tokio::net::TcpStream);

/// Replaces, in `bytes`, each PING frame (flags `flags`) carrying `from` by one carrying `to`.
fn swap_ping_payload(bytes: &mut [u8], flags: u8, from: [u8; 8], to: [u8; 8]) {
    let header = [0, 0, 8, 6, flags, 0, 0, 0, 0];
    let mut at = 0;
    while at + 17 <= bytes.len() {
        if bytes[at..at + 9] == header && bytes[at + 9..at + 17] == from {
            bytes[at + 9..at + 17].copy_from_slice(&to);
            at += 17;
        } else {
            at += 1;
        }
    }
}

impl tokio::io::AsyncRead for GrpcGoProbes {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = std::pin::Pin::new(&mut self.0).poll_read(cx, buf);
        swap_ping_payload(&mut buf.filled_mut()[before..], 1, GRPC_GO_PROBE, H2_PING);
        read
    }
}

impl tokio::io::AsyncWrite for GrpcGoProbes {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let mut bytes = buf.to_vec();
        swap_ping_payload(&mut bytes, 0, H2_PING, GRPC_GO_PROBE);
        std::pin::Pin::new(&mut self.0).poll_write(cx, &bytes)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// How many Checks the CPU-per-call figures average over.
const PACED_CALLS: u32 = 400;

/// Nanoseconds the process has run on a CPU (its threads included): the first field of
/// /proc/<pid>/schedstat, exact where /proc/<pid>/stat counts 10 ms ticks.
fn on_cpu_ns(pid: u32) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("tasks of the provider") {
        let stat = std::fs::read_to_string(task.expect("task").path().join("schedstat"))
            .unwrap_or_default();
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// The provider's mean on-CPU time per Check, in microseconds, over [`PACED_CALLS`] calls
/// with `gap` between them; with `thrash`, the gap is spent walking a buffer larger than the
/// caches, as the engine's own work in a large preview evicts the provider's code and data.
async fn cpu_per_check(
    client: &mut ResourceProviderClient<Channel>,
    pid: u32,
    news: &PropertyMap,
    gap: Duration,
    thrash: bool,
) -> f64 {
    let request = check_request(news);
    let mut buffer = vec![0u8; if thrash { 64 << 20 } else { 0 }];
    let mut spent = 0;
    for i in 0..PACED_CALLS {
        if thrash {
            let until = Instant::now() + gap;
            let mut at = (i as usize * 4096) % buffer.len();
            while Instant::now() < until {
                for _ in 0..4096 {
                    buffer[at] = buffer[at].wrapping_add(1);
                    at = (at + 64) % buffer.len();
                }
            }
        } else if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        let before = on_cpu_ns(pid);
        client.check(request.clone()).await.expect("check");
        spent += on_cpu_ns(pid) - before;
    }
    std::hint::black_box(&buffer);
    spent as f64 / PACED_CALLS as f64 / 1000.0
}

fn table(figures: &[Figure]) -> String {
    let value = |f: &Figure| match f.unit {
        "B" | "us" => format!("{:.0} {}", f.value, f.unit),
        _ => format!("{:.2} {}", f.value, f.unit),
    };
    let w_id = figures.iter().map(|f| f.id.len()).max().unwrap_or(0);
    let w_value = figures.iter().map(|f| value(f).len()).max().unwrap_or(0);
    figures
        .iter()
        .map(|f| {
            format!("{:<w_id$}  {:>w_value$}  {}", f.id, value(f), f.note)
                .trim_end()
                .to_string()
                + "\n"
        })
        .collect()
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let figures = runtime.block_on(run(&args));
    let text = format!("provider: {}\n{}", args.provider.display(), table(&figures));
    if args.json {
        eprint!("{text}");
        for f in &figures {
            let value = (f.value * 1000.0).round() / 1000.0;
            println!(
                "{}",
                serde_json::json!({"figure": f.id, "value": value, "unit": f.unit, "note": f.note})
            );
        }
    } else {
        print!("{text}");
    }
}
