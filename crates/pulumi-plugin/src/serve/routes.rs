//! Which codec serves each RPC: the resource RPCs (Check, Diff, Create, Read, Update, Delete:
//! every resource's inputs and outputs) read and write property maps straight from the wire
//! ([`crate::messages`]); every other RPC goes to the generated service as it is.

use super::MAX_MESSAGE_BYTES;
use crate::messages::{PropsCodec, WireMessage};
use crate::provider::Provider;
use crate::server::PluginService;
use pulumi_gestalt_proto::pulumi::pulumirpc::resource_provider_server::ResourceProviderServer;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::Status;
use tonic::server::{Grpc, UnaryService};

type StdError = Box<dyn std::error::Error + Send + Sync>;
type Reply = http::Response<tonic::body::Body>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The gRPC service the connections serve.
pub(super) struct Routes<P> {
    plugin: Arc<PluginService<P>>,
    generated: ResourceProviderServer<PluginService<P>>,
}

impl<P> Clone for Routes<P> {
    fn clone(&self) -> Self {
        Routes {
            plugin: self.plugin.clone(),
            generated: self.generated.clone(),
        }
    }
}

impl<P: Provider> Routes<P> {
    pub(super) fn new(plugin: PluginService<P>) -> Self {
        let plugin = Arc::new(plugin);
        let generated = ResourceProviderServer::from_arc(plugin.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Routes { plugin, generated }
    }
}

impl<P, B> tower_service::Service<http::Request<B>> for Routes<P>
where
    P: Provider,
    B: http_body::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = Reply;
    type Error = Infallible;
    type Future = BoxFuture<Result<Reply, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let plugin = self.plugin.clone();
        match request.uri().path() {
            "/pulumirpc.ResourceProvider/Check" => {
                unary(request, async move |r| plugin.check_props(r).await)
            }
            "/pulumirpc.ResourceProvider/Diff" => {
                unary(request, async move |r| plugin.diff_props(r).await)
            }
            "/pulumirpc.ResourceProvider/Create" => {
                unary(request, async move |r| plugin.create_props(r).await)
            }
            "/pulumirpc.ResourceProvider/Read" => {
                unary(request, async move |r| plugin.read_props(r).await)
            }
            "/pulumirpc.ResourceProvider/Update" => {
                unary(request, async move |r| plugin.update_props(r).await)
            }
            "/pulumirpc.ResourceProvider/Delete" => {
                unary(request, async move |r| plugin.delete_props(r).await)
            }
            _ => self.generated.call(request),
        }
    }
}

/// Serves one unary call with the property-map codec, as the generated service serves its own
/// (same message size limits, same statuses for a malformed or oversized message).
fn unary<B, Request, Response, Handler, Handled>(
    request: http::Request<B>,
    handler: Handler,
) -> BoxFuture<Result<Reply, Infallible>>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
    Request: WireMessage,
    Response: WireMessage,
    Handler: FnOnce(Request) -> Handled + Send + 'static,
    Handled: Future<Output = Result<Response, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = Grpc::new(PropsCodec::<Response, Request>::default())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Ok(grpc.unary(Once(Some(handler)), request).await)
    })
}

/// A handler for the one request of a unary call.
struct Once<Handler>(Option<Handler>);

