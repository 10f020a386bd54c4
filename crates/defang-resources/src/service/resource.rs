//! `defang:index:Service` as the kit serves it: check and diff in [`super::plan`], create and
//! update in [`super::lifecycle`], read in [`super::refresh`], delete in [`super::delete`].

use super::{delete, lifecycle, plan, refresh};
use crate::runtime::Runtime;
use pulumi_plugin::{
    CheckRequest, CheckResponse, Context, CreateRequest, CreateResponse, DeleteRequest, Diff,
    DiffRequest, Error, PropertyMap, RawResource, ReadRequest, ReadResponse, UpdateRequest,
};

pub struct ServiceResource;

#[async_trait::async_trait]
impl RawResource<Runtime> for ServiceResource {
    fn token(&self) -> &'static str {
        lifecycle::TOKEN
    }
    async fn check(
        &self,
        env: Option<&Runtime>,
        req: CheckRequest,
    ) -> Result<CheckResponse, Error> {
        Ok(plan::check(env, &req).await)
    }
    async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
        Ok(plan::diff(&req).await)
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
        ctx: Context,
    ) -> Result<ReadResponse, Error> {
        refresh::read(env, req, ctx).await
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
        delete::delete(env, req, ctx).await
    }
}
