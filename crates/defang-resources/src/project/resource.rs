//! `defang:index:Project` as a typed resource of the kit: check and diff here (the rules in
//! [`super::check`]), create, update, read, import and delete in [`super::lifecycle`].

use super::check::{default_name, validate};
use super::inputs::ProjectInputs;
use super::lifecycle;
use super::outputs::ProjectOutputs;
use crate::runtime::Runtime;
use pulumi_plugin::{
    CheckFailure, CheckRequest, Context, Create, Diff, DiffRequest, Error, PropertyMap, Resource,
    Update,
};

pub struct ProjectResource;

#[async_trait::async_trait]
impl Resource<Runtime> for ProjectResource {
    const TOKEN: &'static str = lifecycle::TOKEN;
    type Inputs = ProjectInputs;
    type Outputs = ProjectOutputs;
    const REPLACE_ON_CHANGES: &'static [&'static str] = lifecycle::REPLACE_ON_CHANGES;
    const UPDATES_IN_PLACE: bool = true;
    // Every input is optional, so an input not known yet reads as not set: the outputs that do
    // not depend on it are shown.
    const PREVIEWS_UNKNOWNS: bool = true;

    fn defaults(&self, req: &CheckRequest, news: &mut PropertyMap) {
        default_name(&req.urn, &req.olds, news);
    }

    fn validate(&self, inputs: &ProjectInputs) -> Vec<CheckFailure> {
        validate(inputs)
    }

    async fn diff(&self, _: &DiffRequest, planned: Diff) -> Result<Diff, Error> {
        Ok(lifecycle::order_replacement(planned))
    }

    async fn create(
        &self,
        env: &Runtime,
        req: Create<ProjectInputs>,
        ctx: Context,
    ) -> Result<(String, ProjectOutputs), Error> {
        lifecycle::create(env, req, ctx).await
    }

    async fn update(
        &self,
        env: &Runtime,
        req: Update<ProjectInputs, ProjectOutputs>,
        ctx: Context,
    ) -> Result<ProjectOutputs, Error> {
        lifecycle::update(env, req, ctx).await
    }

    async fn read(
        &self,
        env: &Runtime,
        id: &str,
        inputs: ProjectInputs,
        _: ProjectOutputs,
        _: Context,
    ) -> Result<Option<(ProjectInputs, ProjectOutputs)>, Error> {
        lifecycle::read(env, id, inputs).await
    }

    async fn import(
        &self,
        env: &Runtime,
        id: &str,
        _: Context,
    ) -> Result<Option<(ProjectInputs, ProjectOutputs)>, Error> {
        lifecycle::import(env, id).await
    }

    async fn delete(
        &self,
        env: &Runtime,
        id: &str,
        outputs: ProjectOutputs,
        ctx: Context,
    ) -> Result<(), Error> {
        lifecycle::delete(env, id, outputs, ctx).await
    }
}
