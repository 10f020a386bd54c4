//! The provider contract in terms of property maps: what a concrete provider implements.
//! The gRPC layer ([`crate::server`]) handles the protocol around it.

use crate::context::Context;
use crate::diff::Diff;
use crate::error::Error;
use crate::value::PropertyMap;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFailure {
    /// Property path, e.g. `ports[0].target`.
    pub property: String,
    /// What is wrong and how to fix it.
    pub reason: String,
}

impl CheckFailure {
    pub fn new(property: impl Into<String>, reason: impl Into<String>) -> Self {
        CheckFailure {
            property: property.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CheckRequest {
    pub urn: String,
    pub name: String,
    pub type_token: String,
    /// Previous checked inputs; empty when the resource is new.
    pub olds: PropertyMap,
    pub news: PropertyMap,
}

#[derive(Clone, Debug, Default)]
pub struct CheckResponse {
    pub inputs: PropertyMap,
    pub failures: Vec<CheckFailure>,
}

#[derive(Clone, Debug)]
pub struct DiffRequest {
    pub id: String,
    pub urn: String,
    pub name: String,
    pub type_token: String,
    pub old_outputs: PropertyMap,
    pub old_inputs: PropertyMap,
    pub news: PropertyMap,
    pub ignore_changes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub urn: String,
    pub name: String,
    pub type_token: String,
    pub inputs: PropertyMap,
    pub timeout: Option<Duration>,
    pub preview: bool,
}

#[derive(Clone, Debug, Default)]
pub struct CreateResponse {
    pub id: String,
    pub outputs: PropertyMap,
}

#[derive(Clone, Debug)]
pub struct ReadRequest {
    pub id: String,
    pub urn: String,
    pub name: String,
    pub type_token: String,
    /// Empty on import.
    pub old_outputs: PropertyMap,
    /// Empty on import.
    pub old_inputs: PropertyMap,
}

#[derive(Clone, Debug, Default)]
pub struct ReadResponse {
    /// `None`: the resource no longer exists.
    pub id: Option<String>,
    pub outputs: PropertyMap,
    pub inputs: PropertyMap,
}

impl ReadResponse {
    pub fn gone() -> Self {
        ReadResponse::default()
    }
}

#[derive(Clone, Debug)]
pub struct UpdateRequest {
    pub id: String,
    pub urn: String,
    pub name: String,
    pub type_token: String,
    pub old_outputs: PropertyMap,
    pub old_inputs: PropertyMap,
    pub news: PropertyMap,
    pub timeout: Option<Duration>,
    pub preview: bool,
}

#[derive(Clone, Debug)]
pub struct DeleteRequest {
    pub id: String,
    pub urn: String,
    pub name: String,
    pub type_token: String,
    pub old_outputs: PropertyMap,
    pub old_inputs: PropertyMap,
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

    async fn configure(&self, config: PropertyMap) -> Result<(), Error>;

    async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error>;
    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error>;
    async fn create(&self, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error>;
    async fn read(&self, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error>;
    async fn update(&self, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error>;
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
}
