//! `ports` (short and long syntax) and `expose`, to the Service's `ports`.
//!
//! Fargate exposes the container port itself (awsvpc networking has no port mapping), so the
//! published port is not used: when it differs from the target, a warning says that the service
//! is reached on the target port. Short syntax and long syntax without `mode` are `ingress`, as in
//! Compose; `expose` lists ports reachable by the other services only, which is the Service's
//! `host` mode.
//!
//! A range (`"3000-3001"`, `"8000-8001:3000-3001"`) expands to one port per number, as Compose
//! does, up to [`MAX_RANGE`] ports.

use super::keys::closest;
use super::node::{Diag, Node, Text, index_path, key_path, shown};
use pulumi_plugin::{PropertyMap, Value};

/// The most ports one range may expand to: more is surely a mistake (and far more than a task's
/// load balancer rules could serve).
pub(crate) const MAX_RANGE: u32 = 100;

/// One port of the Service.
#[derive(Clone, Debug, PartialEq)]
struct Port {
    target: u16,
    mode: &'static str,
    protocol: &'static str,
    app_protocol: Option<&'static str>,
    secret: bool,
    /// Where it was written, for the duplicate warning.
    path: String,
}

impl Port {
    fn to_value(&self, explicit_protocol: bool) -> Value {
        let mut map = PropertyMap::new();
        map.insert("target".into(), Value::from(f64::from(self.target)));
        map.insert("mode".into(), Value::from(self.mode));
        if explicit_protocol || self.protocol != "tcp" {
            map.insert("protocol".into(), Value::from(self.protocol));
        }
        if let Some(app) = self.app_protocol {
            map.insert("appProtocol".into(), Value::from(app));
        }
        let value = Value::Object(map);
        if self.secret {
            value.into_secret()
        } else {
            value
        }
    }
}

/// The Service's `ports` from a service's `ports` and `expose`; `None` when there are none.
/// `Value::Unknown` when a port depends on a value not known yet (how many ports there are is
/// then not known either).
pub(crate) fn ports(
    ports: Option<&Node>,
    expose: Option<&Node>,
    service_path: &str,
    diag: &mut Diag,
) -> Option<Value> {
    let mut out: Vec<(Port, bool)> = Vec::new();
    let mut unknown = false;
    let mut add = |port: Port, explicit: bool, diag: &mut Diag, quiet: bool| {
        if let Some((first, _)) = out
            .iter()
            .find(|(p, _)| p.target == port.target && p.protocol == port.protocol)
        {
            // The Service lists a target once per protocol; `expose` repeating a port is normal.
            if !quiet {
                let which = if port.secret || first.secret {
                    "a container port".to_string()
                } else {
                    format!("the container port {}/{}", port.target, port.protocol)
                };
                diag.warn(
                    &port.path,
                    format!(
                        "repeats {which} of {}: a container port is exposed once, so this entry \
                         is dropped",
                        first.path
                    ),
                );
            }
            return;
        }
        out.push((port, explicit));
    };

    let ports_path = key_path(service_path, "ports");
    match ports {
        None | Some(Node::Null) => {}
        Some(Node::Seq(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = index_path(&ports_path, i);
                match item {
                    Node::Map(entries) => match long(entries, &path, diag) {
                        Parsed::Ports(list) => {
                            for (port, explicit) in list {
                                add(port, explicit, diag, false);
                            }
                        }
                        Parsed::Unknown => unknown = true,
                        Parsed::Invalid => {}
                    },
                    Node::Seq(_) | Node::Null => diag.wrong_type(
                        &path,
                        "a port such as \"80\" or \"8080:80\", or a mapping with `target`",
                        item,
                    ),
                    scalar => {
                        let Some(text) = scalar.scalar_text() else {
                            continue;
                        };
                        match short(&text, "ingress", &path, true, diag) {
                            Parsed::Ports(list) => {
                                for (port, explicit) in list {
                                    add(port, explicit, diag, false);
                                }
                            }
                            Parsed::Unknown => unknown = true,
                            Parsed::Invalid => {}
                        }
                    }
                }
            }
        }
        Some(other) => diag.wrong_type(&ports_path, "a list of ports", other),
    }

    let expose_path = key_path(service_path, "expose");
    match expose {
        None | Some(Node::Null) => {}
        Some(Node::Seq(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = index_path(&expose_path, i);
                let Some(text) = item.scalar_text() else {
                    diag.wrong_type(&path, "a port such as \"3000\" or \"3000/udp\"", item);
                    continue;
                };
                match short(&text, "host", &path, false, diag) {
                    Parsed::Ports(list) => {
                        for (port, explicit) in list {
                            add(port, explicit, diag, true);
                        }
                    }
                    Parsed::Unknown => unknown = true,
                    Parsed::Invalid => {}
                }
            }
        }
        Some(other) => diag.wrong_type(&expose_path, "a list of ports", other),
    }

    if unknown {
        return Some(Value::Unknown);
    }
    if out.is_empty() {
        return None;
    }
    Some(Value::Array(
        out.iter()
            .map(|(p, explicit)| p.to_value(*explicit))
            .collect(),
    ))
}

