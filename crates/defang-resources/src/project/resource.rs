//! `defang:index:Project` as the kit serves it: each operation is its lifecycle function.

use super::lifecycle;
use crate::cloud_env::Env;
use pulumi_plugin::{
    CheckRequest, CheckResponse, Context, CreateRequest, CreateResponse, DeleteRequest, Diff,
    DiffRequest, Error, PropertyMap, RawResource, ReadRequest, ReadResponse, UpdateRequest,
};

pub struct ProjectResource;

#[async_trait::async_trait]
impl RawResource<Env> for ProjectResource {
    fn token(&self) -> &'static str {
        lifecycle::TOKEN
    }
    async fn check(&self, _: Option<&Env>, req: CheckRequest) -> Result<CheckResponse, Error> {
        Ok(lifecycle::check(&req))
    }
    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        Ok(lifecycle::diff(&req))
    }
    async fn create(
        &self,
        env: &Env,
        req: CreateRequest,
        ctx: Context,
    ) -> Result<CreateResponse, Error> {
        lifecycle::create(env, req, ctx).await
    }
    async fn read(&self, env: &Env, req: ReadRequest, _: Context) -> Result<ReadResponse, Error> {
        lifecycle::read(env, req).await
    }
    async fn update(
        &self,
        env: &Env,
        req: UpdateRequest,
        ctx: Context,
    ) -> Result<PropertyMap, Error> {
        lifecycle::update(env, req, ctx).await
    }
    async fn delete(&self, env: &Env, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
        lifecycle::delete(env, req, ctx).await
    }
}
