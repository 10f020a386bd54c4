//! The provider contract in terms of property maps: what a concrete provider implements.
//! The gRPC layer ([`crate::server`]) handles the protocol around it.

use crate::context::Context;
use crate::diff::Diff;
use crate::error::Error;
use crate::value::PropertyMap;
use std::time::Duration;

/// One problem Check found in the inputs, shown by the engine against the property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    /// Property path, e.g. `ports[0].target`.
    pub property: String,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl CheckFailure {
    /// A failure at `property` (a rendered [`PropertyPath`](crate::PropertyPath), or `""` for
    /// the resource as a whole).
    pub fn new(property: impl Into<String>, reason: impl Into<String>) -> Self {
        CheckFailure {
            property: property.into(),
            reason: reason.into(),
        }
    }
}

/// Check (and CheckConfig): validate the program's inputs before anything else sees them.
/// May run before Configure, and in preview with unknown values.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    /// The resource's URN (for messages; the resource may not exist yet).
    pub urn: String,
    /// The resource's logical name in the program.
    pub name: String,
    /// `<package>:<module>:<Type>`; the provider's own token for CheckConfig.
    pub type_token: String,
    /// Previous checked inputs; empty when the resource is new.
    pub olds: PropertyMap,
    /// The inputs as the program gave them: secrets wrapped, unknowns in preview.
    pub news: PropertyMap,
}

/// The outcome of Check.
#[derive(Clone, Debug, Default)]
pub struct CheckResponse {
    /// The inputs the engine keeps and sends to every later step: `news`, with any defaults
    /// applied. Keep secrets wrapped.
    pub inputs: PropertyMap,
    /// Every problem found; empty means the inputs are fine. Failures at a path whose value
    /// is unknown are dropped by the machinery.
    pub failures: Vec<CheckFailure>,
}

/// Diff (and DiffConfig): what would change between the state and new checked inputs.
#[derive(Clone, Debug)]
pub struct DiffRequest {
    /// The resource's id, as create returned it.
    pub id: String,
    /// The resource's URN.
    pub urn: String,
    /// The resource's logical name in the program.
    pub name: String,
    /// `<package>:<module>:<Type>`.
    pub type_token: String,
    /// The outputs in state.
    pub old_outputs: PropertyMap,
    /// The checked inputs in state.
    pub old_inputs: PropertyMap,
    /// The new checked inputs (unknowns possible in preview).
    pub news: PropertyMap,
    /// Property paths the program's `ignoreChanges` names; the engine has already kept the
    /// old values at these paths in `news`.
    pub ignore_changes: Vec<String>,
}

/// Create: make the resource (or, in preview, say what its outputs will be).
#[derive(Clone, Debug)]
pub struct CreateRequest {
    /// The new resource's URN.
    pub urn: String,
    /// The resource's logical name in the program (the base of a generated physical name).
    pub name: String,
    /// `<package>:<module>:<Type>`.
    pub type_token: String,
    /// The checked inputs.
    pub inputs: PropertyMap,
    /// The program's `customTimeouts.create`; `None` when it set none (the [`Context`] then
    /// has no deadline unless the provider gives one).
    pub timeout: Option<Duration>,
    /// Only plan: compute the outputs (unknown where they cannot be known), touch nothing.
    pub preview: bool,
}

/// What Create made.
#[derive(Clone, Debug, Default)]
pub struct CreateResponse {
    /// The resource's id, which every later step receives (ignored in a preview).
    pub id: String,
    /// The outputs the engine keeps in state. Outputs named like a secret input are made
    /// secret by the machinery.
    pub outputs: PropertyMap,
}

/// Read: the live state of a resource (`pulumi refresh`, or an import).
#[derive(Clone, Debug)]
pub struct ReadRequest {
    /// The id of the resource to read.
    pub id: String,
    /// The resource's URN.
    pub urn: String,
    /// The resource's logical name in the program.
    pub name: String,
    /// `<package>:<module>:<Type>`.
    pub type_token: String,
    /// Empty on import.
    pub old_outputs: PropertyMap,
    /// Empty on import.
    pub old_inputs: PropertyMap,
}

/// What Read found.
#[derive(Clone, Debug, Default)]
pub struct ReadResponse {
    /// `None`: the resource no longer exists (the engine drops it from state).
    pub id: Option<String>,
    /// The live outputs.
    pub outputs: PropertyMap,
    /// The inputs that would produce them, which the next diff compares against; secret
    /// where the old inputs were.
    pub inputs: PropertyMap,
}

