//! The gRPC `ResourceProvider` service around a [`Provider`]: protocol negotiation, wire
//! conversion, secrets, cancellation, and errors.

use crate::context::Context;
use crate::diff::{Diff, DiffKind};
use crate::engine_log::EngineLog;
use crate::error::Error;
use crate::provider::{self, Provider};
use crate::value::{
    PropertyMap, Value, propagate_secrets, properties_from_struct, properties_to_struct,
    unknown_paths,
};
use pulumi_gestalt_proto::pulumi::pulumirpc as rpc;
use rpc::resource_provider_server::ResourceProvider;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

pub struct PluginService<P> {
    provider: Arc<P>,
    package: String,
    version: String,
    engine: EngineLog,
    cancel: CancellationToken,
}

impl<P: Provider> PluginService<P> {
    pub fn new(package: &str, version: &str, provider: P, engine: EngineLog) -> Self {
        PluginService {
            provider: Arc::new(provider),
            package: package.to_string(),
            version: version.to_string(),
            engine,
            cancel: CancellationToken::new(),
        }
    }

    /// Cancelled when the engine calls Cancel: in-flight operations stop waiting.
    pub fn cancellation(&self) -> CancellationToken {
        self.cancel.clone()
    }

    fn context(&self, urn: &str, timeout: f64) -> Context {
        Context::new(
            self.engine.for_resource(urn),
            self.cancel.child_token(),
            timeout_of(timeout),
        )
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

fn props(s: &Option<prost_types::Struct>) -> PropertyMap {
    properties_from_struct(s.as_ref())
}

fn check_response(checked: provider::CheckResponse, news: &PropertyMap) -> rpc::CheckResponse {
    // A failure about a value that is not known yet is not a failure (yet).
    let unknown: Vec<String> = unknown_paths(news).iter().map(|p| p.to_string()).collect();
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
            reason: f.reason,
        })
        .collect();
    rpc::CheckResponse {
        inputs: Some(properties_to_struct(&checked.inputs)),
        failures,
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

/// Puts input secretness back on outputs, including partial state in errors.
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
        let r = request.into_inner();
        let news = props(&r.news);
        let checked = self
            .provider
            .check_config(provider::CheckRequest {
                urn: r.urn,
                name: r.name,
                type_token: r.r#type,
                olds: props(&r.olds),
                news: news.clone(),
            })
            .await?;
        Ok(Response::new(check_response(checked, &news)))
    }

    async fn diff_config(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let r = request.into_inner();
        let diff = self.provider.diff_config(diff_request(r)).await?;
        Ok(Response::new(diff_response(diff)))
    }

    async fn configure(
        &self,
        request: Request<rpc::ConfigureRequest>,
    ) -> Result<Response<rpc::ConfigureResponse>, Status> {
        let config = self.config_from(request.get_ref());
        self.provider.configure(config).await?;
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
        Err(Status::unimplemented(format!(
            "unknown function {}",
            request.get_ref().tok
        )))
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
        let r = request.into_inner();
        let news = props(&r.news);
        let checked = self
            .provider
            .check(provider::CheckRequest {
                urn: r.urn,
                name: r.name,
                type_token: r.r#type,
                olds: props(&r.olds),
                news: news.clone(),
            })
            .await?;
        Ok(Response::new(check_response(checked, &news)))
    }

    async fn diff(
        &self,
        request: Request<rpc::DiffRequest>,
    ) -> Result<Response<rpc::DiffResponse>, Status> {
        let diff = self
            .provider
            .diff(diff_request(request.into_inner()))
            .await?;
        Ok(Response::new(diff_response(diff)))
    }

    async fn create(
        &self,
        request: Request<rpc::CreateRequest>,
    ) -> Result<Response<rpc::CreateResponse>, Status> {
        let r = request.into_inner();
        let ctx = self.context(&r.urn, r.timeout);
        let inputs = props(&r.properties);
        let req = provider::CreateRequest {
            urn: r.urn,
            name: r.name,
            type_token: r.r#type,
            inputs: inputs.clone(),
            timeout: timeout_of(r.timeout),
            preview: r.preview,
        };
        let created = self.provider.create(req, ctx).await;
        let (id, outputs) = match created {
            Ok(c) => (c.id, secure(&inputs, Ok(c.outputs))?),
            Err(e) => return Err(secure(&inputs, Err(e)).unwrap_err().into()),
        };
        Ok(Response::new(rpc::CreateResponse {
            id,
            properties: Some(properties_to_struct(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn read(
        &self,
        request: Request<rpc::ReadRequest>,
    ) -> Result<Response<rpc::ReadResponse>, Status> {
        let r = request.into_inner();
        let ctx = self.context(&r.urn, 0.0);
        let old_inputs = props(&r.inputs);
        let read = self
            .provider
            .read(
                provider::ReadRequest {
                    id: r.id,
                    urn: r.urn,
                    name: r.name,
                    type_token: r.r#type,
                    old_outputs: props(&r.properties),
                    old_inputs: old_inputs.clone(),
                },
                ctx,
            )
            .await?;
        let Some(id) = read.id else {
            return Ok(Response::new(rpc::ReadResponse::default()));
        };
        let mut inputs = read.inputs;
        propagate_secrets(&old_inputs, &mut inputs);
        let outputs = secure(&inputs, Ok(read.outputs))?;
        Ok(Response::new(rpc::ReadResponse {
            id,
            properties: Some(properties_to_struct(&outputs)),
            inputs: Some(properties_to_struct(&inputs)),
            refresh_before_update: false,
        }))
    }

    async fn update(
        &self,
        request: Request<rpc::UpdateRequest>,
    ) -> Result<Response<rpc::UpdateResponse>, Status> {
        let r = request.into_inner();
        let ctx = self.context(&r.urn, r.timeout);
        let news = props(&r.news);
        let req = provider::UpdateRequest {
            id: r.id,
            urn: r.urn,
            name: r.name,
            type_token: r.r#type,
            old_outputs: props(&r.olds),
            old_inputs: props(&r.old_inputs),
            news: news.clone(),
            timeout: timeout_of(r.timeout),
            preview: r.preview,
        };
        let outputs = secure(&news, self.provider.update(req, ctx).await)?;
        Ok(Response::new(rpc::UpdateResponse {
            properties: Some(properties_to_struct(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn delete(&self, request: Request<rpc::DeleteRequest>) -> Result<Response<()>, Status> {
        let r = request.into_inner();
        let ctx = self.context(&r.urn, r.timeout);
        self.provider
            .delete(
                provider::DeleteRequest {
                    id: r.id,
                    urn: r.urn,
                    name: r.name,
                    type_token: r.r#type,
                    old_outputs: props(&r.properties),
                    old_inputs: props(&r.old_inputs),
                    timeout: timeout_of(r.timeout),
                },
                ctx,
            )
            .await?;
        Ok(Response::new(()))
    }

    async fn construct(
        &self,
        _: Request<rpc::ConstructRequest>,
    ) -> Result<Response<rpc::ConstructResponse>, Status> {
        Err(Status::unimplemented(
            "this provider has no component resources",
        ))
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

fn diff_request(r: rpc::DiffRequest) -> provider::DiffRequest {
    provider::DiffRequest {
        id: r.id,
        urn: r.urn,
        name: r.name,
        type_token: r.r#type,
        old_outputs: props(&r.olds),
        old_inputs: props(&r.old_inputs),
        news: props(&r.news),
        ignore_changes: r.ignore_changes,
    }
}
