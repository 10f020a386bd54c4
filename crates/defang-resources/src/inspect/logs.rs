//! `logs`: a service's CloudWatch log events and its last build's.
//!
//! Where they are is what the deployed task definition records (its container's `awslogs`
//! group and stream prefix: ECS names each task's stream `<prefix>/<container>/<task id>`),
//! and for builds the stream prefix the build lifecycle gives CodeBuild in the project's log
//! group (`builds/<service>`, to which CodeBuild appends the build's id).

use super::project::ProjectSite;
use super::time::rfc3339;
use crate::cloud::{DeployedService, Inventory, LogEvent, LogStream};
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};

/// CloudWatch updates a stream's `lastEventTimestamp` eventually ("typically within an
/// hour"): a stream whose recorded last event is older than `since` by less than this may
/// still hold newer events, and is read.
pub const LAST_EVENT_LAG_MS: i64 = 2 * 3600 * 1000;
/// While following, each read starts this far before the newest event seen: events are
/// stamped by their producer and may arrive a little after newer ones (ids drop repeats).
pub const FOLLOW_OVERLAP_MS: i64 = 30_000;

/// Where a service's events are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSource {
    pub group: String,
    /// Its tasks' streams start with this (`web/`).
    pub task_prefix: String,
    /// Its builds' streams, in the project's group, start with this (`builds/web/`).
    pub build_prefix: String,
    pub build_group: String,
}

impl LogSource {
    /// The group and prefix of the running task definition's log configuration, else the
    /// ones this version gives (the project's group, the service's name).
    pub fn of(site: &ProjectSite, name: &str, service: &DeployedService) -> LogSource {
        let log = service
            .task_definition
            .as_ref()
            .and_then(|td| td.spec.container.log.as_ref());
        LogSource {
            group: log.map_or_else(|| site.log_group.clone(), |l| l.group.clone()),
            // The trailing slash keeps service `web` from reading `web-x`'s streams.
            task_prefix: format!("{}/", log.map_or(name, |l| l.stream_prefix.as_str())),
            build_prefix: format!("builds/{name}/"),
            build_group: site.log_group.clone(),
        }
    }
}

/// One line of `logs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// `task` or `build`.
    pub source: &'static str,
    pub stream: String,
    pub timestamp_ms: i64,
    pub message: String,
    #[serde(skip)]
    pub id: String,
}

impl LogLine {
    fn new(source: &'static str, event: LogEvent) -> LogLine {
        LogLine {
            source,
            stream: event.stream,
            timestamp_ms: event.timestamp_ms,
            message: event.message.trim_end_matches(['\n', '\r']).to_string(),
            id: event.id,
        }
    }

    /// `<time> <task id or build> <message>`: the task's id (its stream's last part, cut to 12
    /// characters as the console shows it) tells replicas apart.
    pub fn text(&self) -> String {
        let who = match self.source {
            "build" => "build".to_string(),
            _ => {
                let id = self.stream.rsplit('/').next().unwrap_or(&self.stream);
                id.chars().take(12).collect()
            }
        };
        format!("{} {who} {}", rfc3339(self.timestamp_ms), self.message)
    }

    /// One JSON object (one line) for scripts.
    pub fn json(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        value["timestamp"] = rfc3339(self.timestamp_ms).into();
        value.to_string()
    }
}

/// The streams that may hold events from `since_ms` on: those whose last event (or, without
/// one, creation) is no older than `since_ms` less [`LAST_EVENT_LAG_MS`].
pub fn streams_to_read(streams: &[LogStream], since_ms: i64) -> Vec<String> {
    let mut names: Vec<String> = streams
        .iter()
        .filter(|s| {
            s.last_event_ms.unwrap_or(s.created_ms).max(s.created_ms)
                >= since_ms - LAST_EVENT_LAG_MS
        })
        .map(|s| s.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The last build's stream: the one created last (each build makes its own).
pub fn last_build(streams: &[LogStream]) -> Option<&LogStream> {
    streams
        .iter()
        .max_by(|a, b| (a.created_ms, &a.name).cmp(&(b.created_ms, &b.name)))
}

/// The service `name` of the project, or an error listing the ones there are.
pub fn find_service<'a>(
    site: &ProjectSite,
    services: &'a [DeployedService],
    name: &str,
) -> Result<&'a DeployedService, String> {
    let rows = super::ps::rows(site, services);
    let found = services.iter().find(|s| {
        s.state.is_active()
            && s.state.tag(crate::ownership::PROJECT_TAG) == Some(site.name.as_str())
            && s.state
                .tag(crate::ownership::SERVICE_TAG)
                .unwrap_or(&s.state.name)
                == name
    });
    found.ok_or_else(|| {
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let known = if names.is_empty() {
            "it has none".to_string()
        } else {
            format!("it has: {}", names.join(", "))
        };
        format!(
            "project \"{}\" has no service \"{name}\" ({known}): check the SERVICE argument",
            site.name
        )
    })
}

