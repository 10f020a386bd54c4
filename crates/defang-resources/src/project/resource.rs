//! `defang:index:Project` as the kit serves it: each operation is its lifecycle function.

use super::lifecycle;
use crate::runtime::Runtime;
use pulumi_plugin::{
    CheckRequest, CheckResponse, Context, CreateRequest, CreateResponse, DeleteRequest, Diff,
    DiffRequest, Error, PropertyMap, RawResource, ReadRequest, ReadResponse, UpdateRequest,
};

pub struct ProjectResource;

#[async_trait::async_trait]
impl RawResource<Runtime> for ProjectResource {
    fn token(&self) -> &'static str {
        lifecycle::TOKEN
    }
    async fn check(&self, _: Option<&Runtime>, req: CheckRequest) -> Result<CheckResponse, Error> {
        Ok(lifecycle::check(&req))
    }
    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        Ok(lifecycle::diff(&req))
    }
    async fn create(
        &self,
        env: &Runtime,
        req: CreateRequest,
        ctx: Context,
    ) -> Result<CreateResponse, Error> {
        lifecycle::create(env, req, ctx).await
    }
    async fn read(
        &self,
        env: &Runtime,
        req: ReadRequest,
        _: Context,
    ) -> Result<ReadResponse, Error> {
        lifecycle::read(env, req).await
    }
    async fn update(
        &self,
        env: &Runtime,
        req: UpdateRequest,
        ctx: Context,
    ) -> Result<PropertyMap, Error> {
        lifecycle::update(env, req, ctx).await
    }
    async fn delete(&self, env: &Runtime, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
        lifecycle::delete(env, req, ctx).await
    }
}
