//! A recording Engine service: the provider sends its log and status messages here, as it does
//! to the real engine, so tests can assert on them.

use pulumi_plugin::rpc;
use rpc::engine_server::{Engine, EngineServer};
use std::sync::{Arc, Mutex};
use tonic::{Request, Response, Status};

#[derive(Clone, Default)]
pub struct RecordingEngine {
    pub logs: Arc<Mutex<Vec<rpc::LogRequest>>>,
}

#[tonic::async_trait]
impl Engine for RecordingEngine {
    async fn log(&self, request: Request<rpc::LogRequest>) -> Result<Response<()>, Status> {
        self.logs.lock().unwrap().push(request.into_inner());
        Ok(Response::new(()))
    }

    async fn get_root_resource(
        &self,
        _: Request<rpc::GetRootResourceRequest>,
    ) -> Result<Response<rpc::GetRootResourceResponse>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn set_root_resource(
        &self,
        _: Request<rpc::SetRootResourceRequest>,
    ) -> Result<Response<rpc::SetRootResourceResponse>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn start_debugging(
        &self,
        _: Request<rpc::StartDebuggingRequest>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }

    async fn require_pulumi_version(
        &self,
        _: Request<rpc::RequirePulumiVersionRequest>,
    ) -> Result<Response<rpc::RequirePulumiVersionResponse>, Status> {
        Ok(Response::new(Default::default()))
    }
}

impl RecordingEngine {
    /// Serves on a free loopback port; returns its address.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = EngineServer::new(self.clone());
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
                .ok();
        });
        addr.to_string()
    }

    /// Ephemeral (status column) messages for one resource, in order.
    pub fn statuses(&self, urn: &str) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.ephemeral && l.urn == urn)
            .map(|l| l.message.clone())
            .collect()
    }

    pub fn all_text(&self) -> String {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .map(|l| l.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