impl ReadResponse {
    /// The answer for a resource that no longer exists.
    pub fn gone() -> Self {
        ReadResponse::default()
    }
}

/// Update: change a resource in place, after a diff that did not ask for replacement.
#[derive(Clone, Debug)]
pub struct UpdateRequest {
    /// The resource's id.
    pub id: String,
    /// The resource's URN.
    pub urn: String,
    /// The resource's logical name in the program.
    pub name: String,
    /// `<package>:<module>:<Type>`.
    pub type_token: String,
    /// The outputs in state.
    pub old_outputs: PropertyMap,
    /// The checked inputs in state.
    pub old_inputs: PropertyMap,
    /// The new checked inputs.
    pub news: PropertyMap,
    /// The program's `customTimeouts.update`; `None` when it set none.
    pub timeout: Option<Duration>,
    /// Only plan: compute the new outputs, touch nothing.
    pub preview: bool,
}

/// Delete: remove a resource (never sent in preview).
#[derive(Clone, Debug)]
pub struct DeleteRequest {
    /// The resource's id.
    pub id: String,
    /// The resource's URN.
    pub urn: String,
    /// The resource's logical name in the program.
    pub name: String,
    /// `<package>:<module>:<Type>`.
    pub type_token: String,
    /// The outputs in state.
    pub old_outputs: PropertyMap,
    /// The checked inputs in state.
    pub old_inputs: PropertyMap,
    /// The program's `customTimeouts.delete`; `None` when it set none.
    pub timeout: Option<Duration>,
}

/// A resource provider. Secretness of inputs is carried to outputs by the machinery, and check
/// failures on unknown values are dropped by it, so implementations need not do either.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The package schema (JSON) served by GetSchema.
    fn schema(&self) -> &str;

    /// Validates provider configuration. Values from stack config arrive as strings.
    async fn check_config(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
        Ok(CheckResponse {
            inputs: req.news,
            failures: Vec::new(),
        })
    }

    /// Diffs provider configuration; a replacement here replaces every resource.
    async fn diff_config(&self, req: DiffRequest) -> Result<Diff, Error> {
        Ok(crate::diff::diff_properties(
            &req.old_inputs,
            &req.news,
            &[],
        ))
    }

    /// Takes the checked configuration (typed values, or the stack's `<package>:config:<key>`
    /// strings keyed by `<key>` from engines that send only those). Called once, before any
    /// operation but Check and Diff; [`Error::MissingConfig`] shows `pulumi config set` hints.
    async fn configure(&self, config: PropertyMap) -> Result<(), Error>;

    /// Validates a resource's inputs and returns the inputs to keep (see [`CheckRequest`]).
    /// May run before [`Provider::configure`].
    async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error>;
    /// What changes between the state and the new inputs, and whether it replaces.
    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error>;
    /// Creates the resource; `ctx` ends the wait on Cancel or at the timeout.
    async fn create(&self, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error>;
    /// Reads the live resource ([`ReadResponse::gone`] when it no longer exists).
    async fn read(&self, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error>;
    /// Updates the resource in place and returns its new outputs.
    async fn update(&self, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error>;
    /// Deletes the resource; one that is already gone counts as deleted.
    async fn delete(&self, req: DeleteRequest, ctx: Context) -> Result<(), Error>;

    /// Builds a component resource: registers its children through `scope` and returns the
    /// component's outputs. The machinery has already registered the component itself, and
    /// registers these outputs.
    async fn construct(
        &self,
        req: crate::component::ConstructRequest,
        scope: &crate::component::ComponentScope,
    ) -> Result<PropertyMap, Error> {
        let _ = scope;
        Err(Error::InvalidArgument(format!(
            "{} is not a component resource of this provider",
            req.type_token
        )))
    }

    /// Runs the provider function `token` (`fn::invoke` in YAML, `getX(...)` in the SDKs) on
    /// `args`, and returns its result. Functions may run before Configure in some engines'
    /// previews of other providers, so a function that needs configuration says so.
    async fn invoke(&self, token: &str, args: PropertyMap) -> Result<PropertyMap, Error> {
        let _ = args;
        Err(Error::InvalidArgument(format!(
            "{token} is not a function of this provider"
        )))
    }
}
