//! CloudFormation stacks: how a project's shared infrastructure (network, cluster, roles, logs)
//! is created, updated and deleted as one unit, with AWS doing the dependency ordering,
//! retries and rollback.

use super::CloudResult;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackState {
    pub id: String,
    pub name: String,
    /// e.g. CREATE_IN_PROGRESS, CREATE_COMPLETE, ROLLBACK_COMPLETE, UPDATE_COMPLETE.
    pub status: String,
    pub status_reason: Option<String>,
    pub outputs: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl StackState {
    /// An operation is running and will settle by itself. REVIEW_IN_PROGRESS does not: it is
    /// a stack made for a change set that nobody executed, and stays so.
    pub fn is_in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && self.status != "REVIEW_IN_PROGRESS"
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackEvent {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackRequest {
    pub name: String,
    /// Template body (JSON).
    pub template: String,
    pub tags: BTreeMap<String, String>,
    /// Values of the template's parameters (a parameter not given takes its default).
    pub parameters: BTreeMap<String, String>,
    /// Idempotency token: a retried call with the same token is not applied twice.
    pub client_token: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateOutcome {
    Started,
    /// The template and tags already match: CloudFormation had nothing to do.
    NoChanges,
}

#[async_trait::async_trait]
pub trait Stacks: Send + Sync {
    /// `Ok(None)` when no stack of that name exists (deleted stacks do not count).
    async fn describe_stack(&self, name: &str) -> CloudResult<Option<StackState>>;
    /// Returns the stack id.
    async fn create_stack(&self, request: &StackRequest) -> CloudResult<String>;
    async fn update_stack(&self, request: &StackRequest) -> CloudResult<UpdateOutcome>;
    /// Changes only the given parameters' values: the template, the tags and every other
    /// parameter stay as they are (`UsePreviousTemplate`, `UsePreviousValue`).
    async fn update_parameters(
        &self,
        name: &str,
        parameters: &BTreeMap<String, String>,
        client_token: &str,
    ) -> CloudResult<UpdateOutcome>;
    /// Starts deletion; deleting a missing stack succeeds.
    async fn delete_stack(&self, name: &str, client_token: &str) -> CloudResult<()>;
    /// Newest first; at most `limit` events.
    async fn stack_events(&self, name: &str, limit: usize) -> CloudResult<Vec<StackEvent>>;
    /// Every stack of the region whose status is one of [`IN_PROGRESS_STATUSES`], by name,
    /// with that status (ListStacks, all pages): one call answers for all the stacks waited on.
    async fn list_in_progress(&self) -> CloudResult<BTreeMap<String, String>>;
}

/// The statuses of an operation that settles by itself (not REVIEW_IN_PROGRESS: see
/// [`StackState::is_in_progress`]).
pub const IN_PROGRESS_STATUSES: &[&str] = &[
    "CREATE_IN_PROGRESS",
    "ROLLBACK_IN_PROGRESS",
    "DELETE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_IN_PROGRESS",
];
