//! `defang:index:Service` as a typed resource of the kit: check in [`super::check`] (the
//! inputs' rules) and [`super::plan`] (what only the configured provider can tell), diff and
//! previews in [`super::plan`], create and update in [`super::lifecycle`], read and import in
//! [`super::refresh`], delete in [`super::delete`].

use super::check::check_against;
use super::inputs::ServiceInputs;
use super::outputs::{OUTPUT_SOURCES, ServiceOutputs};
use super::{delete, lifecycle, plan, refresh};
use crate::runtime::Runtime;
use pulumi_plugin::{
    CheckFailure, CheckRequest, Context, Create, Diff, DiffRequest, Error, PropertyMap, Resource,
    Shape, Update, Value,
};

pub struct ServiceResource;

#[async_trait::async_trait]
impl Resource<Runtime> for ServiceResource {
    const TOKEN: &'static str = lifecycle::TOKEN;
    type Inputs = ServiceInputs;
    type Outputs = ServiceOutputs;
    const REPLACE_ON_CHANGES: &'static [&'static str] = lifecycle::REPLACE_ON_CHANGES;
    const UPDATES_IN_PLACE: bool = true;
    const OUTPUT_SOURCES: &'static [(&'static str, &'static [&'static str])] = OUTPUT_SOURCES;
    // A preview plans what it can while the project or image is not known yet (the domain
    // from the name and ports, the size).
    const PREVIEWS_UNKNOWNS: bool = true;

    /// Every problem at once, also in the known part of inputs a preview does not know yet all
    /// of. A name that defaults to the resource's is explained as such, so the rules read what
    /// the program gave; then the service is named after the resource unless `name` says
    /// otherwise.
    fn check_inputs(
        &self,
        req: &CheckRequest,
        news: &mut PropertyMap,
        shape: &Shape,
    ) -> (Option<ServiceInputs>, Vec<CheckFailure>) {
        let checked = check_against(shape, news, &req.name);
        if !news.contains_key("name") {
            news.insert("name".into(), Value::from(req.name.as_str()));
        }
        checked
    }

    async fn check_live(
        &self,
        env: &Runtime,
        name: &str,
        inputs: &ServiceInputs,
    ) -> Vec<CheckFailure> {
        plan::check_live(env, name, inputs).await
    }

    async fn diff(&self, req: &DiffRequest, planned: Diff) -> Result<Diff, Error> {
        Ok(plan::diff(req, planned).await)
    }

    async fn create(
        &self,
        env: &Runtime,
        req: Create<ServiceInputs>,
        ctx: Context,
    ) -> Result<(String, ServiceOutputs), Error> {
        lifecycle::create(env, req, ctx).await
    }

    async fn update(
        &self,
        env: &Runtime,
        req: Update<ServiceInputs, ServiceOutputs>,
        ctx: Context,
    ) -> Result<ServiceOutputs, Error> {
        lifecycle::update(env, req, ctx).await
    }

    async fn read(
        &self,
        env: &Runtime,
        id: &str,
        inputs: ServiceInputs,
        outputs: ServiceOutputs,
        ctx: Context,
    ) -> Result<Option<(ServiceInputs, ServiceOutputs)>, Error> {
        refresh::read(env, id, Some((inputs, outputs)), &ctx).await
    }

    async fn import(
        &self,
        env: &Runtime,
        id: &str,
        ctx: Context,
    ) -> Result<Option<(ServiceInputs, ServiceOutputs)>, Error> {
        refresh::read(env, id, None, &ctx).await
    }

    async fn delete(
        &self,
        env: &Runtime,
        id: &str,
        outputs: ServiceOutputs,
        ctx: Context,
    ) -> Result<(), Error> {
        delete::delete(env, id, &outputs, ctx).await
    }
}