enum Parsed {
    /// The ports, each with whether its protocol was written.
    Ports(Vec<(Port, bool)>),
    Unknown,
    /// Reported in `diag`.
    Invalid,
}

/// A port number or range, each number 1–65535.
/// `secret`: the text came from a secret, so no message shows it.
fn range(text: &str, what: &str, path: &str, secret: bool, diag: &mut Diag) -> Option<(u16, u16)> {
    let number = |s: &str| -> Option<u16> {
        let n: u64 = s.trim().parse().ok()?;
        (1..=65535).contains(&n).then_some(n as u16)
    };
    let (lo, hi) = match text.split_once('-') {
        Some((lo, hi)) => (number(lo), number(hi)),
        None => {
            let n = number(text);
            (n, n)
        }
    };
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo <= hi => Some((lo, hi)),
        (Some(lo), Some(hi)) => {
            let message = if secret {
                format!("has a {what} range that ends before it starts: swap its two ports")
            } else {
                format!(
                    "has the {what} range {lo}-{hi}, which ends before it starts: write {hi}-{lo}"
                )
            };
            diag.error(path, message);
            None
        }
        _ => {
            diag.error(
                path,
                format!(
                    "has the {what} port {}, which is not a port number: ports are 1–65535",
                    if secret {
                        "(a secret value, not shown)".to_string()
                    } else {
                        crate::names::quoted(text)
                    }
                ),
            );
            None
        }
    }
}

/// A protocol: `tcp` or `udp`.
/// `secret`: the text came from a secret, so the message does not show it.
fn protocol(text: &str, path: &str, secret: bool, diag: &mut Diag) -> Option<&'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "tcp" => Some("tcp"),
        "udp" => Some("udp"),
        _ => {
            diag.error(
                path,
                format!(
                    "has the protocol {}: Fargate services take tcp or udp",
                    if secret {
                        "(a secret value, not shown)".to_string()
                    } else {
                        crate::names::quoted(text)
                    }
                ),
            );
            None
        }
    }
}

