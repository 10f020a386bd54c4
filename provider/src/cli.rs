//! The binary's own commands, `ps` and `logs`, for looking at a deployed project without
//! installing anything else. Only a first argument naming one of them (or help or version)
//! selects them: the engine starts the binary without arguments, or with flags and its
//! address, and then it serves the provider as always.
//!
//! Exit codes: 0 done, 1 an AWS or runtime failure, 2 a usage error (clap's).

use crate::probe::HttpsProbe;
use clap::{Args, Parser, Subcommand};
use defang_aws::{AwsSettings, InventoryAdapter};
use defang_resources::cloud::Inventory;
use defang_resources::inspect::logs::{self, Cursor, LogSource};
use defang_resources::inspect::ps::{self, HealthProbe};
use defang_resources::inspect::{ProjectSite, choose_project, render, time};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// The first arguments that select the CLI; anything else serves the provider.
const COMMANDS: &[&str] = &["ps", "logs", "help", "--help", "-h", "--version", "-V"];
/// How often `--follow` reads new events.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// Whether the arguments (without the program name) are a CLI invocation.
pub fn selects_cli(args: &[OsString]) -> bool {
    args.first()
        .and_then(|a| a.to_str())
        .is_some_and(|a| COMMANDS.contains(&a))
}

#[derive(Debug, Parser)]
#[command(
    name = "pulumi-resource-defang",
    version,
    about = "The Defang Pulumi provider. Without a command, it serves the provider to the Pulumi \
             engine (which starts it); with one, it looks at a deployed project in AWS.",
    after_help = "AWS credentials, region and endpoints come from the standard AWS settings \
                  (AWS_PROFILE, AWS_REGION, ~/.aws/config, AWS_ENDPOINT_URL...), as for the \
                  provider; --region and --profile override them."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List a project's services, live from AWS: status, tasks, image digest, domain,
    /// endpoints, last deployment and an HTTPS health probe of each domain.
    Ps(PsArgs),
    /// Print a service's CloudWatch log events, and its last build's.
    Logs(LogsArgs),
}

#[derive(Debug, Args)]
struct Target {
    /// The Defang project (the `name` of its defang:index:Project); default: the only project
    /// in the region.
    #[arg(long, env = "DEFANG_PROJECT", value_name = "NAME")]
    project: Option<String>,
    /// The AWS region (default: AWS_REGION or the profile's).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// The AWS profile (default: AWS_PROFILE or `default`).
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
}

#[derive(Debug, Args)]
struct PsArgs {
    #[command(flatten)]
    target: Target,
    /// Print JSON (one document; with --watch, one line per refresh).
    #[arg(long)]
    json: bool,
    /// Refresh until Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// Seconds between refreshes with --watch.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    /// Do not probe the services' domains.
    #[arg(long)]
    no_probe: bool,
}

#[derive(Debug, Args)]
struct LogsArgs {
    /// The service's name.
    service: String,
    #[command(flatten)]
    target: Target,
    /// How far back to start: 30s, 10m, 1h30m, 2d.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = time::parse_duration)]
    since: Duration,
    /// Keep printing new events until Ctrl-C.
    #[arg(long, short = 'f')]
    follow: bool,
    /// Print one JSON object per event.
    #[arg(long)]
    json: bool,
}

