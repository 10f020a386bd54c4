//! The Defang provider: configuration, and the resources it serves (dispatched by token).

use crate::compose::component::ComposeComponent;
use crate::config::{self, ProviderConfig};
use crate::project::resource::ProjectResource;
use crate::runtime::{CloudConnector, Runtime};
use crate::service::get_domains::GetDomains;
use crate::service::resource::ServiceResource;
use pulumi_plugin::{
    CheckRequest, CheckResponse, ComponentScope, ConstructRequest, Context, CreateRequest,
    CreateResponse, DeleteRequest, Diff, DiffRequest, Error, PropertyMap, ReadRequest,
    ReadResponse, Resources, UpdateRequest,
};
use tokio::sync::OnceCell;

/// The package schema served by GetSchema (the file at the repository root).
pub const SCHEMA: &str = include_str!("../../../schema.json");

pub struct DefangProvider {
    connector: Box<dyn CloudConnector>,
    env: OnceCell<Runtime>,
    resources: Resources<Runtime>,
}

impl DefangProvider {
    pub fn new(connector: impl CloudConnector) -> Self {
        DefangProvider {
            connector: Box::new(connector),
            env: OnceCell::new(),
            resources: Resources::default()
                .typed(ProjectResource)
                .typed(ServiceResource)
                .component(ComposeComponent)
                .function(GetDomains),
        }
    }

    fn env(&self) -> Result<&Runtime, Error> {
        self.env.get().ok_or_else(|| {
            Error::Internal(
                "the provider was used before Configure; this is a bug in the engine or provider"
                    .into(),
            )
        })
    }
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
        let _ = self.env.set(Runtime::new(cloud, config));
        Ok(())
    }

    async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
        self.resources.check(self.env.get(), req).await
    }

    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        self.resources.diff(req).await
    }

    async fn create(&self, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error> {
        self.resources.create(self.env()?, req, ctx).await
    }

    async fn read(&self, req: ReadRequest, ctx: Context) -> Result<ReadResponse, Error> {
        self.resources.read(self.env()?, req, ctx).await
    }

    async fn update(&self, req: UpdateRequest, ctx: Context) -> Result<PropertyMap, Error> {
        self.resources.update(self.env()?, req, ctx).await
    }

    async fn delete(&self, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
        self.resources.delete(self.env()?, req, ctx).await
    }

    async fn construct(
        &self,
        req: ConstructRequest,
        scope: &ComponentScope,
    ) -> Result<PropertyMap, Error> {
        self.resources.construct(self.env.get(), req, scope).await
    }

    async fn invoke(&self, token: &str, args: PropertyMap) -> Result<PropertyMap, Error> {
        self.resources.invoke(self.env.get(), token, args).await
    }
}
