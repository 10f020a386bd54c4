//! One moto server per test (isolation, and per-test emulator settings such as
//! `MOTO_ECS_SERVICE_RUNNING`), started with our launcher and its emulator-gap patches.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    pub port: u16,
    child: Child,
    _dir: tempdir::TempDir,
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new(prefix: &str) -> TempDir {
            let dir = std::env::temp_dir().join(crate::unique(prefix));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn moto_python() -> PathBuf {
    if let Ok(p) = std::env::var("DEFANG_MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = crate::cache_dir().join("moto-venv/bin/python");
    assert!(
        venv.exists(),
        "moto is not installed at {}: run scripts/moto/install.sh (the README's test command does)",
        venv.display()
    );
    venv
}

impl Moto {
    /// Starts a server; `env` adds emulator settings (e.g. `MOTO_ECS_SERVICE_RUNNING=1`).
    // The child is owned by the returned Moto, whose Drop kills and waits for it.
    #[allow(clippy::zombie_processes)]
    pub fn start(env: &[(&str, &str)]) -> Moto {
        let dir = tempdir::TempDir::new("moto-");
        let port_file = dir.0.join("port");
        let log = std::fs::File::create(dir.0.join("moto.log")).expect("moto log");
        let mut cmd = Command::new(moto_python());
        cmd.arg(crate::repo_root().join("scripts/moto/server.py"))
            .args(["--port", "0", "--port-file"])
            .arg(&port_file)
            .env_remove("MOTO_ECS_SERVICE_RUNNING")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start moto");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Ok(port) = text.trim().parse::<u16>()
            {
                return Moto {
                    port,
                    child,
                    _dir: dir,
                };
            }
            if Instant::now() > deadline {
                let mut child = child;
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.0.join("moto.log")).unwrap_or_default();
                panic!("moto did not start within 60 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// AWS SDK config for checking what the provider did.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ecs::config::Credentials::new(
                "test", "test", None, None, "static",
            ))
            .load()
            .await
    }

    pub async fn ecs(&self) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&self.sdk_config().await)
    }

    pub async fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.sdk_config().await)
    }

    /// The logical ids of a stack's resources (one page: our stacks have fewer than 100).
    pub async fn stack_resource_ids(&self, stack: &str) -> Vec<String> {
        let out = self
            .cloudformation()
            .await
            .list_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list_stack_resources {stack}: {e:?}"));
        out.stack_resource_summaries()
            .iter()
            .filter_map(|r| r.logical_resource_id().map(str::to_string))
            .collect()
    }

    pub async fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk_config().await)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
