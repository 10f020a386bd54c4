//! The gRPC `ResourceProvider` service around a [`Provider`]: protocol negotiation, wire
//! conversion, secrets, cancellation, and errors.
//!
//! Every text that leaves through here is masked ([`crate::mask`]): the returned error (its
//! message, partial-failure reasons), Check failure reasons, and the messages logged through
//! the operation's [`Context`], with the secret values of the request (its new and old inputs
//! and old outputs) and of the provider's configuration.

use crate::component;
use crate::context::Context;
use crate::diff::{Diff, DiffKind};
use crate::engine_log::EngineLog;
use crate::error::Error;
use crate::mask::Mask;
use crate::messages::WithProps;
use crate::provider::{self, Provider};
use crate::value::{
    PropertyMap, Value, into_properties, into_struct, propagate_secrets, properties_from_struct,
    secrets_only, unknown_paths,
};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use rpc::resource_provider_server::ResourceProvider;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// The `ResourceProvider` gRPC service for one provider; [`serve`](crate::serve()) serves it,
/// and [`Driver`](crate::testing::Driver) calls it in process.
pub struct PluginService<P> {
    provider: Arc<P>,
    package: String,
    version: String,
    engine: EngineLog,
    cancel: CancellationToken,
    /// The secret values of the configuration, masked in every request's texts.
    config_mask: RwLock<Mask>,
}

impl<P: Provider> PluginService<P> {
    /// The service of `provider`: `package` is the name whose `<package>:config:<key>`
    /// variables Configure reads, `version` what GetPluginInfo answers, `engine` where the
    /// operations' messages go.
    pub fn new(package: &str, version: &str, provider: P, engine: EngineLog) -> Self {
        PluginService {
            provider: Arc::new(provider),
            package: package.to_string(),
            version: version.to_string(),
            engine,
            cancel: CancellationToken::new(),
            config_mask: RwLock::default(),
        }
    }

    /// Cancelled when the engine calls Cancel: in-flight operations stop waiting.
    pub fn cancellation(&self) -> CancellationToken {
        self.cancel.clone()
    }

    fn context(&self, urn: &str, timeout: f64, mask: &Mask) -> Context {
        Context::new(
            self.engine.for_resource(urn).with_mask(mask),
            self.cancel.child_token(),
            timeout_of(timeout),
        )
    }

    /// The secret values of a request's property maps, and of the configuration.
    fn mask<'a>(&self, maps: impl IntoIterator<Item = &'a PropertyMap>) -> Mask {
        let config = self.config_mask.read().expect("config mask lock").clone();
        config.union(&Mask::from_properties(maps))
    }

    /// Runs a call that gets no [`Context`] (Check, Diff) until it ends, or until the engine
    /// cancels: the call is then dropped, which also stops work it handed to other threads if
    /// that work watches for its caller going away.
    async fn unless_cancelled<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        tokio::select! {
            result = call => result,
            _ = self.cancel.cancelled() => {
                Err(Error::Interrupted("the operation was cancelled".into()))
            }
        }
    }

    /// Config from `Configure`: typed `args` when present, else the legacy
    /// `<pkg>:config:<key>` string variables.
    fn config_from(&self, req: &rpc::ConfigureRequest) -> PropertyMap {
        if let Some(args) = &req.args {
            return properties_from_struct(Some(args));
        }
        let prefix = format!("{}:config:", self.package);
        req.variables
            .iter()
            .map(|(k, v)| {
                (
                    k.strip_prefix(&prefix).unwrap_or(k).to_string(),
                    Value::from(v.clone()),
                )
            })
            .collect()
    }
}

