//! `ps` output: an aligned table for a terminal (coloured only when asked: the binary asks
//! when stdout is a terminal and NO_COLOR is unset) and JSON for scripts.

use super::project::ProjectSite;
use super::ps::{Health, ServiceRow};
use super::time::{age, rfc3339};
use serde_json::json;

const HEADERS: [&str; 8] = [
    "NAME",
    "STATUS",
    "RUNNING",
    "DEPLOYED",
    "DIGEST",
    "HEALTH",
    "DOMAIN",
    "ENDPOINTS",
];
/// Hex digits of a digest the table shows (as `docker images` does); JSON has all of it.
const SHORT_DIGEST: usize = 12;

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

/// The table, one line per service (and a line saying so when there is none).
pub fn table(site: &ProjectSite, rows: &[ServiceRow], now_ms: i64, colour: bool) -> String {
    if rows.is_empty() {
        return format!(
            "no services in project {} (cluster {})\n",
            site.name, site.cluster
        );
    }
    let cells: Vec<[String; 8]> = rows.iter().map(|r| cells(r, now_ms)).collect();
    let mut widths = HEADERS.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[String; 8], colours: [Option<&str>; 8]| {
        let mut parts = Vec::with_capacity(8);
        for (i, cell) in row.iter().enumerate() {
            let padded = if i + 1 == row.len() {
                cell.clone()
            } else {
                format!("{cell:<width$}", width = widths[i])
            };
            parts.push(match colours[i] {
                Some(c) if colour => format!("{c}{padded}{RESET}"),
                _ => padded,
            });
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&mut out, &HEADERS.map(String::from), [None; 8]);
    for (row, cells) in rows.iter().zip(&cells) {
        let mut colours = [None; 8];
        colours[1] = Some(status_colour(&row.status));
        colours[5] = row.health.as_ref().map(health_colour);
        line(&mut out, cells, colours);
    }
    out
}

fn cells(row: &ServiceRow, now_ms: i64) -> [String; 8] {
    let dash = || "-".to_string();
    [
        row.name.clone(),
        row.status.clone(),
        format!("{}/{}", row.running, row.desired),
        row.deployed_at_ms
            .map_or_else(dash, |at| format!("{} ago", age(at, now_ms))),
        row.digest.as_deref().map_or_else(dash, short_digest),
        row.health.as_ref().map_or_else(dash, Health::label),
        row.domain.clone().unwrap_or_else(dash),
        if row.endpoints.is_empty() {
            dash()
        } else {
            row.endpoints.join(",")
        },
    ]
}

/// `sha256:0123456789ab` (each of several digests, comma-separated).
fn short_digest(digests: &str) -> String {
    digests
        .split(',')
        .map(|d| match d.split_once(':') {
            Some((algorithm, hex)) => {
                format!("{algorithm}:{}", &hex[..hex.len().min(SHORT_DIGEST)])
            }
            None => d.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn status_colour(status: &str) -> &'static str {
    match status {
        "SERVICE_DEPLOYMENT_COMPLETED" => GREEN,
        s if s.ends_with("_FAILED") => RED,
        _ => YELLOW,
    }
}

fn health_colour(health: &Health) -> &'static str {
    match health {
        Health::Healthy => GREEN,
        Health::Unhealthy(_) | Health::Error(_) => RED,
    }
}

/// `{"project", "cluster", "services": [...]}`, each service with `deployedAt` (RFC 3339) and
/// `deployedAgeSeconds` besides the row's fields.
pub fn json(site: &ProjectSite, rows: &[ServiceRow], now_ms: i64) -> serde_json::Value {
    let services: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let mut value = serde_json::to_value(row).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.remove("deployedAtMs");
                object.insert("deployedAt".into(), row.deployed_at_ms.map(rfc3339).into());
                object.insert(
                    "deployedAgeSeconds".into(),
                    row.deployed_at_ms
                        .map(|at| (now_ms - at).max(0) / 1000)
                        .into(),
                );
            }
            value
        })
        .collect();
    json!({ "project": site.name, "cluster": site.cluster, "services": services })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests_support::site;

    fn row(name: &str, status: &str) -> ServiceRow {
        ServiceRow {
            name: name.into(),
            status: status.into(),
            running: 1,
            desired: 2,
            pending: 1,
            image: Some("nginx:1.27".into()),
            digest: Some(
                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            ),
            domain: Some(format!("{name}--80.shop.alice.defang.app")),
            endpoints: vec![
                format!("https://{name}--80.shop.alice.defang.app"),
                format!("{name}.shop.internal:9000"),
            ],
            deployed_at_ms: Some(1_000_000 - 300_000),
            health: Some(Health::Unhealthy(503)),
        }
    }

    #[test]
    fn the_table_is_aligned_and_plain_without_colour() {
        let mut api = row("api", "SERVICE_DEPLOYMENT_FAILED");
        api.domain = None;
        api.health = None;
        api.digest = None;
        api.deployed_at_ms = None;
        api.endpoints = vec!["api.shop.internal:3000".into()];
        let text = table(
            &site(),
            &[api, row("web", "SERVICE_DEPLOYMENT_COMPLETED")],
            1_000_000,
            false,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(
            lines[0],
            "NAME  STATUS                        RUNNING  DEPLOYED  DIGEST               HEALTH           DOMAIN                         ENDPOINTS"
        );
        assert_eq!(
            lines[1],
            "api   SERVICE_DEPLOYMENT_FAILED     1/2      -         -                    -                -                              api.shop.internal:3000"
        );
        assert_eq!(
            lines[2],
            "web   SERVICE_DEPLOYMENT_COMPLETED  1/2      5m ago    sha256:0123456789ab  unhealthy (503)  web--80.shop.alice.defang.app  https://web--80.shop.alice.defang.app,web.shop.internal:9000"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn colour_only_when_asked_and_alignment_kept() {
        let text = table(
            &site(),
            &[row("web", "SERVICE_DEPLOYMENT_COMPLETED")],
            1_000_000,
            true,
        );
        assert!(
            text.contains(&format!("{GREEN}SERVICE_DEPLOYMENT_COMPLETED{RESET}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("{RED}unhealthy (503){RESET}")),
            "{text}"
        );
        let plain = text.replace(GREEN, "").replace(RED, "").replace(RESET, "");
        assert_eq!(
            plain,
            table(
                &site(),
                &[row("web", "SERVICE_DEPLOYMENT_COMPLETED")],
                1_000_000,
                false
            )
        );
        assert_eq!(
            table(&site(), &[], 0, true),
            "no services in project shop (cluster defang-shop)\n"
        );
    }

    #[test]
    fn json_has_every_field_and_the_deployment_time() {
        let value = json(&site(), &[row("web", "UPDATE_QUEUED")], 1_000_000);
        assert_eq!(value["project"], "shop");
        assert_eq!(value["cluster"], "defang-shop");
        let web = &value["services"][0];
        assert_eq!(web["name"], "web");
        assert_eq!(web["status"], "UPDATE_QUEUED");
        assert_eq!(
            (
                web["running"].as_i64(),
                web["desired"].as_i64(),
                web["pending"].as_i64()
            ),
            (Some(1), Some(2), Some(1))
        );
        assert_eq!(web["image"], "nginx:1.27");
        assert_eq!(web["domain"], "web--80.shop.alice.defang.app");
        assert_eq!(web["endpoints"][1], "web.shop.internal:9000");
        assert_eq!(web["deployedAt"], rfc3339(700_000));
        assert_eq!(web["deployedAgeSeconds"], 300);
        assert_eq!(
            web["health"],
            json!({"state": "unhealthy (503)", "code": 503})
        );
        assert!(web.get("deployedAtMs").is_none());
        assert_eq!(
            web["digest"],
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        );
    }
}
