//! What `ps` and `logs` read from the cloud: a region's project stacks, the services of a
//! project's cluster with what they run, and the events of log streams. Read only: nothing
//! here changes anything.

use super::{CloudResult, ServiceState, StackState, TaskDefinition};

/// A service as `ps` shows it: what ECS says of it, its task definition and what runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployedService {
    pub state: ServiceState,
    /// When the PRIMARY deployment (the last one started) was created, in milliseconds since
    /// the epoch; `None` when ECS lists none.
    pub deployed_at_ms: Option<i64>,
    /// The task definition the service runs; `None` when ECS cannot describe it.
    pub task_definition: Option<TaskDefinition>,
    /// The image digests (`sha256:…`) of the service's running tasks, distinct and sorted;
    /// empty when no task runs or ECS has not resolved them yet.
    pub running_digests: Vec<String>,
}

/// A CloudWatch Logs stream, as `DescribeLogStreams` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStream {
    pub name: String,
    /// Milliseconds since the epoch.
    pub created_ms: i64,
    /// The newest event's time, which CloudWatch updates eventually (usually within an hour
    /// of ingestion); `None` for a stream without events.
    pub last_event_ms: Option<i64>,
}

/// One log event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp_ms: i64,
    pub message: String,
    /// CloudWatch's id of the event, unique in the group (following dedupes on it).
    pub id: String,
}

#[async_trait::async_trait]
pub trait Inventory: Send + Sync {
    /// Every live stack of the region tagged `defang:project` and not `defang:service`: the
    /// Defang projects (all pages).
    async fn project_stacks(&self) -> CloudResult<Vec<StackState>>;
    /// The stack `name`; `None` when it does not exist.
    async fn stack(&self, name: &str) -> CloudResult<Option<StackState>>;
    /// Every service of `cluster` (all pages), described with their tags, task definitions and
    /// running digests; empty when the cluster does not exist.
    async fn services(&self, cluster: &str) -> CloudResult<Vec<DeployedService>>;
    /// The streams of `group` whose names start with `prefix` (all pages); empty when the
    /// group does not exist.
    async fn log_streams(&self, group: &str, prefix: &str) -> CloudResult<Vec<LogStream>>;
    /// The events of `streams` of `group` from `start_ms` on (inclusive), oldest first, all
    /// pages; an empty `streams` reads nothing.
    async fn log_events(
        &self,
        group: &str,
        streams: &[String],
        start_ms: i64,
    ) -> CloudResult<Vec<LogEvent>>;
}