fn timeout_of(seconds: f64) -> Option<Duration> {
    (seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// A request's property struct, taken (its strings move); `None` is empty.
fn props(s: Option<prost_types::Struct>) -> PropertyMap {
    s.map(into_properties).unwrap_or_default()
}

/// The paths of the unknown values in a Check's inputs, as failures name them; empty, without
/// walking paths, when every value is known (the inputs then go to the provider, not a copy).
fn unknown_input_paths(news: &PropertyMap) -> Vec<String> {
    if !news.values().any(Value::contains_unknowns) {
        return Vec::new();
    }
    unknown_paths(news).iter().map(|p| p.to_string()).collect()
}

/// `unknown`: [`unknown_input_paths`] of the inputs checked.
fn check_response(
    checked: provider::CheckResponse,
    unknown: &[String],
    mask: &Mask,
) -> WithProps<rpc::CheckResponse, 1> {
    // A failure about a value that is not known yet is not a failure (yet).
    let failures = checked
        .failures
        .into_iter()
        .filter(|f| {
            !unknown.iter().any(|u| {
                f.property == *u
                    || f.property.starts_with(&format!("{u}."))
                    || f.property.starts_with(&format!("{u}["))
            })
        })
        .map(|f| rpc::CheckFailure {
            property: f.property,
            reason: mask.apply(&f.reason),
        })
        .collect();
    WithProps {
        message: rpc::CheckResponse {
            inputs: None,
            failures,
        },
        maps: [Some(checked.inputs)],
    }
}

fn diff_response(diff: Diff) -> rpc::DiffResponse {
    use rpc::property_diff::Kind;
    let detailed_diff: HashMap<String, rpc::PropertyDiff> = diff
        .detailed
        .iter()
        .map(|(path, d)| {
            let kind = match (d.kind, d.replace) {
                (DiffKind::Add, false) => Kind::Add,
                (DiffKind::Add, true) => Kind::AddReplace,
                (DiffKind::Delete, false) => Kind::Delete,
                (DiffKind::Delete, true) => Kind::DeleteReplace,
                (DiffKind::Update, false) => Kind::Update,
                (DiffKind::Update, true) => Kind::UpdateReplace,
            };
            (
                path.clone(),
                rpc::PropertyDiff {
                    kind: kind as i32,
                    input_diff: true,
                },
            )
        })
        .collect();
    let changes = if diff.has_changes() {
        rpc::diff_response::DiffChanges::DiffSome
    } else {
        rpc::diff_response::DiffChanges::DiffNone
    };
    rpc::DiffResponse {
        replaces: diff.replaces(),
        stables: Vec::new(),
        delete_before_replace: diff.delete_before_replace && !diff.replaces().is_empty(),
        changes: changes as i32,
        diffs: diff.changed_keys(),
        detailed_diff,
        has_detailed_diff: true,
    }
}

/// Puts input secretness back on outputs, including partial state in errors. `inputs` may be
/// just their [`secrets_only`].
fn secure(inputs: &PropertyMap, result: Result<PropertyMap, Error>) -> Result<PropertyMap, Error> {
    match result {
        Ok(mut outputs) => {
            propagate_secrets(inputs, &mut outputs);
            Ok(outputs)
        }
        Err(Error::ResourceInitFailed(mut state)) => {
            propagate_secrets(inputs, &mut state.outputs);
            Err(Error::ResourceInitFailed(state))
        }
        Err(other) => Err(other),
    }
}

/// The resource RPCs on property maps: what the serve loop's routes call with maps read straight
/// off the wire ([`crate::messages`]), and the generated trait's methods with maps converted
/// from its messages.
impl<P: Provider> PluginService<P> {
    pub(crate) async fn check_props(
        &self,
        request: WithProps<rpc::CheckRequest, 2>,
    ) -> Result<WithProps<rpc::CheckResponse, 1>, Status> {
        self.check_with(request, |req| self.provider.check(req))
            .await
    }

    /// Check or CheckConfig: `check` is the provider's.
    async fn check_with<F: Future<Output = Result<provider::CheckResponse, Error>>>(
        &self,
        request: WithProps<rpc::CheckRequest, 2>,
        check: impl FnOnce(provider::CheckRequest) -> F,
    ) -> Result<WithProps<rpc::CheckResponse, 1>, Status> {
        let (r, [olds, news]) = request.into_parts();
        let mask = self.mask([&news, &olds]);
        let unknown = unknown_input_paths(&news);
        let checked = self
            .unless_cancelled(check(provider::CheckRequest {
                urn: r.urn,
                name: r.name,
                type_token: r.r#type,
                olds,
                news,
            }))
            .await
            .map_err(|e| mask.error(e))?;
        Ok(check_response(checked, &unknown, &mask))
    }

    pub(crate) async fn diff_props(
        &self,
        request: WithProps<rpc::DiffRequest, 3>,
    ) -> Result<WithProps<rpc::DiffResponse, 0>, Status> {
        self.diff_with(request, |req| self.provider.diff(req)).await
    }

    /// Diff or DiffConfig: `diff` is the provider's.
    async fn diff_with<F: Future<Output = Result<Diff, Error>>>(
        &self,
        request: WithProps<rpc::DiffRequest, 3>,
        diff: impl FnOnce(provider::DiffRequest) -> F,
    ) -> Result<WithProps<rpc::DiffResponse, 0>, Status> {
        let req = diff_request(request);
        let mask = self.mask([&req.old_outputs, &req.old_inputs, &req.news]);
        let diff = self
            .unless_cancelled(diff(req))
            .await
            .map_err(|e| mask.error(e))?;
        Ok(WithProps::new(diff_response(diff)))
    }

    pub(crate) async fn create_props(
        &self,
        request: WithProps<rpc::CreateRequest, 1>,
    ) -> Result<WithProps<rpc::CreateResponse, 1>, Status> {
        let (r, [inputs]) = request.into_parts();
        let mask = self.mask([&inputs]);
        let ctx = self.context(&r.urn, r.timeout, &mask);
        let secrets = secrets_only(&inputs);
        let req = provider::CreateRequest {
            urn: r.urn,
            name: r.name,
            type_token: r.r#type,
            inputs,
            timeout: timeout_of(r.timeout),
            preview: r.preview,
        };
        let created = self.provider.create(req, ctx).await;
        let (id, outputs) = match created {
            Ok(c) => (
                c.id,
                secure(&secrets, Ok(c.outputs)).map_err(|e| mask.error(e))?,
            ),
            Err(e) => return Err(mask.error(secure(&secrets, Err(e)).unwrap_err()).into()),
        };
        Ok(WithProps {
            message: rpc::CreateResponse {
                id,
                properties: None,
                refresh_before_update: false,
            },
            maps: [Some(outputs)],
        })
    }

    pub(crate) async fn read_props(
        &self,
        request: WithProps<rpc::ReadRequest, 2>,
    ) -> Result<WithProps<rpc::ReadResponse, 2>, Status> {
        let (r, [old_outputs, old_inputs]) = request.into_parts();
        let mask = self.mask([&old_inputs, &old_outputs]);
        let ctx = self.context(&r.urn, 0.0, &mask);
        let read = self
            .provider
            .read(
                provider::ReadRequest {
                    id: r.id,
                    urn: r.urn,
                    name: r.name,
                    type_token: r.r#type,
                    old_outputs,
                    old_inputs: old_inputs.clone(),
                },
                ctx,
            )
            .await
            .map_err(|e| mask.error(e))?;
        let Some(id) = read.id else {
            return Ok(WithProps::new(rpc::ReadResponse::default()));
        };
        let mut inputs = read.inputs;
        propagate_secrets(&old_inputs, &mut inputs);
        let outputs = secure(&inputs, Ok(read.outputs)).map_err(|e| mask.error(e))?;
        Ok(WithProps {
            message: rpc::ReadResponse {
                id,
                ..Default::default()
            },
            maps: [Some(outputs), Some(inputs)],
        })
    }

    pub(crate) async fn update_props(
        &self,
        request: WithProps<rpc::UpdateRequest, 3>,
    ) -> Result<WithProps<rpc::UpdateResponse, 1>, Status> {
        let (r, [old_outputs, news, old_inputs]) = request.into_parts();
        let mask = self.mask([&news, &old_outputs, &old_inputs]);
        let ctx = self.context(&r.urn, r.timeout, &mask);
        let secrets = secrets_only(&news);
        let req = provider::UpdateRequest {
            id: r.id,
            urn: r.urn,
            name: r.name,
            type_token: r.r#type,
            old_outputs,
            old_inputs,
            news,
            timeout: timeout_of(r.timeout),
            preview: r.preview,
        };
        let outputs =
            secure(&secrets, self.provider.update(req, ctx).await).map_err(|e| mask.error(e))?;
        Ok(WithProps {
            message: rpc::UpdateResponse::default(),
            maps: [Some(outputs)],
        })
    }

    pub(crate) async fn delete_props(
        &self,
        request: WithProps<rpc::DeleteRequest, 2>,
    ) -> Result<WithProps<(), 0>, Status> {
        let (r, [old_outputs, old_inputs]) = request.into_parts();
        let mask = self.mask([&old_outputs, &old_inputs]);
        let ctx = self.context(&r.urn, r.timeout, &mask);
        self.provider
            .delete(
                provider::DeleteRequest {
                    id: r.id,
                    urn: r.urn,
                    name: r.name,
                    type_token: r.r#type,
                    old_outputs,
                    old_inputs,
                    timeout: timeout_of(r.timeout),
                },
                ctx,
            )
            .await
            .map_err(|e| mask.error(e))?;
        Ok(WithProps::new(()))
    }
}

#[tonic::async_trait]
impl<P: Provider> ResourceProvider for PluginService<P> {
    async fn handshake(
        &self,
        request: Request<rpc::ProviderHandshakeRequest>,
    ) -> Result<Response<rpc::ProviderHandshakeResponse>, Status> {
        self.engine.connect(&request.get_ref().engine_address);
        Ok(Response::new(rpc::ProviderHandshakeResponse {
            accept_secrets: true,
            accept_resources: true,
            accept_outputs: false,
            ..Default::default()
        }))
    }

    async fn parameterize(
        &self,
        _: Request<rpc::ParameterizeRequest>,
    ) -> Result<Response<rpc::ParameterizeResponse>, Status> {
        Err(Status::unimplemented("this provider is not parameterized"))
    }

    async fn get_schema(
        &self,
        _: Request<rpc::GetSchemaRequest>,
    ) -> Result<Response<rpc::GetSchemaResponse>, Status> {
        Ok(Response::new(rpc::GetSchemaResponse {
            schema: self.provider.schema().to_string(),
        }))
    }

    async fn check_config(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let request = WithProps::from_message(request.into_inner());
        let checked = self.check_with(request, |req| self.provider.check_config(req));
        Ok(Response::new(checked.await?.into_message()))
    }

    async fn diff_config(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let request = WithProps::from_message(request.into_inner());
        let diff = self.diff_with(request, |req| self.provider.diff_config(req));
        Ok(Response::new(diff.await?.into_message()))
    }

    async fn configure(
        &self,
        request: Request<rpc::ConfigureRequest>,
    ) -> Result<Response<rpc::ConfigureResponse>, Status> {
        let config = self.config_from(request.get_ref());
        let mask = Mask::from_properties([&config]);
        *self.config_mask.write().expect("config mask lock") = mask.clone();
        self.provider
            .configure(config)
            .await
            .map_err(|e| mask.error(e))?;
        Ok(Response::new(rpc::ConfigureResponse {
            accept_secrets: true,
            supports_preview: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: false,
        }))
    }

    async fn invoke(
        &self,
        request: Request<rpc::InvokeRequest>,
    ) -> Result<Response<rpc::InvokeResponse>, Status> {
        let r = request.into_inner();
        let args = props(r.args);
        let mask = self.mask([&args]);
        // What is computed from a secret is secret: with any secret argument, every result is.
        let secret_args = args.values().any(Value::contains_secrets);
        let invoked = self.provider.invoke(&r.tok, args);
        match self.unless_cancelled(invoked).await {
            Ok(mut result) => {
                if secret_args {
                    result.values_mut().for_each(Value::make_secret);
                }
                Ok(Response::new(rpc::InvokeResponse {
                    r#return: Some(into_struct(result)),
                    failures: Vec::new(),
                }))
            }
            // A bad argument is the caller's to fix: a failure the engine shows as such.
            Err(Error::InvalidArgument(reason)) => Ok(Response::new(rpc::InvokeResponse {
                r#return: None,
                failures: vec![rpc::CheckFailure {
                    property: String::new(),
                    reason: mask.apply(&reason),
                }],
            })),
            Err(e) => Err(mask.error(e).into()),
        }
    }

    async fn call(
        &self,
        _: Request<rpc::CallRequest>,
    ) -> Result<Response<rpc::CallResponse>, Status> {
        Err(Status::unimplemented("this provider has no methods"))
    }

    async fn check(
        &self,
        request: Request<rpc::CheckRequest>,
    ) -> Result<Response<rpc::CheckResponse>, Status> {
        let request = WithProps::from_message(request.into_inner());
        Ok(Response::new(
            self.check_props(request).await?.into_message(),
        ))
    }

    async fn diff(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let request = WithProps::from_message(request.into_inner());
        Ok(Response::new(
            self.diff_props(request).await?.into_message(),
        ))
    }

    async fn create(
        &self,
        request: Request<rpc::CreateRequest>,
    ) -> Result<Response<rpc::CreateResponse>, Status> {
        let request = WithProps::from_message(request.into_inner());
        Ok(Response::new(
            self.create_props(request).await?.into_message(),
        ))
    }

    async fn read(
        &self,
        request: Request<rpc::ReadRequest>,
    ) -> Result<Response<rpc::ReadResponse>, Status> {
        let request = WithProps::from_message(request.into_inner());
        Ok(Response::new(
            self.read_props(request).await?.into_message(),
        ))
    }

    async fn update(
        &self,
        request: Request<rpc::UpdateRequest>,
    ) -> Result<Response<rpc::UpdateResponse>, Status> {
        let request = WithProps::from_message(request.into_inner());
        Ok(Response::new(
            self.update_props(request).await?.into_message(),
        ))
    }

    async fn delete(&self, request: Request<rpc::DeleteRequest>) -> Result<Response<()>, Status> {
        let request = WithProps::from_message(request.into_inner());
        self.delete_props(request).await?;
        Ok(Response::new(()))
    }

    async fn construct(
        &self,
        request: Request<rpc::ConstructRequest>,
    ) -> Result<Response<rpc::ConstructResponse>, Status> {
        let r = request.into_inner();
        let req = component::construct_request(&r);
        let mask = self.mask([&req.inputs]);
        let built = async {
            let scope =
                component::open_scope(&r, crate::serve::MAX_MESSAGE_BYTES, &self.engine, &mask)
                    .await?;
            let outputs = self.provider.construct(req, &scope).await?;
            component::finish(scope, &outputs).await
        };
        let response = self
            .unless_cancelled(built)
            .await
            .map_err(|e| mask.error(e))?;
        Ok(Response::new(response))
    }

    async fn cancel(&self, _: Request<()>) -> Result<Response<()>, Status> {
        tracing::info!("cancel requested by the engine");
        self.cancel.cancel();
        Ok(Response::new(()))
    }

    async fn get_plugin_info(&self, _: Request<()>) -> Result<Response<rpc::PluginInfo>, Status> {
        Ok(Response::new(rpc::PluginInfo {
            version: self.version.clone(),
        }))
    }

    async fn attach(&self, request: Request<rpc::PluginAttach>) -> Result<Response<()>, Status> {
        self.engine.connect(&request.get_ref().address);
        Ok(Response::new(()))
    }

    async fn get_mapping(
        &self,
        _: Request<rpc::GetMappingRequest>,
    ) -> Result<Response<rpc::GetMappingResponse>, Status> {
        Ok(Response::new(rpc::GetMappingResponse::default()))
    }

    async fn get_mappings(
        &self,
        _: Request<rpc::GetMappingsRequest>,
    ) -> Result<Response<rpc::GetMappingsResponse>, Status> {
        Ok(Response::new(rpc::GetMappingsResponse::default()))
    }
}

fn diff_request(request: WithProps<rpc::DiffRequest, 3>) -> provider::DiffRequest {
    let (r, [old_outputs, news, old_inputs]) = request.into_parts();
    provider::DiffRequest {
        id: r.id,
        urn: r.urn,
        name: r.name,
        type_token: r.r#type,
        old_outputs,
        old_inputs,
        news,
        ignore_changes: r.ignore_changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{PartialState, resource_init_failed};
    use crate::provider::*;
    use crate::value::properties_to_struct;

    const PASSWORD: &str = "hunter2-pass";
    const PIN: &str = "4711";
    const OLD: &str = "old-output-token";

    /// A careless provider: quotes every value it gets in its errors, failures and logs.
    struct Careless;

    fn everything(maps: &[&PropertyMap]) -> String {
        maps.iter()
            .flat_map(|m| m.values())
            .map(|v| format!("{}", crate::value::to_json(&v.unwrap_secrets())))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[async_trait::async_trait]
    impl Provider for Careless {
        fn schema(&self) -> &str {
            "{}"
        }
        async fn configure(&self, config: PropertyMap) -> Result<(), Error> {
            Err(Error::Failed(format!(
                "bad config {}",
                everything(&[&config])
            )))
        }
        async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
            Ok(CheckResponse {
                inputs: req.news.clone(),
                failures: vec![CheckFailure::new(
                    "password",
                    format!("rejected {}", everything(&[&req.news, &req.olds])),
                )],
            })
        }
        async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
            if req.name == "hang" {
                std::future::pending::<()>().await;
            }
            Err(Error::Internal(everything(&[&req.news, &req.old_outputs])))
        }
        async fn create(&self, req: CreateRequest, ctx: Context) -> Result<CreateResponse, Error> {
            let text = everything(&[&req.inputs]);
            ctx.log.status(&format!("status {text}")).await;
            ctx.log.info(&format!("info {text}")).await;
            ctx.log.warn(&format!("warn {text}")).await;
            ctx.log.debug(&format!("debug {text}")).await;
            Err(Error::ResourceInitFailed(Box::new(PartialState {
                id: "id-1".into(),
                outputs: req.inputs.clone(),
                inputs: None,
                reasons: vec![format!("unhealthy: {text}")],
            })))
        }
        async fn read(&self, req: ReadRequest, _: Context) -> Result<ReadResponse, Error> {
            Err(Error::Failed(everything(&[&req.old_outputs])))
        }
        async fn update(&self, req: UpdateRequest, _: Context) -> Result<PropertyMap, Error> {
            Err(Error::Failed(everything(&[&req.old_outputs, &req.news])))
        }
        async fn delete(&self, req: DeleteRequest, ctx: Context) -> Result<(), Error> {
            ctx.log
                .info(&format!("deleting {}", everything(&[&req.old_outputs])))
                .await;
            Ok(())
        }
        async fn invoke(&self, token: &str, args: PropertyMap) -> Result<PropertyMap, Error> {
            match token {
                // Returns a plain value computed from the arguments.
                "t:index:count" => Ok(PropertyMap::from([(
                    "count".into(),
                    Value::Number(args.len() as f64),
                )])),
                _ => Err(Error::InvalidArgument(format!(
                    "refused {}",
                    everything(&[&args])
                ))),
            }
        }
    }

    #[tokio::test]
    async fn invoke_results_of_secret_arguments_are_secret_and_refusals_are_masked() {
        let (svc, _) = service();
        let invoke = |tok: &str, args: &PropertyMap| {
            Request::new(rpc::InvokeRequest {
                tok: tok.into(),
                args: Some(properties_to_struct(args)),
                ..Default::default()
            })
        };
        let plain = PropertyMap::from([("a".into(), Value::from("x"))]);
        let out = svc
            .invoke(invoke("t:index:count", &plain))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(props(out.r#return)["count"], Value::Number(1.0));
        let out = svc
            .invoke(invoke("t:index:count", &secret_inputs()))
            .await
            .unwrap()
            .into_inner();
        assert!(props(out.r#return.clone())["count"].is_secret(), "{out:?}");
        // A refusal is a failure the engine shows, without the secret it quoted.
        let out = svc
            .invoke(invoke("t:index:refuse", &secret_inputs()))
            .await
            .unwrap()
            .into_inner();
        assert!(out.r#return.is_none());
        let reason = &out.failures[0].reason;
        assert!(reason.starts_with("refused"), "{reason}");
        assert!(
            !reason.contains(PASSWORD) && !reason.contains(PIN),
            "{reason}"
        );
    }

    fn service() -> (PluginService<Careless>, EngineLog) {
        let engine = EngineLog::recording();
        (
            PluginService::new("t", "0.0.1", Careless, engine.clone()),
            engine,
        )
    }

    /// A secret password, a nested secret PIN (number), a whole secret map, and plain values.
    fn secret_inputs() -> PropertyMap {
        PropertyMap::from([
            ("password".into(), Value::from(PASSWORD).into_secret()),
            ("plain".into(), Value::from("visible")),
            (
                "environment".into(),
                Value::Object(PropertyMap::from([
                    ("PIN".into(), Value::Number(4711.0).into_secret()),
                    ("MODE".into(), Value::from("prod")),
                ])),
            ),
            (
                "args".into(),
                Value::Object(PropertyMap::from([("K".into(), Value::from("map-value"))]))
                    .into_secret(),
            ),
        ])
    }

    fn old_outputs() -> PropertyMap {
        PropertyMap::from([("token".into(), Value::from(OLD).into_secret())])
    }

    fn assert_masked(text: &str) {
        for secret in [PASSWORD, PIN, "map-value", OLD] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("[secret]"), "{text}");
    }

    fn s(map: &PropertyMap) -> Option<prost_types::Struct> {
        Some(properties_to_struct(map))
    }

    #[tokio::test]
    async fn check_failure_reasons_are_masked() {
        let (svc, _) = service();
        let checked = svc
            .check(Request::new(rpc::CheckRequest {
                urn: "u".into(),
                name: "n".into(),
                r#type: "t:index:R".into(),
                olds: s(&old_outputs()),
                news: s(&secret_inputs()),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        let reason = &checked.failures[0].reason;
        assert_masked(reason);
        assert!(
            reason.contains("visible") && reason.contains("prod"),
            "{reason}"
        );
    }

    #[tokio::test]
    async fn errors_partial_failure_reasons_and_logs_are_masked() {
        let (svc, engine) = service();
        let status = svc
            .create(Request::new(rpc::CreateRequest {
                urn: "urn:r".into(),
                name: "n".into(),
                r#type: "t:index:R".into(),
                properties: s(&secret_inputs()),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_masked(status.message());
        let detail = resource_init_failed(&status).expect("partial state");
        assert_masked(&detail.reasons.join("\n"));
        assert_eq!(detail.id, "id-1");
        let records = engine.records();
        assert_eq!(records.len(), 4);
        for record in &records {
            assert_masked(&record.message);
            assert!(record.message.contains("visible"), "{}", record.message);
        }
        assert!(records[0].ephemeral, "the status line");
    }

    #[tokio::test]
    async fn old_outputs_secrets_are_masked_too() {
        let (svc, engine) = service();
        let update = svc
            .update(Request::new(rpc::UpdateRequest {
                urn: "u".into(),
                r#type: "t:index:R".into(),
                olds: s(&old_outputs()),
                news: s(&secret_inputs()),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_masked(update.message());
        let read = svc
            .read(Request::new(rpc::ReadRequest {
                urn: "u".into(),
                properties: s(&old_outputs()),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(read.message(), "\"[secret]\"");
        let diff = svc
            .diff(Request::new(rpc::DiffRequest {
                urn: "u".into(),
                olds: s(&old_outputs()),
                news: s(&secret_inputs()),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_masked(diff.message());
        svc.delete(Request::new(rpc::DeleteRequest {
            urn: "u".into(),
            properties: s(&old_outputs()),
            ..Default::default()
        }))
        .await
        .unwrap();
        assert_eq!(engine.records()[0].message, "deleting \"[secret]\"");
    }

    #[tokio::test]
    async fn configuration_secrets_are_masked() {
        let (svc, _) = service();
        let config =
            PropertyMap::from([("apiKey".into(), Value::from("cfg-secret").into_secret())]);
        let err = svc
            .configure(Request::new(rpc::ConfigureRequest {
                args: s(&config),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(err.message(), "bad config \"[secret]\"");
        // ...and in every later request's texts.
        let later = svc
            .read(Request::new(rpc::ReadRequest {
                urn: "u".into(),
                properties: s(&PropertyMap::from([(
                    "x".into(),
                    Value::from("cfg-secret"),
                )])),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_eq!(later.message(), "\"[secret]\"");
    }

    #[tokio::test]
    async fn cancel_ends_a_diff_that_has_no_context() {
        let (svc, _) = service();
        let svc = Arc::new(svc);
        let diff = {
            let svc = svc.clone();
            tokio::spawn(async move {
                svc.diff(Request::new(rpc::DiffRequest {
                    name: "hang".into(),
                    ..Default::default()
                }))
                .await
            })
        };
        tokio::task::yield_now().await;
        svc.cancel(Request::new(())).await.unwrap();
        let status = tokio::time::timeout(Duration::from_secs(5), diff)
            .await
            .expect("diff returned")
            .unwrap()
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Cancelled);
    }
}