/// The short syntax `[[host_ip:]published:]target[/protocol]`, where published and target may
/// be ranges and an IPv6 host is bracketed (`[::1]:8080:80`). `expose` entries are
/// `target[/protocol]` (`allow_published` false).
fn short(
    text: &Text,
    mode: &'static str,
    path: &str,
    allow_published: bool,
    diag: &mut Diag,
) -> Parsed {
    if text.unknown {
        return Parsed::Unknown;
    }
    let s = text.value.trim();
    let fail = |diag: &mut Diag| {
        let form = if allow_published {
            "\"80\", \"8080:80\", \"127.0.0.1:8080:80\", \"80/udp\" or \"3000-3001\""
        } else {
            "\"3000\", \"3000/udp\" or \"3000-3001\""
        };
        diag.error(
            path,
            format!("must be a port such as {form}; got {}", shown(text)),
        );
        Parsed::Invalid
    };
    let (spec, proto) = match s.rsplit_once('/') {
        Some((spec, proto)) => match protocol(proto, path, text.secret, diag) {
            Some(p) => (spec, Some(p)),
            None => return Parsed::Invalid,
        },
        None => (s, None),
    };
    let (host_ip, rest) = match spec.strip_prefix('[') {
        Some(after) => match after.split_once("]:") {
            Some((ip, rest)) => (Some(ip), rest),
            None => return fail(diag),
        },
        None => (None, spec),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (host_ip, published, target) = match (host_ip, parts.as_slice()) {
        (None, [target]) => (None, None, *target),
        (None, [published, target]) => (None, Some(*published), *target),
        (None, [ip, published, target]) => (Some(*ip), Some(*published), *target),
        (Some(ip), [published, target]) => (Some(ip), Some(*published), *target),
        _ => return fail(diag),
    };
    if !allow_published && (published.is_some() || host_ip.is_some()) {
        return fail(diag);
    }
    if target.is_empty() {
        return fail(diag);
    }
    let Some(targets) = range(target, "target", path, text.secret, diag) else {
        return Parsed::Invalid;
    };
    let published = match published.filter(|p| !p.is_empty()) {
        Some(p) => match range(p, "published", path, text.secret, diag) {
            Some(r) => Some(r),
            None => return Parsed::Invalid,
        },
        None => None,
    };
    if let Some(ip) = host_ip.filter(|ip| !ip.is_empty()) {
        warn_host_ip(ip, path, diag);
    }
    expand(
        targets,
        published,
        mode,
        proto,
        None,
        text.secret,
        path,
        diag,
    )
}

/// Says what happens to a host IP: ingress ports are public, whatever the IP.
fn warn_host_ip(ip: &str, path: &str, diag: &mut Diag) {
    let loopback = ip == "localhost" || ip == "::1" || ip.starts_with("127.");
    let message = if loopback {
        format!(
            "publishes on {ip} only, but an ingress port is public on the internet here; to keep \
             the port private to the project, use the long syntax with `mode: host`"
        )
    } else {
        format!(
            "has the host IP {ip}, which is not used: an ingress port is public on the internet here"
        )
    };
    diag.warn(path, message);
}

/// The ports of a target range, with the published-port warning.
#[allow(clippy::too_many_arguments)]
fn expand(
    targets: (u16, u16),
    published: Option<(u16, u16)>,
    mode: &'static str,
    proto: Option<&'static str>,
    app_protocol: Option<&'static str>,
    secret: bool,
    path: &str,
    diag: &mut Diag,
) -> Parsed {
    let show = |(lo, hi): (u16, u16)| {
        if secret {
            "(secret)".to_string()
        } else if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}-{hi}")
        }
    };
    let count = u32::from(targets.1 - targets.0) + 1;
    if count > MAX_RANGE {
        diag.error(
            path,
            format!(
                "expands to {count} ports ({}): at most {MAX_RANGE} are supported in one range; \
                 list the ports the service really listens on",
                show(targets)
            ),
        );
        return Parsed::Invalid;
    }
    if let Some(p) = published {
        let p_count = u32::from(p.1 - p.0) + 1;
        if count > 1 && p_count != count {
            diag.error(
                path,
                format!(
                    "maps the published ports {} to the container ports {}, which are not as \
                     many: give both ranges the same length, or leave out the published ports",
                    show(p),
                    show(targets)
                ),
            );
            return Parsed::Invalid;
        }
        if p != targets {
            // Secret ports are not shown: say only that they differ.
            let message = if secret {
                "has a published port that differs from the container port: the published port \
                 is not used on Fargate; the service is reached on the container (target) port"
                    .to_string()
            } else {
                format!(
                    "publishes {} for the container port {}: the published port is not used on \
                     Fargate; the service is reached on the target port {}",
                    show(p),
                    show(targets),
                    show(targets)
                )
            };
            diag.warn(path, message);
        }
    }
    let ports = (targets.0..=targets.1)
        .map(|target| {
            (
                Port {
                    target,
                    mode,
                    protocol: proto.unwrap_or("tcp"),
                    app_protocol,
                    secret,
                    path: path.to_string(),
                },
                proto.is_some(),
            )
        })
        .collect();
    Parsed::Ports(ports)
}

