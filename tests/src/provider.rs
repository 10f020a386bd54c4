//! The provider binary, launched as the engine launches it: engine address as the last
//! argument, port read from the first stdout line, AWS reached only through the standard
//! endpoint settings.

use crate::{Moto, RecordingEngine};
use pulumi_plugin::PropertyMap;
use pulumi_plugin::rpc;
use pulumi_plugin::value::{properties_from_struct, properties_to_struct};
use rpc::resource_provider_client::ResourceProviderClient;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tonic::transport::Channel;

pub struct ProviderProcess {
    child: Child,
    pub port: u16,
    pub client: ResourceProviderClient<Channel>,
    pub engine: RecordingEngine,
    pub stderr_path: PathBuf,
}

/// The debug binary built by the test command (`cargo build -p pulumi-resource-defang`).
pub fn provider_binary() -> PathBuf {
    if let Ok(p) = std::env::var("DEFANG_PROVIDER_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| crate::repo_root().join("target"));
    let bin = target.join("debug/pulumi-resource-defang");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p pulumi-resource-defang` first (the test command does)",
        bin.display()
    );
    bin
}

impl ProviderProcess {
    /// Launches the provider against `moto` and performs Handshake and Configure.
    pub async fn start(moto: &Moto) -> ProviderProcess {
        Self::start_with(moto, &[("region", "us-east-1"), ("username", "alice")]).await
    }

    pub async fn start_with(moto: &Moto, config: &[(&str, &str)]) -> ProviderProcess {
        let mut p = Self::launch(moto).await;
        p.configure(config).await.expect("configure");
        p
    }

    /// Launches without configuring.
    pub async fn launch(moto: &Moto) -> ProviderProcess {
        let engine = RecordingEngine::default();
        let engine_address = engine.serve().await;
        let stderr_path = std::env::temp_dir().join(crate::unique("provider-stderr-"));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = Command::new(provider_binary())
            .arg(&engine_address)
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("DEFANG_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("launch provider");
        let stdout = child.stdout.take().unwrap();
        let port: u16 = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            line.trim().parse().expect("port line")
        })
        .await
        .unwrap();
        let client = ResourceProviderClient::connect(format!("http://127.0.0.1:{port}"))
            .await
            .expect("connect")
            .max_decoding_message_size(400 * 1024 * 1024);
        let mut p = ProviderProcess {
            child,
            port,
            client,
            engine,
            stderr_path,
        };
        p.client
            .handshake(rpc::ProviderHandshakeRequest {
                engine_address,
                ..Default::default()
            })
            .await
            .expect("handshake");
        p
    }

    pub async fn configure(&mut self, config: &[(&str, &str)]) -> Result<(), tonic::Status> {
        let args: PropertyMap = config
            .iter()
            .map(|(k, v)| (k.to_string(), pulumi_plugin::Value::from(*v)))
            .collect();
        self.client
            .configure(rpc::ConfigureRequest {
                args: Some(properties_to_struct(&args)),
                accept_secrets: true,
                accept_resources: true,
                sends_old_inputs: true,
                sends_old_inputs_to_delete: true,
                ..Default::default()
            })
            .await
            .map(|_| ())
    }

    /// Resident memory of the provider process (VmRSS), in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub async fn check(
        &mut self,
        urn: &str,
        olds: &PropertyMap,
        news: &PropertyMap,
    ) -> (PropertyMap, Vec<rpc::CheckFailure>) {
        let (type_token, name) = split_urn(urn);
        let r = self
            .client
            .check(rpc::CheckRequest {
                urn: urn.into(),
                name,
                r#type: type_token,
                olds: Some(properties_to_struct(olds)),
                news: Some(properties_to_struct(news)),
                random_seed: vec![0; 32],
                autonaming: None,
            })
            .await
            .expect("check")
            .into_inner();
        (properties_from_struct(r.inputs.as_ref()), r.failures)
    }

    pub async fn diff(
        &mut self,
        urn: &str,
        id: &str,
        old_inputs: &PropertyMap,
        old_outputs: &PropertyMap,
        news: &PropertyMap,
    ) -> rpc::DiffResponse {
        let (type_token, name) = split_urn(urn);
        self.client
            .diff(rpc::DiffRequest {
                id: id.into(),
                urn: urn.into(),
                olds: Some(properties_to_struct(old_outputs)),
                news: Some(properties_to_struct(news)),
                ignore_changes: vec![],
                old_inputs: Some(properties_to_struct(old_inputs)),
                name,
                r#type: type_token,
            })
            .await
            .expect("diff")
            .into_inner()
    }

    pub async fn create(
        &mut self,
        urn: &str,
        inputs: &PropertyMap,
        preview: bool,
        timeout: f64,
    ) -> Result<(String, PropertyMap), tonic::Status> {
        let (type_token, name) = split_urn(urn);
        let r = self
            .client
            .create(rpc::CreateRequest {
                urn: urn.into(),
                properties: Some(properties_to_struct(inputs)),
                timeout,
                preview,
                name,
                r#type: type_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok((r.id, properties_from_struct(r.properties.as_ref())))
    }

    /// Returns (id, outputs, inputs); an empty id means the resource is gone.
    pub async fn read(
        &mut self,
        urn: &str,
        id: &str,
        old_outputs: &PropertyMap,
        old_inputs: &PropertyMap,
    ) -> Result<(String, PropertyMap, PropertyMap), tonic::Status> {
        let (type_token, name) = split_urn(urn);
        let r = self
            .client
            .read(rpc::ReadRequest {
                id: id.into(),
                urn: urn.into(),
                properties: (!old_outputs.is_empty()).then(|| properties_to_struct(old_outputs)),
                inputs: (!old_inputs.is_empty()).then(|| properties_to_struct(old_inputs)),
                name,
                r#type: type_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok((
            r.id,
            properties_from_struct(r.properties.as_ref()),
            properties_from_struct(r.inputs.as_ref()),
        ))
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn update(
        &mut self,
        urn: &str,
        id: &str,
        old_outputs: &PropertyMap,
        old_inputs: &PropertyMap,
        news: &PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, tonic::Status> {
        let (type_token, name) = split_urn(urn);
        let r = self
            .client
            .update(rpc::UpdateRequest {
                id: id.into(),
                urn: urn.into(),
                olds: Some(properties_to_struct(old_outputs)),
                news: Some(properties_to_struct(news)),
                timeout: 0.0,
                preview,
                old_inputs: Some(properties_to_struct(old_inputs)),
                name,
                r#type: type_token,
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok(properties_from_struct(r.properties.as_ref()))
    }

    pub async fn delete(
        &mut self,
        urn: &str,
        id: &str,
        old_outputs: &PropertyMap,
        old_inputs: &PropertyMap,
    ) -> Result<(), tonic::Status> {
        let (type_token, name) = split_urn(urn);
        self.client
            .delete(rpc::DeleteRequest {
                id: id.into(),
                urn: urn.into(),
                properties: Some(properties_to_struct(old_outputs)),
                timeout: 0.0,
                old_inputs: Some(properties_to_struct(old_inputs)),
                name,
                r#type: type_token,
                ..Default::default()
            })
            .await
            .map(|_| ())
    }

    /// Cancel, as the engine sends it on Ctrl-C and at shutdown.
    pub async fn cancel(&mut self) {
        self.client.cancel(()).await.expect("cancel");
    }

    /// Ends the process the way the engine does: SIGINT, then wait.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("wait");
        std::mem::forget(self);
        status
    }
}

fn split_urn(urn: &str) -> (String, String) {
    let parts: Vec<&str> = urn.split("::").collect();
    (
        parts.get(2).copied().unwrap_or_default().to_string(),
        parts.get(3).copied().unwrap_or_default().to_string(),
    )
}

impl Drop for ProviderProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
