//! Value conversion and diff, the work every RPC does: protobuf `Struct` <-> [`PropertyMap`],
//! JSON -> [`Value`] and [`diff_properties`], on a small (5 properties) and a large (a service
//! with 40 environment variables, secrets and ports) property map.
//!
//! `cargo bench -p pulumi-plugin`; `scripts/bench/criterion_summary.py` prints the results.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pulumi_plugin::value::{from_json, properties_from_struct, properties_to_struct};
use pulumi_plugin::{PropertyMap, Value, diff_properties};
use serde_json::json;
use std::hint::black_box;
use std::time::Duration;

fn small_json() -> serde_json::Value {
    json!({
        "project": "shop",
        "name": "web",
        "image": "nginx:1.27-alpine",
        "replicas": 2,
        "waitForSteadyState": true,
    })
}

fn large_json() -> serde_json::Value {
    let environment: serde_json::Map<String, serde_json::Value> = (0..40)
        .map(|i| {
            (
                format!("APP_SETTING_{i:02}"),
                json!(format!("value-{i}-of-the-setting-with-some-length")),
            )
        })
        .collect();
    json!({
        "project": "shop",
        "name": "api",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:2024-06-01-abcdef0",
        "ports": [
            {"target": 8080, "mode": "ingress", "appProtocol": "http"},
            {"target": 9090, "mode": "host", "protocol": "tcp"},
            {"target": 5353, "mode": "host", "protocol": "udp"},
        ],
        "environment": environment,
        "command": ["/app/api", "--listen", ":8080", "--metrics", ":9090"],
        "replicas": 3,
        "cpus": 1.0,
        "memory": "2GiB",
        "platform": "linux/arm64",
        "healthCheck": {
            "test": ["CMD", "curl", "-f", "http://localhost:8080/healthz"],
            "intervalSeconds": 10,
            "timeoutSeconds": 5,
            "retries": 3,
            "startPeriodSeconds": 30,
        },
        "domainName": "api.example.com",
        "waitForSteadyState": true,
    })
}

fn object(v: Value) -> PropertyMap {
    match v {
        Value::Object(map) => map,
        other => panic!("not an object: {other:?}"),
    }
}

fn small() -> PropertyMap {
    object(from_json(small_json()))
}

/// The large map, with 4 environment values and the domain secret.
fn large() -> PropertyMap {
    let mut map = object(from_json(large_json()));
    if let Some(Value::Object(env)) = map.get_mut("environment") {
        for key in [
            "APP_SETTING_03",
            "APP_SETTING_11",
            "APP_SETTING_27",
            "APP_SETTING_39",
        ] {
            let v = env.remove(key).expect("variable");
            env.insert(key.into(), v.into_secret());
        }
    }
    let domain = map.remove("domainName").expect("domainName");
    map.insert("domainName".into(), domain.into_secret());
    map
}

/// Leaf values (strings, numbers, bools, nulls) in the map: the elements of a throughput.
fn leaves(map: &PropertyMap) -> u64 {
    fn count(v: &Value) -> u64 {
        match v {
            Value::Array(items) => items.iter().map(count).sum(),
            Value::Object(map) => map.values().map(count).sum(),
            Value::Secret(inner) => count(inner),
            _ => 1,
        }
    }
    map.values().map(count).sum()
}

fn cases() -> [(&'static str, PropertyMap, serde_json::Value); 2] {
    [
        ("small", small(), small_json()),
        ("large", large(), large_json()),
    ]
}

fn conversion(c: &mut Criterion) {
    let mut g = c.benchmark_group("value");
    for (size, props, json) in cases() {
        let proto = properties_to_struct(&props);
        assert_eq!(properties_from_struct(Some(&proto)), props);
        g.throughput(Throughput::Elements(leaves(&props)));
        g.bench_function(format!("properties_to_struct/{size}"), |b| {
            b.iter(|| properties_to_struct(black_box(&props)))
        });
        g.bench_function(format!("properties_from_struct/{size}"), |b| {
            b.iter(|| properties_from_struct(black_box(Some(&proto))))
        });
        g.bench_function(format!("from_json/{size}"), |b| {
            b.iter_batched(
                || json.clone(),
                |json| from_json(black_box(json)),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn diff(c: &mut Criterion) {
    let mut g = c.benchmark_group("diff_properties");
    let replace_keys = ["project", "name"];
    for (size, olds, _) in cases() {
        let mut news = olds.clone();
        news.insert("image".into(), Value::from("nginx:1.28-alpine"));
        if let Some(Value::Object(env)) = news.get_mut("environment") {
            env.insert("APP_SETTING_20".into(), Value::from("changed"));
        }
        assert!(!diff_properties(&olds, &olds, &replace_keys).has_changes());
        assert!(diff_properties(&olds, &news, &replace_keys).has_changes());
        g.throughput(Throughput::Elements(leaves(&olds)));
        g.bench_function(format!("unchanged/{size}"), |b| {
            b.iter(|| diff_properties(black_box(&olds), black_box(&olds), &replace_keys))
        });
        g.bench_function(format!("changed/{size}"), |b| {
            b.iter(|| diff_properties(black_box(&olds), black_box(&news), &replace_keys))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = conversion, diff
}
criterion_main!(benches);