const LONG_KEYS: &[&str] = &[
    "target",
    "published",
    "host_ip",
    "protocol",
    "app_protocol",
    "mode",
    "name",
];

/// The long syntax: `target`, `published`, `host_ip`, `protocol`, `app_protocol`, `mode`, `name`.
fn long(entries: &[(String, Node)], path: &str, diag: &mut Diag) -> Parsed {
    let mut valid = true;
    let mut text_of = |key: &str, diag: &mut Diag| -> Option<Text> {
        let node = entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)?;
        match node {
            Node::Null => None,
            Node::Seq(_) | Node::Map(_) => {
                diag.wrong_type(&key_path(path, key), "a string or a number", node);
                valid = false;
                None
            }
            scalar => scalar.scalar_text(),
        }
    };
    let target = text_of("target", diag);
    let published = text_of("published", diag);
    let host_ip = text_of("host_ip", diag);
    let proto = text_of("protocol", diag);
    let app = text_of("app_protocol", diag);
    let mode = text_of("mode", diag);
    // `name` only labels the port in Compose: nothing to deploy.
    let name = text_of("name", diag);
    let all = [&target, &published, &host_ip, &proto, &app, &mode, &name];
    let secret = all.iter().any(|t| t.as_ref().is_some_and(|t| t.secret));
    let unknown = all.iter().any(|t| t.as_ref().is_some_and(|t| t.unknown));
    for (key, _) in entries {
        if !LONG_KEYS.contains(&key.as_str()) && !key.starts_with("x-") {
            let hint = match closest(key, LONG_KEYS.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!("use {}", LONG_KEYS.join(", ")),
            };
            diag.error(
                key_path(path, key),
                format!("is not a key of a port: {hint}"),
            );
            valid = false;
        }
    }
    if unknown {
        return Parsed::Unknown;
    }
    let Some(target) = target else {
        if valid {
            diag.error(
                path,
                "needs a `target`: the port the container listens on, e.g. `target: 80`",
            );
        }
        return Parsed::Invalid;
    };
    let target_port = {
        let n: Option<u64> = target.value.trim().parse().ok();
        match n {
            Some(n @ 1..=65535) => Some(n as u16),
            _ => {
                diag.error(
                    key_path(path, "target"),
                    format!("must be a port number, 1–65535; got {}", shown(&target)),
                );
                None
            }
        }
    };
    let published = published
        .filter(|p| !p.value.trim().is_empty())
        .and_then(|p| {
            let r = range(
                p.value.trim(),
                "published",
                &key_path(path, "published"),
                p.secret,
                diag,
            );
            if r.is_none() {
                valid = false;
            }
            r
        });
    let proto = match proto {
        Some(p) => match protocol(&p.value, &key_path(path, "protocol"), p.secret, diag) {
            Some(p) => Some(p),
            None => {
                valid = false;
                None
            }
        },
        None => None,
    };
    let mode = match mode.as_ref().map(|m| m.value.trim().to_ascii_lowercase()) {
        None => "ingress",
        Some(m) if m == "ingress" => "ingress",
        Some(m) if m == "host" => "host",
        Some(_) => {
            diag.error(
                key_path(path, "mode"),
                format!(
                    "must be `ingress` (public) or `host` (private to the project); got {}",
                    mode.as_ref().map_or_else(String::new, shown)
                ),
            );
            valid = false;
            "ingress"
        }
    };
    let app_protocol = match app.as_ref().map(|a| a.value.trim().to_ascii_lowercase()) {
        None => None,
        Some(_) if proto == Some("udp") => {
            diag.warn(
                key_path(path, "app_protocol"),
                "applies to tcp ports only: it is not used for this udp port",
            );
            None
        }
        Some(a) => match a.as_str() {
            "http" => Some("http"),
            "http2" => Some("http2"),
            "grpc" => Some("grpc"),
            _ => {
                diag.warn(
                    key_path(path, "app_protocol"),
                    format!(
                        "is {}, which this provider does not know (it takes http, http2 or \
                         grpc): the port is deployed without an application protocol",
                        app.as_ref().map_or_else(String::new, shown)
                    ),
                );
                None
            }
        },
    };
    if let Some(ip) = host_ip.filter(|ip| !ip.value.trim().is_empty())
        && mode == "ingress"
    {
        warn_host_ip(ip.value.trim(), &key_path(path, "host_ip"), diag);
    }
    match target_port {
        Some(t) if valid => expand(
            (t, t),
            published,
            mode,
            proto,
            app_protocol,
            secret,
            path,
            diag,
        ),
        _ => Parsed::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::node::{Number, Tainted};

    fn text(s: &str) -> Node {
        Node::Str(Text::plain(s.to_string()))
    }

    fn num(n: f64) -> Node {
        Node::Number(Number {
            text: n.to_string(),
            value: n,
        })
    }

    fn map(entries: &[(&str, Node)]) -> Node {
        Node::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn port(target: u16, mode: &str, extra: &[(&str, &str)]) -> Value {
        let mut m = PropertyMap::new();
        m.insert("target".into(), Value::from(f64::from(target)));
        m.insert("mode".into(), Value::from(mode));
        for (k, v) in extra {
            m.insert(k.to_string(), Value::from(*v));
        }
        Value::Object(m)
    }

    fn run(ports_node: Node, expose: Option<Node>) -> (Option<Value>, Diag) {
        let mut diag = Diag::default();
        let v = ports(
            Some(&ports_node),
            expose.as_ref(),
            "services.web",
            &mut diag,
        );
        (v, diag)
    }

    #[test]
    fn short_syntax() {
        let (v, diag) = run(
            Node::Seq(vec![
                text("80"),
                num(81.0),
                text("8080:82"),
                text("127.0.0.1:8083:83"),
                text("84/udp"),
                text("85/tcp"),
                text("[::1]:86:86"),
                text("3000-3001"),
                text("9000-9001:4000-4001/udp"),
                text("::87"),
            ]),
            None,
        );
        assert!(diag.errors.is_empty(), "{:?}", diag.errors);
        assert_eq!(
            v.unwrap(),
            Value::Array(vec![
                port(80, "ingress", &[]),
                port(81, "ingress", &[]),
                port(82, "ingress", &[]),
                port(83, "ingress", &[]),
                port(84, "ingress", &[("protocol", "udp")]),
                port(85, "ingress", &[("protocol", "tcp")]),
                port(86, "ingress", &[]),
                port(3000, "ingress", &[]),
                port(3001, "ingress", &[]),
                port(4000, "ingress", &[("protocol", "udp")]),
                port(4001, "ingress", &[("protocol", "udp")]),
                port(87, "ingress", &[]),
            ])
        );
        let warnings: Vec<(&str, &str)> = diag
            .warnings
            .iter()
            .map(|w| (w.path.as_str(), w.message.as_str()))
            .collect();
        assert_eq!(
            warnings,
            [
                (
                    "services.web.ports[2]",
                    "publishes 8080 for the container port 82: the published port is not used \
                     on Fargate; the service is reached on the target port 82"
                ),
                (
                    "services.web.ports[3]",
                    "publishes on 127.0.0.1 only, but an ingress port is public on the internet \
                     here; to keep the port private to the project, use the long syntax with \
                     `mode: host`"
                ),
                (
                    "services.web.ports[3]",
                    "publishes 8083 for the container port 83: the published port is not used \
                     on Fargate; the service is reached on the target port 83"
                ),
                (
                    "services.web.ports[6]",
                    "publishes on ::1 only, but an ingress port is public on the internet here; \
                     to keep the port private to the project, use the long syntax with `mode: \
                     host`"
                ),
                (
                    "services.web.ports[8]",
                    "publishes 9000-9001 for the container port 4000-4001: the published port \
                     is not used on Fargate; the service is reached on the target port 4000-4001"
                ),
            ]
        );
    }

    #[test]
    fn long_syntax() {
        let (v, diag) = run(
            Node::Seq(vec![
                map(&[
                    ("target", num(80.0)),
                    ("published", text("8080")),
                    ("app_protocol", text("http")),
                ]),
                map(&[
                    ("target", text("5432")),
                    ("mode", text("host")),
                    ("protocol", text("tcp")),
                ]),
                map(&[
                    ("target", num(53.0)),
                    ("protocol", text("UDP")),
                    ("name", text("dns")),
                ]),
                map(&[
                    ("target", num(9090.0)),
                    ("published", num(9090.0)),
                    ("app_protocol", text("grpc")),
                    ("x-note", text("x")),
                ]),
                map(&[
                    ("target", num(7000.0)),
                    ("mode", text("host")),
                    ("host_ip", text("127.0.0.1")),
                ]),
            ]),
            None,
        );
        assert!(diag.errors.is_empty(), "{:?}", diag.errors);
        assert_eq!(
            v.unwrap(),
            Value::Array(vec![
                port(80, "ingress", &[("appProtocol", "http")]),
                port(5432, "host", &[("protocol", "tcp")]),
                port(53, "ingress", &[("protocol", "udp")]),
                port(9090, "ingress", &[("appProtocol", "grpc")]),
                port(7000, "host", &[]),
            ])
        );
        assert_eq!(diag.warnings.len(), 1, "{:?}", diag.warnings);
        assert_eq!(diag.warnings[0].path, "services.web.ports[0]");
        assert!(
            diag.warnings[0]
                .message
                .contains("reached on the target port 80")
        );
    }

    #[test]
    fn expose_is_private_and_duplicates_are_dropped() {
        let (v, diag) = run(
            Node::Seq(vec![text("80"), text("8080:80")]),
            Some(Node::Seq(vec![text("80"), num(3000.0), text("53/udp")])),
        );
        assert_eq!(
            v.unwrap(),
            Value::Array(vec![
                port(80, "ingress", &[]),
                port(3000, "host", &[]),
                port(53, "host", &[("protocol", "udp")]),
            ])
        );
        assert_eq!(diag.warnings.last().unwrap().path, "services.web.ports[1]");
        assert!(
            diag.warnings
                .last()
                .unwrap()
                .message
                .starts_with("repeats the container port 80/tcp of services.web.ports[0]")
        );
        let (_, diag) = run(Node::Seq(vec![]), Some(Node::Seq(vec![text("8080:80")])));
        assert_eq!(diag.errors[0].path, "services.web.expose[0]");
    }

    #[test]
    fn bad_ports_are_errors_at_their_index() {
        let cases: Vec<(Node, &str, &str)> = vec![
            (
                text("0"),
                "services.web.ports[1]",
                "has the target port \"0\", which is not a port number: ports are 1–65535",
            ),
            (
                text("65536"),
                "services.web.ports[1]",
                "has the target port \"65536\", which is not a port number: ports are 1–65535",
            ),
            (
                text("8080:70000"),
                "services.web.ports[1]",
                "has the target port \"70000\"",
            ),
            (
                text("99999:80"),
                "services.web.ports[1]",
                "has the published port \"99999\"",
            ),
            (
                text("80/sctp"),
                "services.web.ports[1]",
                "has the protocol \"sctp\": Fargate services take tcp or udp",
            ),
            (
                text("a:b:c:d"),
                "services.web.ports[1]",
                "must be a port such as",
            ),
            (
                text("3001-3000"),
                "services.web.ports[1]",
                "ends before it starts: write 3000-3001",
            ),
            (
                text("1-1000"),
                "services.web.ports[1]",
                "expands to 1000 ports (1-1000): at most 100",
            ),
            (
                text("8000-8002:3000-3001"),
                "services.web.ports[1]",
                "which are not as many",
            ),
            (text(""), "services.web.ports[1]", "must be a port such as"),
            (
                map(&[("published", num(80.0))]),
                "services.web.ports[1]",
                "needs a `target`",
            ),
            (
                map(&[("target", num(0.0))]),
                "services.web.ports[1].target",
                "must be a port number, 1–65535; got \"0\"",
            ),
            (
                map(&[("target", text("http"))]),
                "services.web.ports[1].target",
                "must be a port number",
            ),
            (
                map(&[("target", Node::Seq(vec![]))]),
                "services.web.ports[1].target",
                "must be a string or a number; got a list",
            ),
            (
                map(&[("target", num(80.0)), ("mode", text("public"))]),
                "services.web.ports[1].mode",
                "must be `ingress` (public) or `host`",
            ),
            (
                map(&[("target", num(80.0)), ("protocl", text("tcp"))]),
                "services.web.ports[1].protocl",
                "is not a key of a port: did you mean `protocol`?",
            ),
            (
                map(&[("target", num(80.0)), ("published", text("x"))]),
                "services.web.ports[1].published",
                "has the published port \"x\"",
            ),
            (
                Node::Seq(vec![]),
                "services.web.ports[1]",
                "must be a port such as \"80\" or \"8080:80\", or a mapping with `target`; got a list",
            ),
        ];
        for (item, path, message) in cases {
            let (_, diag) = run(Node::Seq(vec![text("80"), item.clone()]), None);
            assert_eq!(diag.errors.len(), 1, "{item:?}: {:?}", diag.errors);
            assert_eq!(diag.errors[0].path, path, "{item:?}");
            assert!(
                diag.errors[0].message.contains(message),
                "{item:?}: {}",
                diag.errors[0].message
            );
        }
        let (_, diag) = run(text("80"), None);
        assert_eq!(
            diag.errors[0].message,
            "must be a list of ports; got a string"
        );
    }

    #[test]
    fn app_protocols_outside_the_service_are_warned() {
        let (v, diag) = run(
            Node::Seq(vec![
                map(&[("target", num(443.0)), ("app_protocol", text("https"))]),
                map(&[
                    ("target", num(53.0)),
                    ("protocol", text("udp")),
                    ("app_protocol", text("http")),
                ]),
            ]),
            None,
        );
        assert_eq!(
            v.unwrap(),
            Value::Array(vec![
                port(443, "ingress", &[]),
                port(53, "ingress", &[("protocol", "udp")])
            ])
        );
        assert!(
            diag.warnings[0]
                .message
                .starts_with("is \"https\", which this provider does not know")
        );
        assert_eq!(diag.warnings[1].path, "services.web.ports[1].app_protocol");
    }

    #[test]
    fn secret_and_unknown_ports() {
        let secret = Node::Str(Tainted {
            value: "8080:80".to_string(),
            secret: true,
            unknown: false,
        });
        let (v, diag) = run(Node::Seq(vec![secret]), None);
        assert_eq!(
            v.unwrap(),
            Value::Array(vec![port(80, "ingress", &[]).into_secret()])
        );
        assert!(!diag.warnings[0].message.contains("8080"));
        let unknown = Node::Str(Tainted {
            value: String::new(),
            secret: false,
            unknown: true,
        });
        let (v, diag) = run(Node::Seq(vec![text("80"), unknown]), None);
        assert_eq!(v.unwrap(), Value::Unknown);
        assert!(diag.errors.is_empty());
        let bad_secret = Node::Str(Tainted {
            value: "hunter2".to_string(),
            secret: true,
            unknown: false,
        });
        let (_, diag) = run(Node::Seq(vec![bad_secret]), None);
        assert!(
            !diag.errors[0].message.contains("hunter2"),
            "{:?}",
            diag.errors
        );
    }
}