impl<Request, Response, Handler, Handled> UnaryService<Request> for Once<Handler>
where
    Request: Send + 'static,
    Response: Send + 'static,
    Handler: FnOnce(Request) -> Handled + Send + 'static,
    Handled: Future<Output = Result<Response, Status>> + Send + 'static,
{
    type Response = Response;
    type Future = BoxFuture<Result<tonic::Response<Response>, Status>>;

    fn call(&mut self, request: tonic::Request<Request>) -> Self::Future {
        match self.0.take() {
            Some(handler) => {
                let handled = handler(request.into_inner());
                Box::pin(async move { handled.await.map(tonic::Response::new) })
            }
            // tonic calls a unary service once; a second call has no handler to run.
            None => Box::pin(std::future::ready(Err(Status::internal(
                "a unary call's handler ran already",
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::serve_connections;
    use crate::engine_log::EngineLog;
    use crate::provider::*;
    use crate::rpc::resource_provider_client::ResourceProviderClient;
    use crate::rpc::resource_provider_server::ResourceProvider;
    use crate::server::PluginService;
    use crate::value::properties_to_struct;
    use crate::{Context, Diff, Error, PropertyMap, Value, diff_properties, rpc};
    use tonic::Request;

    /// Answers every resource RPC from its request, so a reply shows what was read; a deep
    /// value comes back as its depth (the test's client, prost, would refuse to read it).
    struct Echo;

    fn shallow(mut map: PropertyMap) -> PropertyMap {
        if let Some(mut value) = map.remove("deep") {
            let mut depth = 0;
            while let Value::Object(mut inner) = value {
                depth += 1;
                value = inner.remove("down").unwrap_or(Value::Null);
            }
            map.insert("depth".into(), Value::Number(f64::from(depth)));
        }
        map
    }

    #[async_trait::async_trait]
    impl Provider for Echo {
        fn schema(&self) -> &str {
            "{}"
        }
        async fn configure(&self, _: PropertyMap) -> Result<(), Error> {
            Ok(())
        }
        async fn check(&self, req: CheckRequest) -> Result<CheckResponse, Error> {
            let mut inputs = shallow(req.news);
            inputs.insert("olds".into(), Value::Object(shallow(req.olds)));
            Ok(CheckResponse {
                inputs,
                failures: vec![CheckFailure::new("image", "must name a tag")],
            })
        }
        async fn diff(&self, req: DiffRequest) -> Result<Diff, Error> {
            Ok(diff_properties(&req.old_inputs, &req.news, &["image"]))
        }
        async fn create(&self, req: CreateRequest, _: Context) -> Result<CreateResponse, Error> {
            Ok(CreateResponse {
                id: format!("{}-id", req.name),
                outputs: shallow(req.inputs),
            })
        }
        async fn read(&self, req: ReadRequest, _: Context) -> Result<ReadResponse, Error> {
            Ok(ReadResponse {
                id: (req.id != "gone").then_some(req.id),
                outputs: shallow(req.old_outputs),
                inputs: shallow(req.old_inputs),
            })
        }
        async fn update(&self, req: UpdateRequest, _: Context) -> Result<PropertyMap, Error> {
            let mut outputs = shallow(req.news);
            outputs.insert("was".into(), Value::Object(shallow(req.old_outputs)));
            Ok(outputs)
        }
        async fn delete(&self, req: DeleteRequest, _: Context) -> Result<(), Error> {
            match req.old_outputs.get("keep") {
                Some(_) => Err(Error::Failed("kept".into())),
                None => Ok(()),
            }
        }
    }

    /// Inputs with secrets, unknowns, nesting, and a value nested 60 levels deep: deeper than
    /// the generated codec reads (prost stops at 100 nested messages, about 33 levels of
    /// objects), so a reply at all shows the call took its route.
    fn inputs(image: &str) -> Option<prost_types::Struct> {
        let mut deep = Value::from("bottom");
        for _ in 0..60 {
            deep = Value::Object(PropertyMap::from([("down".to_string(), deep)]));
        }
        Some(properties_to_struct(&PropertyMap::from([
            ("image".to_string(), Value::from(image)),
            ("password".to_string(), Value::from("hunter2").into_secret()),
            ("port".to_string(), Value::Unknown),
            (
                "environment".to_string(),
                Value::Object(PropertyMap::from([(
                    "KEY".to_string(),
                    Value::from("v").into_secret(),
                )])),
            ),
            ("deep".to_string(), deep),
        ])))
    }

    /// Each resource RPC over a connection answers what the same call answers in process
    /// (through the generated messages), field for field.
    #[tokio::test]
    async fn resource_rpcs_answer_over_the_wire_as_in_process() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let served = PluginService::new("t", "0.0.1", Echo, EngineLog::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_connections(served, listener, async {
            let _ = stopped.await;
        }));
        let local = PluginService::new("t", "0.0.1", Echo, EngineLog::default());
        let mut client = ResourceProviderClient::connect(format!("http://{address}"))
            .await
            .unwrap()
            .max_decoding_message_size(usize::MAX);
        let urn = "urn:pulumi:dev::p::t:index:Note::a".to_string();
        // The reply over the connection, once it equals the in-process one.
        macro_rules! same {
            ($method:ident, $request:expr) => {{
                let request = $request;
                let remote = client.$method(request.clone()).await.unwrap().into_inner();
                let here = local.$method(Request::new(request)).await.unwrap();
                assert_eq!(remote, here.into_inner(), stringify!($method));
                remote
            }};
        }

        let check = rpc::CheckRequest {
            urn: urn.clone(),
            name: "a".into(),
            olds: inputs("old"),
            news: inputs("new"),
            ..Default::default()
        };
        let remote = same!(check, check);
        assert_eq!(remote.failures.len(), 1);
        let checked = crate::value::into_properties(remote.inputs.unwrap());
        assert_eq!(checked["depth"], Value::Number(60.0), "read whole");

        let diff = rpc::DiffRequest {
            id: "a-id".into(),
            urn: urn.clone(),
            olds: inputs("old"),
            old_inputs: inputs("old"),
            news: inputs("new"),
            ..Default::default()
        };
        let remote = same!(diff, diff);
        assert_eq!(remote.replaces, ["image"]);

        let create = rpc::CreateRequest {
            urn: urn.clone(),
            name: "a".into(),
            properties: inputs("new"),
            preview: true,
            ..Default::default()
        };
        let remote = same!(create, create);
        assert_eq!(remote.id, "a-id");

        for id in ["a-id", "gone"] {
            let read = rpc::ReadRequest {
                id: id.into(),
                urn: urn.clone(),
                properties: inputs("new"),
                inputs: inputs("new"),
                ..Default::default()
            };
            let remote = same!(read, read);
            assert_eq!(remote.properties.is_some(), id != "gone");
        }

        let update = rpc::UpdateRequest {
            id: "a-id".into(),
            urn: urn.clone(),
            olds: inputs("old"),
            old_inputs: inputs("old"),
            news: inputs("new"),
            ..Default::default()
        };
        let remote = same!(update, update);
        let outputs = crate::value::into_properties(remote.properties.unwrap());
        assert_eq!(outputs["password"], Value::from("hunter2").into_secret());

        let delete = rpc::DeleteRequest {
            id: "a-id".into(),
            urn: urn.clone(),
            properties: inputs("new"),
            ..Default::default()
        };
        client.delete(delete.clone()).await.unwrap();
        let mut kept = delete;
        kept.properties = Some(properties_to_struct(&PropertyMap::from([(
            "keep".to_string(),
            Value::Bool(true),
        )])));
        let err = client.delete(kept.clone()).await.unwrap_err();
        let here = local.delete(Request::new(kept)).await.unwrap_err();
        assert_eq!((err.code(), err.message()), (here.code(), here.message()));

        stop.send(()).unwrap();
        server.await.unwrap();
    }
}
