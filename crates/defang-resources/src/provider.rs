//! The Defang provider: configuration, and dispatch of each operation to its resource.

use crate::cloud_env::{CloudConnector, Env};
use crate::config::{self, ProviderConfig};
use crate::{project, service};
use pulumi_plugin::{
    CheckRequest, CheckResponse, Context, CreateRequest, CreateResponse, DeleteRequest, Diff,
    DiffRequest, Error, PropertyMap, ReadRequest, ReadResponse, UpdateRequest,
};
use tokio::sync::OnceCell;

/// The package schema served by GetSchema (the file at the repository root).
pub const SCHEMA: &str = include_str!("../../../schema.json");

pub struct DefangProvider {
    connector: Box<dyn CloudConnector>,
    env: OnceCell<Env>,
}

impl DefangProvider {
    pub fn new(connector: impl CloudConnector) -> Self {
        DefangProvider {
            connector: Box::new(connector),
            env: OnceCell::new(),
        }
    }

    fn env(&self) -> Result<&Env, Error> {
        self.env.get().ok_or_else(|| {
            Error::Internal(
                "the provider was used before Configure; this is a bug in the engine or provider"
                    .into(),
            )
        })
    }
}

fn unknown_type(token: &str) -> Error {
    Error::InvalidArgument(format!("unknown resource type {token}"))
}

#[async_trait::async_trait]
impl pulumi_plugin::Provider for DefangProvider {
    fn schema(&self) -> &str {
        SCHEMA
    }

    async fn check_config(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
        let failures = config::check(&req.news);
        Ok(CheckResponse {
            inputs: req.news,
            failures,
        })
    }

    async fn diff_config(&self, req: DiffRequest) -> Result<Diff, Error> {
        // Another region is another set of resources: replace everything. Another profile is
        // only another way to sign in (a renamed SSO profile, a role in the same account): an
        // update, never a replacement of what runs.
        Ok(pulumi_plugin::diff_properties(
            &req.old_inputs,
            &req.news,
            &["region"],
        ))
    }

    async fn configure(&self, config: PropertyMap) -> Result<(), Error> {
        let config = ProviderConfig::parse(&config)?;
        let cloud = self
            .connector
            .connect(&config)
            .await
            .map_err(Error::Failed)?;
        let _ = self.env.set(Env::new(cloud, config));
        Ok(())
    }

    async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
        match req.type_token.as_str() {
            project::lifecycle::TOKEN => Ok(project::lifecycle::check(&req)),
            service::lifecycle::TOKEN => Ok(service::lifecycle::check(self.env.get(), &req).await),
            other => Err(unknown_type(other)),
        }
    }

    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        match req.type_token.as_str() {
            project::lifecycle::TOKEN => Ok(project::lifecycle::diff(&req)),
            service::lifecycle::TOKEN => Ok(service::lifecycle::diff(&req).await),
            other => Err(unknown_type(other)),
        }
    }

    async fn create(&self, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error> {
        let env = self.env()?;
        match req.type_token.as_str() {
            project::lifecycle::TOKEN => project::lifecycle::create(env, req, ctx).await,
            service::lifecycle::TOKEN => service::lifecycle::create(env, req, ctx).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn read(&self, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error> {
        let env = self.env()?;
        match req.type_token.as_str() {
            project::lifecycle::TOKEN => project::lifecycle::read(env, req).await,
            service::lifecycle::TOKEN => service::refresh::read(env, req, ctx).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn update(&self, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error> {
        let env = self.env()?;
        match req.type_token.as_str() {
            project::lifecycle::TOKEN => project::lifecycle::update(env, req, ctx).await,
            service::lifecycle::TOKEN => service::lifecycle::update(env, req, ctx).await,
            other => Err(unknown_type(other)),
        }
    }

    async fn delete(&self, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
        let env = self.env()?;
        match req.type_token.as_str() {
            project::lifecycle::TOKEN => project::lifecycle::delete(env, req, ctx).await,
            service::lifecycle::TOKEN => service::teardown::delete(env, req, ctx).await,
            other => Err(unknown_type(other)),
        }
    }
}