/// Runs the command in `args` (the program name first); returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // Help and version print to stdout and exit 0; usage errors print to stderr, exit 2.
        Err(err) => err.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("cannot start: {err}")),
    };
    match runtime.block_on(async {
        match cli.command {
            Command::Ps(args) => ps_command(args).await,
            Command::Logs(args) => logs_command(args).await,
        }
    }) {
        Ok(()) => 0,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> i32 {
    eprintln!("pulumi-resource-defang: {message}");
    1
}

/// Writes to stdout; `false` once stdout is gone (`ps | head`), which ends the command quietly.
fn print(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}

/// The inventory of the target's account and region, and the project to look at.
async fn connect(target: &Target) -> Result<(InventoryAdapter, String, ProjectSite), String> {
    let settings = AwsSettings {
        region: target.region.clone(),
        profile: target.profile.clone(),
        max_retries: None,
    };
    let config = defang_aws::config::load(&settings).await.map_err(|_| {
        "no AWS region: pass --region us-east-1, or set AWS_REGION (or a `region` in your AWS \
         profile)"
            .to_string()
    })?;
    let region = config
        .region()
        .map(|r| r.as_ref().to_string())
        .unwrap_or_default();
    let inventory = InventoryAdapter::new(&config);
    let site = choose_project(&inventory, target.project.as_deref(), &region).await?;
    Ok((inventory, region, site))
}

async fn ps_command(args: PsArgs) -> Result<(), String> {
    let (inventory, region, site) = connect(&args.target).await?;
    let probe = if args.no_probe {
        None
    } else {
        Some(HttpsProbe::new()?)
    };
    let probe = probe.as_ref().map(|p| p as &dyn HealthProbe);
    let terminal = std::io::stdout().is_terminal();
    let colour = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    loop {
        let listed = ps::list(&inventory, &site, probe).await;
        let now = time::now_ms();
        let text = match &listed {
            Ok(rows) if args.json && args.watch => format!("{}\n", render::json(&site, rows, now)),
            Ok(rows) if args.json => format!(
                "{}\n",
                serde_json::to_string_pretty(&render::json(&site, rows, now)).unwrap_or_default()
            ),
            Ok(rows) => render::table(&site, rows, now, colour),
            Err(message) if !args.watch => return Err(message.clone()),
            // While watching, a failed refresh is reported and the next one tried.
            Err(message) => {
                eprintln!("pulumi-resource-defang: {message}");
                String::new()
            }
        };
        let screen = if args.watch && terminal && !args.json {
            format!(
                "\x1b[2J\x1b[HEvery {}s: project {} in {region}, {}\n\n{text}",
                args.interval,
                site.name,
                time::rfc3339(now)
            )
        } else {
            text
        };
        if !print(&screen) || !args.watch {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(args.interval)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn logs_command(args: LogsArgs) -> Result<(), String> {
    let (inventory, _, site) = connect(&args.target).await?;
    let services = inventory
        .services(&site.cluster)
        .await
        .map_err(|e| defang_resources::inspect::explain(&e))?;
    let service = logs::find_service(&site, &services, &args.service)?;
    let source = LogSource::of(&site, &args.service, service);
    let since = i64::try_from(args.since.as_millis()).unwrap_or(i64::MAX);
    let mut cursor = Cursor::new(time::now_ms().saturating_sub(since));
    loop {
        let lines = match logs::read(&inventory, &source, cursor.start_ms()).await {
            Ok(lines) => lines,
            Err(message) if !args.follow => return Err(message),
            Err(message) => {
                eprintln!("pulumi-resource-defang: {message}");
                Vec::new()
            }
        };
        let mut text = String::new();
        for line in cursor.admit(lines) {
            text.push_str(&if args.json { line.json() } else { line.text() });
            text.push('\n');
        }
        if !print(&text) || !args.follow {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    /// How the engine starts the binary: nothing, or flags and its address.
    #[test]
    fn only_a_command_first_selects_the_cli() {
        for engine in [
            &[][..],
            &["127.0.0.1:50051"],
            &["--logtostderr", "-v=9", "127.0.0.1:50051"],
            &["--tracing", "127.0.0.1:4317", "127.0.0.1:50051"],
            &["--logtostderr", "ps"],
        ] {
            assert!(!selects_cli(&args(engine)), "{engine:?}");
        }
        for cli in [
            &["ps"][..],
            &["logs", "web"],
            &["--help"],
            &["-h"],
            &["help"],
            &["--version"],
            &["-V"],
        ] {
            assert!(selects_cli(&args(cli)), "{cli:?}");
        }
    }

    fn parse(list: &[&str]) -> Result<Cli, clap::Error> {
        let mut all = vec!["pulumi-resource-defang"];
        all.extend_from_slice(list);
        Cli::try_parse_from(all)
    }

    #[test]
    fn arguments_parse_with_their_defaults() {
        let Command::Ps(ps) = parse(&["ps", "--project", "shop", "--json"])
            .unwrap()
            .command
        else {
            panic!("not ps")
        };
        assert_eq!(ps.target.project.as_deref(), Some("shop"));
        assert!(ps.json && !ps.watch && !ps.no_probe);
        assert_eq!(ps.interval, 5);
        let Command::Logs(logs) = parse(&[
            "logs",
            "web",
            "--since",
            "1h30m",
            "-f",
            "--region",
            "eu-west-1",
        ])
        .unwrap()
        .command
        else {
            panic!("not logs")
        };
        assert_eq!(logs.service, "web");
        assert_eq!(logs.since, Duration::from_secs(5400));
        assert!(logs.follow);
        assert_eq!(logs.target.region.as_deref(), Some("eu-west-1"));
        let Command::Logs(logs) = parse(&["logs", "web"]).unwrap().command else {
            panic!("not logs")
        };
        assert_eq!(logs.since, Duration::from_secs(600));
    }

    #[test]
    fn usage_errors_are_exit_code_2_and_say_what_is_wrong() {
        let err = parse(&["logs"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("<SERVICE>"), "{err}");
        let err = parse(&["logs", "web", "--since", "10y"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("unknown unit 'y'"), "{err}");
        let err = parse(&["ps", "--interval", "0"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = parse(&["ps", "--bogus"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(parse(&["--help"]).unwrap_err().exit_code(), 0);
        assert_eq!(parse(&["--version"]).unwrap_err().exit_code(), 0);
    }
}
