//! Which RPC answers each call, and how its messages are read and written: the resource RPCs
//! (Check, Diff, Create, Read, Update, Delete: every resource's inputs and outputs) read and
//! write property maps straight from the wire ([`crate::messages`]); every other RPC reads and
//! writes the generated message and runs the generated trait's method.

use super::unary::{Answer, framed};
use crate::messages::WireMessage;
use crate::provider::Provider;
use crate::rpc::resource_provider_server::ResourceProvider;
use crate::server::PluginService;
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;
use tonic::Status;

/// The provider's gRPC service, `pulumirpc.ResourceProvider`.
pub(super) struct Routes<P> {
    plugin: Arc<PluginService<P>>,
}

impl<P> Clone for Routes<P> {
    fn clone(&self) -> Self {
        Routes {
            plugin: self.plugin.clone(),
        }
    }
}

impl<P: Provider> Routes<P> {
    pub(super) fn new(plugin: PluginService<P>) -> Self {
        Routes {
            plugin: Arc::new(plugin),
        }
    }
}

/// The generated service's paths, by method.
macro_rules! path {
    ($method:literal) => {
        concat!("/pulumirpc.ResourceProvider/", $method)
    };
}

impl<P: Provider> Answer for Routes<P> {
    async fn answer(&self, path: &str, message: Bytes) -> Result<Bytes, Status> {
        let plugin = &*self.plugin;
        // The generated trait's methods, each with its generated request and reply.
        macro_rules! generated {
            ($method:ident) => {
                generated(message, |request| {
                    ResourceProvider::$method(plugin, tonic::Request::new(request))
                })
                .await
            };
        }
        match path {
            path!("Check") => props(message, |r| plugin.check_props(r)).await,
            path!("Diff") => props(message, |r| plugin.diff_props(r)).await,
            path!("Create") => props(message, |r| plugin.create_props(r)).await,
            path!("Read") => props(message, |r| plugin.read_props(r)).await,
            path!("Update") => props(message, |r| plugin.update_props(r)).await,
            path!("Delete") => props(message, |r| plugin.delete_props(r)).await,
            path!("Handshake") => generated!(handshake),
            path!("Parameterize") => generated!(parameterize),
            path!("GetSchema") => generated!(get_schema),
            path!("CheckConfig") => generated!(check_config),
            path!("DiffConfig") => generated!(diff_config),
            path!("Configure") => generated!(configure),
            path!("Invoke") => generated!(invoke),
            path!("Call") => generated!(call),
            path!("Construct") => generated!(construct),
            path!("Cancel") => generated!(cancel),
            path!("GetPluginInfo") => generated!(get_plugin_info),
            path!("Attach") => generated!(attach),
            path!("GetMapping") => generated!(get_mapping),
            path!("GetMappings") => generated!(get_mappings),
            // As the generated service answers a method it does not have.
            _ => Err(Status::unimplemented("")),
        }
    }
}

/// A resource RPC: property maps read and written straight from the wire.
async fn props<Request, Reply, Handled>(
    message: Bytes,
    handler: impl FnOnce(Request) -> Handled,
) -> Result<Bytes, Status>
where
    Request: WireMessage,
    Reply: WireMessage,
    Handled: Future<Output = Result<Reply, Status>>,
{
    // As the generated codec answers a malformed message.
    let request = Request::decode(&message).map_err(|err| Status::internal(err.to_string()))?;
    // The request's bytes are read: free them before the call runs (a Create may run minutes).
    drop(message);
    let reply = handler(request).await?;
    framed(0, |buf| reply.encode(buf))
}