/// The service's events from `since_ms` on, and its last build's, oldest first.
pub async fn read(
    inventory: &dyn Inventory,
    source: &LogSource,
    since_ms: i64,
) -> Result<Vec<LogLine>, String> {
    let failed = |e: crate::cloud::CloudError| super::explain(&e);
    let tasks = inventory
        .log_streams(&source.group, &source.task_prefix)
        .await
        .map_err(failed)?;
    let builds = inventory
        .log_streams(&source.build_group, &source.build_prefix)
        .await
        .map_err(failed)?;
    let mut lines = Vec::new();
    if let Some(build) = last_build(&builds) {
        let streams = streams_to_read(std::slice::from_ref(build), since_ms);
        for event in inventory
            .log_events(&source.build_group, &streams, since_ms)
            .await
            .map_err(failed)?
        {
            lines.push(LogLine::new("build", event));
        }
    }
    // A service named `builds` has its task streams under `builds/`, as every service's
    // builds are: those are not its tasks'.
    let streams: Vec<String> = streams_to_read(&tasks, since_ms)
        .into_iter()
        .filter(|s| {
            !(source.group == source.build_group && s.starts_with("builds/") && is_build_stream(s))
        })
        .collect();
    for event in inventory
        .log_events(&source.group, &streams, since_ms)
        .await
        .map_err(failed)?
    {
        lines.push(LogLine::new("task", event));
    }
    lines.sort_by(|a, b| {
        (a.timestamp_ms, &a.stream, &a.id).cmp(&(b.timestamp_ms, &b.stream, &b.id))
    });
    Ok(lines)
}

/// `builds/<service>/<build id>` (three parts, the id a UUID) rather than a task's
/// `builds/<container>/<task id>` (a 32-digit hex id).
fn is_build_stream(stream: &str) -> bool {
    stream.rsplit('/').next().is_some_and(|id| id.contains('-'))
}

/// Following a log without repeats: what was printed is remembered by id, for the events
/// still inside the overlap window.
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    /// The newest event's time printed so far.
    newest_ms: Option<i64>,
    since_ms: i64,
    seen: HashSet<String>,
    /// `(timestamp, id)` of `seen`, to forget the old ones.
    order: BTreeSet<(i64, String)>,
}

impl Cursor {
    pub fn new(since_ms: i64) -> Cursor {
        Cursor {
            since_ms,
            ..Default::default()
        }
    }

    /// Where the next read starts.
    pub fn start_ms(&self) -> i64 {
        self.newest_ms.map_or(self.since_ms, |n| {
            (n - FOLLOW_OVERLAP_MS).max(self.since_ms)
        })
    }

