//! `pulumi-resource-defang`: the binary the Pulumi engine launches. It wires the AWS SDK
//! adapters into the Defang resources and serves them over the plugin protocol; with `ps` or
//! `logs` first (see `cli`), it looks at a deployed project instead.

mod cli;
mod probe;

use defang_resources::config::ProviderConfig;
use defang_resources::provider::DefangProvider;
use defang_resources::runtime::{Cloud, CloudConnector};

/// Property maps, protobuf messages and SDK requests are many small allocations: mimalloc
/// serves them with about half the instructions of glibc's malloc (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connects to AWS through the standard credential, region and endpoint settings.
struct AwsConnector;

#[async_trait::async_trait]
impl CloudConnector for AwsConnector {
    async fn connect(&self, config: &ProviderConfig) -> Result<Cloud, String> {
        let settings = defang_aws::config::AwsSettings {
            region: config.region.clone(),
            profile: config.profile.clone(),
            max_retries: config.max_retries,
        };
        defang_aws::connect(&settings).await
    }
}

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if cli::selects_cli(&args[1.min(args.len())..]) {
        std::process::exit(cli::run(args));
    }
    serve();
}

/// How the engine starts the binary (no command): serves the provider until told to stop.
///
/// On one thread: the engine's RPCs are short and mostly waiting on I/O, and with a worker per
/// core every request's task was handed to the other thread (a wake-up and a steal per RPC).
/// Blocking work (build contexts) runs on `spawn_blocking`'s own threads either way.
#[tokio::main(flavor = "current_thread")]
async fn serve() {
    // Everything but the port line goes to stderr, which the engine keeps out of the user's view.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DEFANG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let provider = DefangProvider::new(AwsConnector);
    if let Err(err) = pulumi_plugin::serve("defang", env!("CARGO_PKG_VERSION"), provider).await {
        eprintln!("pulumi-resource-defang: {err}");
        std::process::exit(1);
    }
}