/// Any other RPC: the generated messages, the generated trait's method.
async fn generated<Request, Reply, Handled>(
    message: Bytes,
    handler: impl FnOnce(Request) -> Handled,
) -> Result<Bytes, Status>
where
    Request: prost::Message + Default,
    Reply: prost::Message,
    Handled: Future<Output = Result<tonic::Response<Reply>, Status>>,
{
    let request = Request::decode(message).map_err(|err| Status::internal(err.to_string()))?;
    let reply = handler(request).await?.into_inner();
    framed(reply.encoded_len(), |buf| {
        reply
            .encode(buf)
            .map_err(|err| Status::internal(err.to_string()))
    })
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
        let (mut client, stop, server) = serve_echo().await;
        let local = PluginService::new("t", "0.0.1", Echo, EngineLog::default());
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

    /// A served Echo, and a client of it.
    async fn serve_echo() -> (
        ResourceProviderClient<tonic::transport::Channel>,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let served = PluginService::new("t", "0.0.1", Echo, EngineLog::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_connections(served, listener, async {
            let _ = stopped.await;
        }));
        let client = ResourceProviderClient::connect(format!("http://{address}"))
            .await
            .unwrap()
            .max_decoding_message_size(usize::MAX);
        (client, stop, server)
    }

    /// Every other RPC over a connection answers what the same call answers in process: each
    /// path reaches its own method (a wrong or missing route answers differently).
    #[tokio::test]
    async fn every_other_rpc_answers_over_the_wire_as_in_process() {
        let (mut client, stop, server) = serve_echo().await;
        let local = PluginService::new("t", "0.0.1", Echo, EngineLog::default());
        // These RPCs' messages are read by prost, which stops at about 33 nested objects.
        let shallow = |image: &str| {
            Some(properties_to_struct(&PropertyMap::from([
                ("image".to_string(), Value::from(image)),
                ("password".to_string(), Value::from("hunter2").into_secret()),
                ("port".to_string(), Value::Unknown),
            ])))
        };
        // The call over the connection and in process: the same reply, or the same status.
        macro_rules! same {
            ($method:ident, $request:expr) => {{
                let request = $request;
                let remote = client.$method(request.clone()).await;
                let here = local.$method(Request::new(request)).await;
                match (remote, here) {
                    (Ok(remote), Ok(here)) => {
                        assert_eq!(remote.into_inner(), here.into_inner(), stringify!($method))
                    }
                    (Err(remote), Err(here)) => assert_eq!(
                        (remote.code(), remote.message()),
                        (here.code(), here.message()),
                        stringify!($method)
                    ),
                    (remote, here) => {
                        panic!("{}: {remote:?} against {here:?}", stringify!($method))
                    }
                }
            }};
        }
        same!(get_plugin_info, ());
        same!(get_schema, rpc::GetSchemaRequest::default());
        same!(
            handshake,
            rpc::ProviderHandshakeRequest {
                engine_address: "127.0.0.1:1".into(),
                ..Default::default()
            }
        );
        same!(
            check_config,
            rpc::CheckRequest {
                urn: "urn:pulumi:dev::p::pulumi:providers:t::default".into(),
                news: shallow("config"),
                ..Default::default()
            }
        );
        same!(
            diff_config,
            rpc::DiffRequest {
                old_inputs: shallow("old"),
                news: shallow("new"),
                ..Default::default()
            }
        );
        same!(
            configure,
            rpc::ConfigureRequest {
                args: shallow("config"),
                ..Default::default()
            }
        );
        same!(
            invoke,
            rpc::InvokeRequest {
                tok: "t:index:nothing".into(),
                ..Default::default()
            }
        );
        same!(call, rpc::CallRequest::default());
        same!(parameterize, rpc::ParameterizeRequest::default());
        same!(construct, rpc::ConstructRequest::default());
        same!(
            get_mapping,
            rpc::GetMappingRequest {
                key: "tf".into(),
                ..Default::default()
            }
        );
        same!(get_mappings, rpc::GetMappingsRequest::default());
        same!(
            attach,
            rpc::PluginAttach {
                address: "127.0.0.1:1".into()
            }
        );
        same!(cancel, ());
        stop.send(()).unwrap();
        server.await.unwrap();
    }

    /// A request and a reply larger than the connection's and the stream's flow-control
    /// windows (1 MiB each) and than a frame: the server reads the request as it comes, opens
    /// the windows again as it goes, and sends the reply as the client's windows allow.
    #[tokio::test]
    async fn messages_larger_than_the_flow_control_windows_cross_both_ways() {
        let (mut client, stop, server) = serve_echo().await;
        let big = "x".repeat(3 * 1024 * 1024);
        for _ in 0..2 {
            let check = client.check(rpc::CheckRequest {
                urn: "urn:pulumi:dev::p::t:index:Note::a".into(),
                news: Some(properties_to_struct(&PropertyMap::from([(
                    "big".to_string(),
                    Value::from(big.as_str()),
                )]))),
                ..Default::default()
            });
            // A window never opened again would stall the call, not fail it.
            let checked = tokio::time::timeout(std::time::Duration::from_secs(30), check)
                .await
                .expect("answered within 30 s")
                .unwrap()
                .into_inner();
            let inputs = crate::value::into_properties(checked.inputs.unwrap());
            assert_eq!(inputs["big"], Value::from(big.as_str()));
        }
        stop.send(()).unwrap();
        server.await.unwrap();
    }
}