    /// The lines not printed yet, in order; remembers them.
    pub fn admit(&mut self, lines: Vec<LogLine>) -> Vec<LogLine> {
        let fresh: Vec<LogLine> = lines
            .into_iter()
            .filter(|l| !self.seen.contains(&l.id))
            .collect();
        for line in &fresh {
            self.seen.insert(line.id.clone());
            self.order.insert((line.timestamp_ms, line.id.clone()));
            self.newest_ms = Some(
                self.newest_ms
                    .map_or(line.timestamp_ms, |n| n.max(line.timestamp_ms)),
            );
        }
        // Events older than the next read's start are never read again.
        let start = self.start_ms();
        while let Some(first) = self.order.first().cloned() {
            if first.0 >= start {
                break;
            }
            self.order.pop_first();
            self.seen.remove(&first.1);
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::tests_support::{FakeInventory, deployed, site};

    fn stream(name: &str, created_ms: i64, last_event_ms: Option<i64>) -> LogStream {
        LogStream {
            name: name.into(),
            created_ms,
            last_event_ms,
        }
    }

    fn event(stream: &str, timestamp_ms: i64, message: &str) -> LogEvent {
        LogEvent {
            stream: stream.into(),
            timestamp_ms,
            message: message.into(),
            id: format!("{stream}#{timestamp_ms}#{message}"),
        }
    }

    const HOUR: i64 = 3600 * 1000;

    #[test]
    fn the_source_is_what_the_task_definition_records() {
        let web = deployed("web", &[], "nginx", 1, 1, None);
        let source = LogSource::of(&site(), "web", &web);
        assert_eq!(
            source,
            LogSource {
                group: "/defang/shop".into(),
                task_prefix: "web/".into(),
                build_prefix: "builds/web/".into(),
                build_group: "/defang/shop".into(),
            }
        );
        let mut legacy = web.clone();
        let log = legacy
            .task_definition
            .as_mut()
            .unwrap()
            .spec
            .container
            .log
            .as_mut()
            .unwrap();
        log.group = "/defang/shop-old".into();
        log.stream_prefix = "shop-web".into();
        let source = LogSource::of(&site(), "web", &legacy);
        assert_eq!(
            (source.group.as_str(), source.task_prefix.as_str()),
            ("/defang/shop-old", "shop-web/")
        );
        let mut bare = web;
        bare.task_definition = None;
        assert_eq!(LogSource::of(&site(), "web", &bare).task_prefix, "web/");
    }

    #[test]
    fn streams_that_may_hold_recent_events_are_read() {
        let since = 100 * HOUR;
        let streams = [
            stream("web/web/recent", 50 * HOUR, Some(since + 1)),
            // Its last event is recorded late: still within the lag.
            stream("web/web/lagging", 50 * HOUR, Some(since - HOUR)),
            stream("web/web/old", 50 * HOUR, Some(since - 3 * HOUR)),
            // No event recorded yet, but made recently.
            stream("web/web/new", since - 60_000, None),
            stream("web/web/empty-old", 10 * HOUR, None),
        ];
        assert_eq!(
            streams_to_read(&streams, since),
            ["web/web/lagging", "web/web/new", "web/web/recent"]
        );
        assert_eq!(
            last_build(&[
                stream("builds/web/a", 5, None),
                stream("builds/web/b", 9, Some(10))
            ])
            .map(|s| s.name.as_str()),
            Some("builds/web/b")
        );
        assert_eq!(last_build(&[]), None);
    }

    #[test]
    fn a_missing_service_lists_the_projects_services() {
        let services = [
            deployed("web", &[], "nginx", 1, 1, None),
            deployed("api", &[], "echo", 1, 1, None),
        ];
        assert_eq!(
            find_service(&site(), &services, "api").unwrap().state.name,
            "api"
        );
        let err = find_service(&site(), &services, "db").unwrap_err();
        assert_eq!(
            err,
            "project \"shop\" has no service \"db\" (it has: api, web): check the SERVICE argument"
        );
        let err = find_service(&site(), &[], "db").unwrap_err();
        assert!(err.contains("(it has none)"), "{err}");
    }

    #[tokio::test]
    async fn events_of_the_tasks_and_the_last_build_in_order() {
        let since = 100 * HOUR;
        let inventory = FakeInventory {
            streams: vec![
                stream("web/web/task1", since, Some(since + 10)),
                stream("web/web/task2", since, Some(since + 10)),
                stream("web-x/web-x/task3", since, Some(since + 10)),
                stream(
                    "builds/web/1111-old",
                    since - 10 * HOUR,
                    Some(since - 9 * HOUR),
                ),
                stream("builds/web/2222-new", since - 1000, Some(since + 1)),
            ],
            events: vec![
                event("web/web/task1", since + 5, "GET / 200"),
                event("web/web/task2", since + 3, "started\n"),
                event("web/web/task1", since - 10, "too old"),
                event("web-x/web-x/task3", since + 4, "another service"),
                event("builds/web/2222-new", since + 1, "Step 1/3"),
                event("builds/web/1111-old", since + 2, "an older build"),
            ],
            ..Default::default()
        };
        let web = deployed("web", &[], "nginx", 1, 1, None);
        let source = LogSource::of(&site(), "web", &web);
        let lines = read(&inventory, &source, since).await.unwrap();
        let texts: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.source, l.message.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                ("build", "Step 1/3"),
                ("task", "started"),
                ("task", "GET / 200")
            ]
        );
        assert_eq!(
            lines[2].text(),
            format!("{} task1 GET / 200", rfc3339(since + 5))
        );
        assert_eq!(
            lines[0].text(),
            format!("{} build Step 1/3", rfc3339(since + 1))
        );
        let json: serde_json::Value = serde_json::from_str(&lines[2].json()).unwrap();
        assert_eq!(json["source"], "task");
        assert_eq!(json["stream"], "web/web/task1");
        assert_eq!(json["message"], "GET / 200");
        assert_eq!(json["timestamp"], rfc3339(since + 5));
    }

    #[test]
    fn following_prints_each_event_once_and_forgets_old_ids() {
        let line = |ts: i64, id: &str| LogLine {
            source: "task",
            stream: "web/web/t".into(),
            timestamp_ms: ts,
            message: id.into(),
            id: id.into(),
        };
        let mut cursor = Cursor::new(1_000_000);
        assert_eq!(cursor.start_ms(), 1_000_000);
        let first = cursor.admit(vec![line(1_000_100, "a"), line(1_000_200, "b")]);
        assert_eq!(first.len(), 2);
        // The next read overlaps; what was printed is not printed again, a late event is.
        assert_eq!(cursor.start_ms(), 1_000_000);
        let next = cursor.admit(vec![
            line(1_000_100, "a"),
            line(1_000_150, "late"),
            line(1_000_200, "b"),
            line(1_000_300, "c"),
        ]);
        assert_eq!(
            next.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            ["late", "c"]
        );
        // Much later: the window moves on and old ids are forgotten.
        let later = cursor.admit(vec![line(1_000_300 + 2 * FOLLOW_OVERLAP_MS, "d")]);
        assert_eq!(later.len(), 1);
        assert_eq!(cursor.start_ms(), 1_000_300 + FOLLOW_OVERLAP_MS);
        assert_eq!(cursor.seen.len(), 1, "only d is inside the window");
    }
}
