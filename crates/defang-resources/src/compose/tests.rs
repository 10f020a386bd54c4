//! Tests of [`super::load`] on small Compose files: every mapped key in each of its syntaxes,
//! every warning and failure, interpolation, and odd inputs that must not panic.

use super::keys::{SERVICE_KEYS, Support};
use super::*;
use pulumi_plugin::Value;

/// What a test loads a file with.
struct Env<'a> {
    path: &'a str,
    dot_env: Option<&'a str>,
    component: PropertyMap,
    process: BTreeMap<String, String>,
    files: Vec<(&'a str, &'a str)>,
}

impl Default for Env<'_> {
    fn default() -> Self {
        Env {
            path: "compose.yaml",
            dot_env: None,
            component: PropertyMap::new(),
            process: BTreeMap::new(),
            files: Vec::new(),
        }
    }
}

impl Env<'_> {
    fn load(&self, text: &str) -> Result<ComposeProject, Vec<ComposeError>> {
        let files = self.files.clone();
        let read = move |path: &str| {
            files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, c)| c.to_string())
                .ok_or_else(|| "no such file".to_string())
        };
        load(&ComposeSource {
            text,
            path: self.path,
            dot_env: self.dot_env,
            environment: &self.component,
            process_env: &self.process,
            read_env_file: &read,
        })
    }

    fn ok(&self, text: &str) -> ComposeProject {
        match self.load(text) {
            Ok(p) => p,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    fn errors(&self, text: &str) -> Vec<(String, String)> {
        match self.load(text) {
            Ok(p) => panic!("expected errors, got {p:#?}"),
            Err(errors) => errors.into_iter().map(|e| (e.path, e.message)).collect(),
        }
    }
}

fn ok(text: &str) -> ComposeProject {
    Env::default().ok(text)
}

fn errors(text: &str) -> Vec<(String, String)> {
    Env::default().errors(text)
}

/// The inputs of the only service of `text`.
fn inputs(text: &str) -> PropertyMap {
    let project = ok(text);
    assert_eq!(project.services.len(), 1, "{project:#?}");
    project.services[0].inputs.clone()
}

fn warnings(project: &ComposeProject) -> Vec<(&str, &str)> {
    project
        .warnings
        .iter()
        .map(|w| (w.path.as_str(), w.message.as_str()))
        .collect()
}

fn props(pairs: &[(&str, Value)]) -> PropertyMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(props(pairs))
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn n(v: f64) -> Value {
    Value::from(v)
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|i| s(i)).collect())
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The mapping, key by key.

#[test]
fn a_minimal_service() {
    let project = ok("services:\n  web:\n    image: nginx:1.27\n");
    assert_eq!(project.name, None);
    assert_eq!(project.warnings, vec![]);
    assert_eq!(
        project.services,
        vec![ComposeService {
            name: "web".to_string(),
            inputs: props(&[("name", s("web")), ("image", s("nginx:1.27"))]),
            depends_on: vec![],
        }]
    );
}

#[test]
fn a_full_service() {
    let text = r#"
name: shop
services:
  api:
    image: ghcr.io/acme/api:1.2
    ports:
      - "8080"
      - target: 9090
        mode: host
        app_protocol: grpc
    environment:
      LOG_LEVEL: debug
      WORKERS: 4
    command: ["serve", "--port", "8080"]
    entrypoint: /bin/entry --verbose
    deploy:
      replicas: 2
      resources:
        reservations:
          cpus: "0.5"
          memory: 1g
    healthcheck:
      test: curl -f http://localhost:8080/health
      interval: 30s
      timeout: 5s
      retries: 3
      start_period: 1m
    platform: linux/arm64
    domainname: api.example.com
"#;
    let project = ok(text);
    assert_eq!(project.name.as_deref(), Some("shop"));
    assert_eq!(project.warnings, vec![]);
    assert_eq!(
        project.services[0].inputs,
        props(&[
            ("name", s("api")),
            ("image", s("ghcr.io/acme/api:1.2")),
            (
                "ports",
                Value::Array(vec![
                    obj(&[("target", n(8080.0)), ("mode", s("ingress"))]),
                    obj(&[
                        ("target", n(9090.0)),
                        ("mode", s("host")),
                        ("appProtocol", s("grpc")),
                    ]),
                ])
            ),
            (
                "environment",
                obj(&[("LOG_LEVEL", s("debug")), ("WORKERS", s("4"))])
            ),
            ("command", strings(&["serve", "--port", "8080"])),
            ("entrypoint", strings(&["/bin/entry", "--verbose"])),
            ("replicas", n(2.0)),
            ("cpus", n(0.5)),
            ("memory", s("1Gi")),
            (
                "healthCheck",
                obj(&[
                    (
                        "test",
                        strings(&["CMD-SHELL", "curl -f http://localhost:8080/health"])
                    ),
                    ("intervalSeconds", n(30.0)),
                    ("timeoutSeconds", n(5.0)),
                    ("retries", n(3.0)),
                    ("startPeriodSeconds", n(60.0)),
                ])
            ),
            ("platform", s("linux/arm64")),
            ("domainName", s("api.example.com")),
        ])
    );
}

#[test]
fn the_inputs_are_valid_service_inputs() {
    use crate::service::inputs::ServiceInputs;
    let mut inputs = inputs(
        "services:\n  web:\n    build: { context: ., args: [A=1] }\n    ports: ['80', \
         {target: 53, protocol: udp, mode: host}]\n    environment: [A=1]\n    deploy: {replicas: \
         0, resources: {limits: {cpus: 1, memory: 1536m}}}\n    healthcheck: {test: [CMD, \
         true], interval: 10s}\n    platform: linux/amd64\n",
    );
    inputs.insert("project".into(), s("shop"));
    let typed: ServiceInputs = pulumi_plugin::value::from_properties(&inputs).unwrap();
    assert_eq!(typed.replicas, Some(0));
    assert_eq!(typed.memory.as_deref(), Some("1536Mi"));
    assert_eq!(typed.ports.len(), 2);
    assert!(typed.resolved("web").is_ok());
}

#[test]
fn services_keep_the_file_order() {
    let project = ok("services:\n  zeta: {image: a}\n  alpha: {image: b}\n  mid: {image: c}\n");
    let names: Vec<&str> = project.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
}

#[test]
fn build_as_a_string_or_a_mapping() {
    assert_eq!(
        inputs("services:\n  web:\n    build: .\n")["build"],
        obj(&[("context", s("."))])
    );
    assert_eq!(
        inputs("services:\n  web:\n    build: {}\n")["build"],
        obj(&[("context", s("."))])
    );
    let text = "services:\n  web:\n    build:\n      context: ./web\n      dockerfile: \
                docker/Prod.Dockerfile\n      target: runtime\n      args:\n        VERSION: \
                '1.2'\n        DEBUG: false\n";
    assert_eq!(
        inputs(text)["build"],
        obj(&[
            ("context", s("web")),
            ("dockerfile", s("docker/Prod.Dockerfile")),
            ("target", s("runtime")),
            ("args", obj(&[("VERSION", s("1.2")), ("DEBUG", s("false"))])),
        ])
    );
}

#[test]
fn build_contexts_are_relative_to_the_compose_file() {
    let env = Env {
        path: "app/compose.yaml",
        ..Env::default()
    };
    let context = |ctx: &str| {
        let p = env.ok(&format!("services:\n  web:\n    build: '{ctx}'\n"));
        p.services[0].inputs["build"].clone()
    };
    assert_eq!(context("./web"), obj(&[("context", s("app/web"))]));
    assert_eq!(context("."), obj(&[("context", s("app"))]));
    assert_eq!(context("../shared"), obj(&[("context", s("shared"))]));
    assert_eq!(context("/srv/app"), obj(&[("context", s("/srv/app"))]));
    let root = ok("services:\n  web:\n    build: ./web/\n");
    assert_eq!(
        root.services[0].inputs["build"],
        obj(&[("context", s("web"))])
    );
}

#[test]
fn build_args_as_a_list_with_value_less_entries() {
    let env = Env {
        component: props(&[("TOKEN", s("t0k3n").into_secret())]),
        process: vars(&[("FROM_PROCESS", "p")]),
        ..Env::default()
    };
    let project = env.ok(
        "services:\n  web:\n    build:\n      context: .\n      args:\n        - A=1\n        - \
         TOKEN\n        - FROM_PROCESS\n        - MISSING\n",
    );
    assert_eq!(
        project.services[0].inputs["build"],
        obj(&[
            ("context", s(".")),
            (
                "args",
                obj(&[
                    ("A", s("1")),
                    ("TOKEN", s("t0k3n").into_secret()),
                    ("FROM_PROCESS", s("p")),
                ])
            ),
        ])
    );
    assert_eq!(
        warnings(&project),
        [(
            "services.web.build.args[3]",
            "MISSING has no value and is set nowhere: it is not passed, so the Dockerfile's \
             default applies"
        )]
    );
}

#[test]
fn build_problems() {
    let project = ok(
        "services:\n  web:\n    image: acme/web\n    build:\n      context: .\n      \
                      cache_from: [acme/web:cache]\n",
    );
    assert!(!project.services[0].inputs.contains_key("image"));
    assert_eq!(
        warnings(&project),
        [
            (
                "services.web.build.cache_from",
                "cache_from is not used: builds here reuse an image whose build hash is \
                 unchanged instead"
            ),
            (
                "services.web.image",
                "is not used: the service is built from `build`, and the image is pushed to the \
                 service's own ECR repository instead of this name"
            ),
        ]
    );
    assert_eq!(
        errors("services:\n  web:\n    build: https://github.com/acme/web.git#main\n"),
        [(
            "services.web.build".to_string(),
            "is a remote context, which the builds here cannot fetch: clone it next to the \
             Compose file and set the context to that folder"
                .to_string()
        )]
    );
    let errs = errors(
        "services:\n  web:\n    build:\n      context: ''\n      dockerfile_inline: FROM x\n      \
         dockerfil: x\n",
    );
    let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "services.web.build.dockerfil",
            "services.web.build.dockerfile_inline",
            "services.web.build.context"
        ]
    );
    assert!(errs[0].1.contains("did you mean `dockerfile`?"), "{errs:?}");
}

#[test]
fn a_service_needs_an_image_or_a_build() {
    assert_eq!(
        errors("services:\n  web:\n    ports: ['80']\n"),
        [(
            "services.web".to_string(),
            "has neither `image` nor `build`: set `image` to the image to run (e.g. `image: \
             nginx:1.27`) or `build` to the folder to build it from (e.g. `build: .`)"
                .to_string()
        )]
    );
    assert_eq!(
        errors("services:\n  web: {image: ~}\n")[0].0,
        "services.web"
    );
}

#[test]
fn service_names_must_be_dns_labels() {
    let errs = errors("services:\n  My_App:\n    image: nginx\n  web--api:\n    image: nginx\n");
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].0, "services.My_App");
    assert!(
        errs[0]
            .1
            .starts_with("has an invalid name: the service name must be a DNS label"),
        "{}",
        errs[0].1
    );
    assert!(
        errs[0].1.contains("try \"my-app\"; rename the service"),
        "{}",
        errs[0].1
    );
    assert_eq!(errs[1].0, "services.web--api");
    assert!(errs[1].1.contains("\"--\""), "{}", errs[1].1);
}

#[test]
fn ports_in_both_syntaxes() {
    let project = ok(
        "services:\n  web:\n    image: nginx\n    ports:\n      - 80\n      - \
                      '8443:443'\n      - target: 8080\n        published: '80'\n        \
                      protocol: tcp\n        mode: ingress\n    expose: ['9000']\n",
    );
    assert_eq!(
        project.services[0].inputs["ports"],
        Value::Array(vec![
            obj(&[("target", n(80.0)), ("mode", s("ingress"))]),
            obj(&[("target", n(443.0)), ("mode", s("ingress"))]),
            obj(&[
                ("target", n(8080.0)),
                ("mode", s("ingress")),
                ("protocol", s("tcp"))
            ]),
            obj(&[("target", n(9000.0)), ("mode", s("host"))]),
        ])
    );
    assert_eq!(
        warnings(&project),
        [
            (
                "services.web.ports[1]",
                "publishes 8443 for the container port 443: the published port is not used on \
                 Fargate; the service is reached on the target port 443"
            ),
            (
                "services.web.ports[2]",
                "publishes 80 for the container port 8080: the published port is not used on \
                 Fargate; the service is reached on the target port 8080"
            ),
        ]
    );
}

#[test]
fn a_port_out_of_range_is_an_error_at_its_index() {
    assert_eq!(
        errors("services:\n  web:\n    image: nginx\n    ports: ['80', '70000']\n"),
        [(
            "services.web.ports[1]".to_string(),
            "has the target port \"70000\", which is not a port number: ports are 1–65535"
                .to_string()
        )]
    );
    assert_eq!(
        errors("services:\n  web:\n    image: nginx\n    ports: [{target: 0}]\n"),
        [(
            "services.web.ports[0].target".to_string(),
            "must be a port number, 1–65535; got \"0\"".to_string()
        )]
    );
}

#[test]
fn environment_as_a_list_or_a_map() {
    let env = Env {
        component: props(&[("API_KEY", s("sk-123").into_secret())]),
        dot_env: Some("FROM_DOTENV=d\n"),
        process: vars(&[("FROM_PROCESS", "p"), ("FROM_DOTENV", "ignored")]),
        ..Env::default()
    };
    let list = env.ok(
        "services:\n  web:\n    image: x\n    environment:\n      - A=1\n      - B=x=y\n      - \
         EMPTY=\n      - API_KEY\n      - FROM_DOTENV\n      - FROM_PROCESS\n",
    );
    let expected = obj(&[
        ("A", s("1")),
        ("B", s("x=y")),
        ("EMPTY", s("")),
        ("API_KEY", s("sk-123").into_secret()),
        ("FROM_DOTENV", s("d")),
        ("FROM_PROCESS", s("p")),
    ]);
    assert_eq!(list.services[0].inputs["environment"], expected);
    let map = env.ok(
        "services:\n  web:\n    image: x\n    environment:\n      A: 1\n      B: x=y\n      \
         EMPTY: ''\n      API_KEY:\n      FROM_DOTENV: null\n      FROM_PROCESS: ~\n",
    );
    assert_eq!(map.services[0].inputs["environment"], expected);
    assert!(map.services[0].inputs["environment"].contains_secrets());
}

#[test]
fn a_value_less_variable_set_nowhere_is_an_error() {
    assert_eq!(
        errors("services:\n  web:\n    image: x\n    environment: [API_KEY]\n"),
        [(
            "services.web.environment[0]".to_string(),
            "API_KEY has no value here and is set nowhere else: give it a value in the \
             component's `environment` input (as a secret if it is one), in the .env file beside \
             compose.yaml or in the process environment, or write API_KEY=value here"
                .to_string()
        )]
    );
    assert_eq!(
        errors("services:\n  web:\n    image: x\n    environment: {API_KEY: }\n")[0].0,
        "services.web.environment.API_KEY"
    );
    assert_eq!(
        errors("services:\n  web:\n    image: x\n    environment: ['1BAD=x', 'A-B=2']\n"),
        [
            (
                "services.web.environment[0]".to_string(),
                "has the variable name \"1BAD\": environment variable names are letters, digits \
                 and '_', not starting with a digit; rename it"
                    .to_string()
            ),
            (
                "services.web.environment[1]".to_string(),
                "has the variable name \"A-B\": environment variable names are letters, digits \
                 and '_', not starting with a digit; rename it"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn unknown_values_stay_unknown() {
    let env = Env {
        component: props(&[
            ("TAG", Value::Unknown),
            ("KEY", Value::Unknown.into_secret()),
        ]),
        ..Env::default()
    };
    let project = env.ok(
        "services:\n  web:\n    image: app:${TAG}\n    environment: [KEY, A=1]\n    ports: \
         ['${TAG}']\n    deploy: {replicas: '${TAG}'}\n    command: run ${TAG}\n",
    );
    let inputs = &project.services[0].inputs;
    assert_eq!(inputs["image"], Value::Unknown);
    assert_eq!(
        inputs["environment"],
        obj(&[("KEY", Value::Unknown.into_secret()), ("A", s("1"))])
    );
    assert_eq!(inputs["ports"], Value::Unknown);
    assert_eq!(inputs["replicas"], Value::Unknown);
    assert_eq!(inputs["command"], Value::Unknown);
}

#[test]
fn env_files_are_merged_under_environment() {
    let env = Env {
        path: "app/compose.yaml",
        process: vars(&[("BARE", "from-process")]),
        files: vec![
            (
                "common.env",
                "A=common\nB=common\nC=common\nBARE\nUNSET_BARE\n",
            ),
            (
                "web.env",
                "# web\nB=web\nexport D=\"quoted # not a comment\"\n",
            ),
        ],
        ..Env::default()
    };
    let project = env.ok(
        "services:\n  web:\n    image: x\n    env_file:\n      - common.env\n      - path: \
         web.env\n        required: true\n      - path: optional.env\n        required: false\n    \
         environment:\n      C: environment\n",
    );
    assert_eq!(
        project.services[0].inputs["environment"],
        obj(&[
            ("A", s("common")),
            ("B", s("web")),
            ("C", s("environment")),
            ("D", s("quoted # not a comment")),
            ("BARE", s("from-process")),
        ])
    );
    assert_eq!(
        warnings(&project),
        [(
            "services.web.env_file[0]",
            "lists UNSET_BARE without a value in \"common.env\", and it is set nowhere else: it \
             is left out; set it in the component's `environment` input, in .env or in the \
             process environment"
        )]
    );
    let one = env.ok("services:\n  web:\n    image: x\n    env_file: web.env\n");
    assert_eq!(
        one.services[0].inputs["environment"],
        obj(&[("B", s("web")), ("D", s("quoted # not a comment"))])
    );
}

#[test]
fn env_file_failures() {
    let env = Env {
        files: vec![("bad.env", "A=\"open\n")],
        ..Env::default()
    };
    assert_eq!(
        env.errors(
            "services:\n  web:\n    image: x\n    env_file: [missing.env, bad.env, {required: \
             false}]\n"
        ),
        [
            (
                "services.web.env_file[2]".to_string(),
                "needs a `path`: the env file to read, e.g. `path: .env.web`".to_string()
            ),
            (
                "services.web.env_file[0]".to_string(),
                "names the env file \"missing.env\", which cannot be read (no such file): create \
                 it (relative to the folder of compose.yaml), or mark it optional with \
                 `required: false`"
                    .to_string()
            ),
            (
                "services.web.env_file[1]".to_string(),
                "names the env file \"bad.env\", which is not valid: line 1: the double-quoted \
                 value of A is not closed: end it with '\"'"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn commands_are_split_as_a_shell_would() {
    let cases = [
        ("npm start", vec!["npm", "start"]),
        (
            "sh -c 'echo \"hello world\" && sleep 1'",
            vec!["sh", "-c", "echo \"hello world\" && sleep 1"],
        ),
        (
            "python -m \"my app\" --flag=a\\ b",
            vec!["python", "-m", "my app", "--flag=a b"],
        ),
        ("  spaced   out  ", vec!["spaced", "out"]),
        ("echo $$HOME", vec!["echo", "$HOME"]),
    ];
    for (command, expected) in cases {
        let text = format!(
            "services:\n  web:\n    image: x\n    command: {}\n",
            serde_json::to_string(command).unwrap()
        );
        assert_eq!(inputs(&text)["command"], strings(&expected), "{command}");
    }
    assert_eq!(
        inputs("services:\n  web:\n    image: x\n    entrypoint: [/bin/sh, -c, 'a b', 3]\n")["entrypoint"],
        strings(&["/bin/sh", "-c", "a b", "3"])
    );
    assert_eq!(
        errors("services:\n  web:\n    image: x\n    command: echo 'unclosed\n"),
        [(
            "services.web.command".to_string(),
            "cannot be split into words as a shell would: a quote is not closed or it ends with \
             a lone backslash; fix the quoting, or write it as a list"
                .to_string()
        )]
    );
    let project = ok("services:\n  web:\n    image: x\n    entrypoint: []\n    command: ''\n");
    assert!(!project.services[0].inputs.contains_key("entrypoint"));
    assert_eq!(
        warnings(&project),
        [
            (
                "services.web.command",
                "is empty, which cannot be deployed as an override: the image's own command is \
                 kept"
            ),
            (
                "services.web.entrypoint",
                "is empty, which cannot be deployed as an override: the image's own entrypoint \
                 is kept"
            ),
        ]
    );
}

#[test]
fn deploy_resources_prefer_reservations_then_limits() {
    let both = ok(
        "services:\n  web:\n    image: x\n    deploy:\n      resources:\n        \
                   limits: {cpus: 2, memory: 4g}\n        reservations: {cpus: '0.25', memory: \
                   512M}\n",
    );
    let i = &both.services[0].inputs;
    assert_eq!((&i["cpus"], &i["memory"]), (&n(0.25), &s("512Mi")));
    assert_eq!(
        warnings(&both),
        [
            (
                "services.web.deploy.resources.limits.cpus",
                "is not applied separately: a Fargate task gets exactly its size, which is taken \
                 from reservations.cpus"
            ),
            (
                "services.web.deploy.resources.limits.memory",
                "is not applied separately: a Fargate task gets exactly its size, which is taken \
                 from reservations.memory"
            ),
        ]
    );
    let limits = inputs(
        "services:\n  web:\n    image: x\n    deploy: {resources: {limits: {cpus: \
                         1.5, memory: 1.5G}, reservations: {memory: 1g}}}\n",
    );
    assert_eq!((&limits["cpus"], &limits["memory"]), (&n(1.5), &s("1Gi")));
    let legacy = inputs(
        "services:\n  web:\n    image: x\n    cpus: 0.5\n    mem_limit: \
                         268435456\n    scale: 3\n",
    );
    assert_eq!(
        (&legacy["cpus"], &legacy["memory"], &legacy["replicas"]),
        (&n(0.5), &s("256Mi"), &n(3.0))
    );
    let reservation = inputs(
        "services:\n  web:\n    image: x\n    mem_limit: 2g\n    \
                              mem_reservation: 1g\n",
    );
    assert_eq!(reservation["memory"], s("1Gi"));
}

#[test]
fn memory_units() {
    for (memory, expected) in [
        ("512m", "512Mi"),
        ("512MiB", "512Mi"),
        ("1g", "1Gi"),
        ("1.5G", "1536Mi"),
        ("2048k", "2Mi"),
        ("1000kb", "1Mi"),
        ("1073741824b", "1Gi"),
    ] {
        let i = inputs(&format!(
            "services:\n  web:\n    image: x\n    deploy: {{resources: {{limits: {{memory: \
             {memory}}}}}}}\n"
        ));
        assert_eq!(i["memory"], s(expected), "{memory}");
    }
    assert_eq!(
        errors(
            "services:\n  web:\n    image: x\n    deploy: {resources: {limits: {memory: lots}}}\n"
        ),
        [(
            "services.web.deploy.resources.limits.memory".to_string(),
            "must be a size such as \"512m\", \"1g\" or \"1.5GiB\" (units b, k, m, g, t; a bare \
             number is bytes); got \"lots\""
                .to_string()
        )]
    );
}

#[test]
fn deploy_problems() {
    let project = ok(
        "services:\n  web:\n    image: x\n    scale: 2\n    deploy:\n      replicas: \
                      3\n      mode: global\n      restart_policy: {condition: on-failure}\n      \
                      resources:\n        limits: {pids: 10}\n",
    );
    assert_eq!(project.services[0].inputs["replicas"], n(3.0));
    assert_eq!(
        warnings(&project),
        [
            (
                "services.web.deploy.restart_policy",
                "restart_policy is not used: ECS replaces any task that stops, to keep the \
                 replicas running"
            ),
            ("services.web.scale", "is not used: deploy.replicas is"),
            (
                "services.web.deploy.mode",
                "is global, which has no meaning on Fargate (there are no nodes): the service \
                 runs `replicas` tasks (1 by default)"
            ),
            (
                "services.web.deploy.resources.limits.pids",
                "pids is not available on Fargate; it is ignored"
            ),
        ]
    );
    assert_eq!(
        errors(
            "services:\n  web:\n    image: x\n    deploy:\n      replicas: -1\n      \
                replica: 2\n      resources: {limits: {cpus: 0}}\n"
        ),
        [
            (
                "services.web.deploy.replica".to_string(),
                "\"replica\" is not a deploy key: did you mean `replicas`? (extensions start \
                 with `x-`)"
                    .to_string()
            ),
            (
                "services.web.deploy.replicas".to_string(),
                "must be a whole number, 0 or more; got -1".to_string()
            ),
            (
                "services.web.deploy.resources.limits.cpus".to_string(),
                "must be more than 0 vCPU, e.g. 0.25, 0.5 or 1".to_string()
            ),
        ]
    );
}

#[test]
fn healthchecks() {
    let list = inputs(
        "services:\n  web:\n    image: x\n    healthcheck:\n      test: [CMD, curl, \
                       -f, 'http://localhost/']\n      interval: 1m30s\n      timeout: 500ms\n      \
                       start_period: 1.5s\n      retries: 5\n",
    );
    assert_eq!(
        list["healthCheck"],
        obj(&[
            ("test", strings(&["CMD", "curl", "-f", "http://localhost/"])),
            ("intervalSeconds", n(90.0)),
            ("timeoutSeconds", n(1.0)),
            ("startPeriodSeconds", n(2.0)),
            ("retries", n(5.0)),
        ])
    );
    let shell = inputs(
        "services:\n  web:\n    image: x\n    healthcheck:\n      test: pg_isready \
                        -U $$POSTGRES_USER\n",
    );
    assert_eq!(
        shell["healthCheck"],
        obj(&[(
            "test",
            strings(&["CMD-SHELL", "pg_isready -U $POSTGRES_USER"])
        )])
    );
    let disabled = inputs(
        "services:\n  web:\n    image: x\n    healthcheck:\n      disable: \
                           true\n      test: [CMD, x]\n",
    );
    assert_eq!(
        disabled["healthCheck"],
        obj(&[("test", strings(&["NONE"]))])
    );
    let none = inputs("services:\n  web:\n    image: x\n    healthcheck: {test: [NONE]}\n");
    assert_eq!(none["healthCheck"], obj(&[("test", strings(&["NONE"]))]));

    let project = ok(
        "services:\n  web:\n    image: x\n    healthcheck: {interval: 10s, \
                      start_interval: 1s}\n",
    );
    assert!(!project.services[0].inputs.contains_key("healthCheck"));
    assert_eq!(
        warnings(&project),
        [
            (
                "services.web.healthcheck.start_interval",
                "start_interval is not available on ECS: checks run every `interval` from the \
                 start"
            ),
            (
                "services.web.healthcheck",
                "has no `test`, and ECS does not run the image's HEALTHCHECK: no health check is \
                 set; add a `test`"
            ),
        ]
    );
}

#[test]
fn healthcheck_failures() {
    assert_eq!(
        errors(
            "services:\n  api:\n    image: x\n    healthcheck:\n      test: [CMD, x]\n      \
                interval: 10 seconds\n      timeout: 5x\n"
        ),
        [
            (
                "services.api.healthcheck.interval".to_string(),
                "must be a duration such as \"30s\", \"1m30s\", \"500ms\" or \"1h\" (units h, m, \
                 s, ms, us, ns); got \"10 seconds\""
                    .to_string()
            ),
            (
                "services.api.healthcheck.timeout".to_string(),
                "must be a duration such as \"30s\", \"1m30s\", \"500ms\" or \"1h\" (units h, m, \
                 s, ms, us, ns); got \"5x\""
                    .to_string()
            ),
        ]
    );
    let errs = errors("services:\n  api:\n    image: x\n    healthcheck: {test: [curl, x]}\n");
    assert_eq!(errs[0].0, "services.api.healthcheck.test");
    assert!(errs[0].1.starts_with("must start with \"CMD\""), "{errs:?}");
    let errs = errors("services:\n  api:\n    image: x\n    healthcheck: {test: [CMD]}\n");
    assert!(
        errs[0].1.starts_with("needs a command after CMD"),
        "{errs:?}"
    );
    let errs = errors("services:\n  api:\n    image: x\n    healthcheck: {test: '', retry: 3}\n");
    assert_eq!(errs[0].0, "services.api.healthcheck.retry");
    assert!(errs[0].1.contains("did you mean `retries`?"), "{errs:?}");
    assert_eq!(errs[1].0, "services.api.healthcheck.test");
}

#[test]
fn platforms() {
    for (platform, expected) in [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/arm64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("LINUX/AARCH64", "linux/arm64"),
    ] {
        let i = inputs(&format!(
            "services:\n  web:\n    image: x\n    platform: {platform}\n"
        ));
        assert_eq!(i["platform"], s(expected), "{platform}");
    }
    assert_eq!(
        errors("services:\n  web:\n    image: x\n    platform: windows/amd64\n"),
        [(
            "services.web.platform".to_string(),
            "must be linux/amd64 or linux/arm64, the platforms Fargate runs; got \
             \"windows/amd64\": build the image for one of them and set it here"
                .to_string()
        )]
    );
}

#[test]
fn depends_on_as_a_list_or_a_map() {
    let project = ok(
        "services:\n  web:\n    image: x\n    depends_on: [api, cache]\n  api:\n    \
                      image: x\n    depends_on:\n      db:\n        condition: service_healthy\n      \
                      migrate:\n        condition: service_completed_successfully\n        \
                      restart: true\n      optional:\n        required: false\n  db:\n    image: \
                      x\n  cache:\n    image: x\n  migrate:\n    image: x\n",
    );
    let deps: Vec<(&str, Vec<&str>)> = project
        .services
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.depends_on.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        deps,
        [
            ("web", vec!["api", "cache"]),
            ("api", vec!["db", "migrate"]),
            ("db", vec![]),
            ("cache", vec![]),
            ("migrate", vec![]),
        ]
    );
    assert_eq!(
        warnings(&project),
        [
            (
                "services.api.depends_on.migrate.restart",
                "restart is not used: a dependency's restart does not restart this service"
            ),
            (
                "services.api.depends_on.migrate.condition",
                "cannot be waited for: services here run continuously; the service is only \
                 created after it"
            ),
        ]
    );
}

#[test]
fn depends_on_failures() {
    assert_eq!(
        errors(
            "services:\n  web:\n    image: x\n    depends_on: [ap, web]\n  api:\n    image: x\n    \
                depends_on: {web: {condition: started}}\n"
        ),
        [
            (
                "services.web.depends_on[0]".to_string(),
                "names the service \"ap\", which is not in the file: list services of this file \
                 only. Did you mean `api`?"
                    .to_string()
            ),
            (
                "services.web.depends_on[1]".to_string(),
                "makes web depend on itself: remove it".to_string()
            ),
            (
                "services.api.depends_on.web.condition".to_string(),
                "must be service_started, service_healthy or service_completed_successfully; got \
                 \"started\""
                    .to_string()
            ),
        ]
    );
    assert_eq!(
        errors(
            "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  \
                c: {image: x, depends_on: [a]}\n"
        ),
        [(
            "services.a.depends_on".to_string(),
            "makes a cycle (a → b → c → a): no service of it could be created first; remove one \
             of these dependencies"
                .to_string()
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// Interpolation.

#[test]
fn interpolation_in_the_file() {
    let env = Env {
        process: vars(&[("TAG", "1.27"), ("EMPTY", ""), ("PORT", "8080")]),
        ..Env::default()
    };
    let project = env.ok(
        "name: ${PROJECT:-shop}\nservices:\n  web:\n    image: nginx:$TAG\n    ports: \
         ['${PORT}:80', '${MISSING-81}']\n    environment:\n      A: ${EMPTY:-default}\n      \
         B: ${EMPTY-default}\n      C: ${TAG:+set}\n      D: ${NOPE+set}\n      E: \
         ${EMPTY?fine}\n      F: $${TAG}\n      G: ${NOPE:-${TAG}}\n      H: ${NOPE:-${NADA:-deep}}\n    \
         deploy: {replicas: '${REPLICAS:-2}'}\n",
    );
    assert_eq!(project.name.as_deref(), Some("shop"));
    let i = &project.services[0].inputs;
    assert_eq!(i["image"], s("nginx:1.27"));
    assert_eq!(
        i["environment"],
        obj(&[
            ("A", s("default")),
            ("B", s("")),
            ("C", s("set")),
            ("D", s("")),
            ("E", s("")),
            ("F", s("${TAG}")),
            ("G", s("1.27")),
            ("H", s("deep")),
        ])
    );
    assert_eq!(
        i["ports"],
        Value::Array(vec![
            obj(&[("target", n(80.0)), ("mode", s("ingress"))]),
            obj(&[("target", n(81.0)), ("mode", s("ingress"))]),
        ])
    );
    assert_eq!(i["replicas"], n(2.0));
}

#[test]
fn component_environment_wins_over_dot_env_over_process() {
    let env = Env {
        component: props(&[("A", s("component"))]),
        dot_env: Some("A=dotenv\nB=dotenv\n# C=commented\n"),
        process: vars(&[("A", "process"), ("B", "process"), ("C", "process")]),
        ..Env::default()
    };
    let i = env
        .ok("services:\n  web:\n    image: x\n    environment: ['X=$A $B $C', A, B, C]\n")
        .services
        .remove(0)
        .inputs;
    assert_eq!(
        i["environment"],
        obj(&[
            ("X", s("component dotenv process")),
            ("A", s("component")),
            ("B", s("dotenv")),
            ("C", s("process")),
        ])
    );
}

#[test]
fn secrets_propagate_and_are_never_shown() {
    let env = Env {
        component: props(&[
            ("DB_PASSWORD", s("hunter2").into_secret()),
            ("BAD_PORT", s("hunter2").into_secret()),
        ]),
        ..Env::default()
    };
    let project = env.ok(
        "services:\n  web:\n    image: x\n    environment:\n      DATABASE_URL: \
         postgres://app:${DB_PASSWORD}@db/app\n      PLAIN: plain\n    command: ['--password', \
         '$DB_PASSWORD']\n",
    );
    let i = &project.services[0].inputs;
    assert_eq!(
        i["environment"],
        obj(&[
            (
                "DATABASE_URL",
                s("postgres://app:hunter2@db/app").into_secret()
            ),
            ("PLAIN", s("plain")),
        ])
    );
    assert_eq!(
        i["command"],
        Value::Array(vec![s("--password"), s("hunter2").into_secret()])
    );
    let errs = env.errors(
        "services:\n  web:\n    image: x\n    ports: ['$BAD_PORT', {target: '$BAD_PORT'}]\n    \
         platform: $BAD_PORT\n    deploy: {replicas: $BAD_PORT, resources: {limits: {memory: \
         $BAD_PORT, cpus: $BAD_PORT}}}\n    healthcheck: {test: [NONE], interval: $BAD_PORT}\n    \
         environment: ['${BAD_PORT}=x']\n",
    );
    // Seven errors: the variable name `${BAD_PORT}` gives is a valid one.
    assert_eq!(errs.len(), 7, "{errs:#?}");
    for (path, message) in &errs {
        assert!(!message.contains("hunter2"), "{path}: {message}");
    }
}

#[test]
fn required_variables_fail_at_their_path() {
    assert_eq!(
        errors("services:\n  web:\n    image: ${IMAGE:?set IMAGE to the image to deploy}\n"),
        [(
            "services.web.image".to_string(),
            "requires the variable IMAGE to be set and not empty: set IMAGE to the image to \
             deploy; set IMAGE in the component's `environment` input, in the .env file beside \
             the Compose file, or in the process environment"
                .to_string()
        )]
    );
    let env = Env {
        process: vars(&[("EMPTY", "")]),
        ..Env::default()
    };
    assert_eq!(
        env.errors(
            "services:\n  web:\n    image: x\n    environment: ['A=${EMPTY:?}', 'B=${NOPE?}']\n"
        )
        .into_iter()
        .map(|(p, _)| p)
        .collect::<Vec<_>>(),
        ["services.web.environment[0]", "services.web.environment[1]"]
    );
    assert_eq!(
        errors("services:\n  web:\n    image: ${IMAGE/a/b}\n")[0].1,
        "has an invalid interpolation \"${IMAGE/a/b}\": use ${VAR}, ${VAR:-default}, \
         ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+alt} or ${VAR+alt}, or \"$$\" \
         for a literal \"$\""
    );
}

#[test]
fn unset_variables_are_empty_with_a_warning() {
    let project = ok("services:\n  web:\n    image: nginx:${TAG}\n");
    assert_eq!(project.services[0].inputs["image"], s("nginx:"));
    assert_eq!(
        warnings(&project),
        [(
            "services.web.image",
            "the variable TAG is not set, so an empty string is used: set it in the component's \
             `environment` input, in the .env file beside the Compose file or in the process \
             environment, or give a default with ${TAG:-default}"
        )]
    );
}

#[test]
fn bad_variable_sources_are_errors() {
    let env = Env {
        component: props(&[("LIST", Value::Array(vec![]))]),
        dot_env: Some("A='open\n"),
        ..Env::default()
    };
    assert_eq!(
        env.errors("services:\n  web: {image: x}\n"),
        [
            (
                "(component input) environment.LIST".to_string(),
                "must be a string, a number or a boolean: it is a variable for the Compose file"
                    .to_string()
            ),
            (
                ".env".to_string(),
                "is not a valid .env file: line 1: the single-quoted value of A is not closed: end \
                 it with \"'\""
                    .to_string()
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Extensions, unsupported and unknown keys.

#[test]
fn defang_extensions_are_warned_other_extensions_ignored() {
    let project = ok(
        "x-defang-dns-role: arn:aws:iam::1:role/dns\nx-common: &c {a: \
                      '${NOPE:?not interpolated}'}\nservices:\n  db:\n    image: postgres:16\n    \
                      x-defang-postgres: true\n    x-custom: {anything: 1}\n  llm:\n    image: x\n    \
                      x-defang-llm: true\n    x-defang-brand-new: 1\n",
    );
    assert_eq!(
        warnings(&project),
        [
            (
                "x-defang-dns-role",
                "x-defang-dns-role names a role for Defang to manage DNS in another account; \
                 this provider does not use it: domains are managed in this account's Route 53; \
                 it is ignored"
            ),
            (
                "services.db.x-defang-postgres",
                "x-defang-postgres asks Defang for a managed Postgres (Amazon RDS); this provider \
                 does not create one: the service is deployed as an ordinary container from its \
                 image, without persistent storage; it is ignored"
            ),
            (
                "services.llm.x-defang-llm",
                "x-defang-llm asks Defang for access to managed LLMs (Amazon Bedrock); this \
                 provider grants none: the service runs without that access; it is ignored"
            ),
            (
                "services.llm.x-defang-brand-new",
                "x-defang-brand-new is a Defang extension that this provider does not support; it \
                 is ignored"
            ),
        ]
    );
    for ext in [
        "x-defang-redis",
        "x-defang-mongodb",
        "x-defang-static-files",
        "x-defang-autoscaling",
    ] {
        let p = ok(&format!("services:\n  s:\n    image: x\n    {ext}: true\n"));
        assert!(
            p.warnings[0]
                .message
                .starts_with(&format!("{ext} asks Defang")),
            "{ext}"
        );
        assert!(p.warnings[0].message.ends_with("; it is ignored"), "{ext}");
    }
}

#[test]
fn container_settings_are_mapped() {
    let project = ok(
        "services:\n  web:\n    image: x\n    working_dir: /srv\n    user: \"1000:1000\"\n    \
         read_only: true\n    init: \"true\"\n    stop_grace_period: 1m30s\n",
    );
    assert_eq!(project.warnings, vec![]);
    let inputs = &project.services[0].inputs;
    assert_eq!(inputs["workingDir"], s("/srv"));
    assert_eq!(inputs["user"], s("1000:1000"));
    assert_eq!(inputs["readonlyRootFilesystem"], Value::Bool(true));
    assert_eq!(inputs["init"], Value::Bool(true));
    assert_eq!(inputs["stopGracePeriod"], n(90.0));
    assert_eq!(
        errors("services:\n  web:\n    image: x\n    stop_grace_period: soon\n    init: maybe\n")
            .into_iter()
            .map(|(path, _)| path)
            .collect::<Vec<_>>(),
        ["services.web.init", "services.web.stop_grace_period"]
    );
}

#[test]
fn every_unsupported_service_key_is_warned_at_its_path() {
    for (key, support) in SERVICE_KEYS {
        let Support::Warn(message) = support else {
            continue;
        };
        let project = ok(&format!(
            "services:\n  web:\n    image: x\n    {key}: [something]\n"
        ));
        assert_eq!(
            warnings(&project),
            [(
                format!("services.web.{key}").as_str(),
                format!("{key} {message}").as_str()
            )],
            "{key}"
        );
    }
    // Nothing asked, nothing said.
    let quiet = ok("services:\n  web:\n    image: x\n    volumes: []\n    labels: {}\n    user:\n");
    assert_eq!(quiet.warnings, vec![]);
    let volumes = ok("services:\n  web:\n    image: x\n    volumes: ['./data:/data']\n");
    assert_eq!(
        warnings(&volumes),
        [(
            "services.web.volumes",
            "volumes are not supported on Fargate services here: the container's filesystem is \
             ephemeral; the volume is not mounted"
        )]
    );
}

#[test]
fn networks_beyond_the_default() {
    let default_only = ok(
        "services:\n  web:\n    image: x\n    networks: [default]\nnetworks:\n  \
                           default:\n",
    );
    assert_eq!(default_only.warnings, vec![]);
    let project = ok(
        "services:\n  web:\n    image: x\n    networks:\n      default:\n      \
                      backend: {aliases: [w]}\nnetworks:\n  backend: {driver: bridge}\n",
    );
    assert_eq!(
        warnings(&project),
        [
            (
                "networks.backend",
                "is not created: all services of the project share one private network, where \
                 each reaches the others by name"
            ),
            (
                "services.web.networks",
                "networks backend are not created: all services of the project share one \
                 private network, where each reaches the others by name; the service joins that \
                 one"
            ),
        ]
    );
}

#[test]
fn top_level_keys() {
    let project = ok(
        "version: '3.8'\nservices:\n  web: {image: x}\nvolumes:\n  data:\nsecrets:\n  \
                      key: {file: ./key}\nconfigs:\n  conf: {file: ./c}\n",
    );
    let paths: Vec<&str> = project.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(paths, ["version", "volumes", "secrets", "configs"]);
    assert!(
        project.warnings[1]
            .message
            .starts_with("volumes are not created")
    );
    assert_eq!(
        errors("include: [other.yaml]\nservice:\n  web: {image: x}\nservices: {}\n"),
        [
            (
                "include".to_string(),
                "include is not supported: merge the included files' services into this file"
                    .to_string()
            ),
            (
                "service".to_string(),
                "\"service\" is not a top-level key: did you mean `services`? (extensions start \
                 with `x-`)"
                    .to_string()
            ),
        ]
    );
    let empty = ok("services: {}\n");
    assert_eq!(
        warnings(&empty),
        [("services", "is empty: nothing is deployed")]
    );
}

#[test]
fn unknown_service_keys_are_errors_with_the_closest_key() {
    assert_eq!(
        errors(
            "services:\n  web:\n    imgae: nginx\n    image: x\n    enviroment: [A=1]\n    \
                frobnicate: 1\n"
        ),
        [
            (
                "services.web.imgae".to_string(),
                "\"imgae\" is not a service key: did you mean `image`? (extensions start with \
                 `x-`)"
                    .to_string()
            ),
            (
                "services.web.enviroment".to_string(),
                "\"enviroment\" is not a service key: did you mean `environment`? (extensions \
                 start with `x-`)"
                    .to_string()
            ),
            (
                "services.web.frobnicate".to_string(),
                "\"frobnicate\" is not a service key of the Compose specification: remove it, or \
                 start it with `x-` to mark it as an extension"
                    .to_string()
            ),
        ]
    );
    let errs = errors("services:\n  web:\n    image: x\n    extends: {service: base}\n");
    assert_eq!(errs[0].0, "services.web.extends");
    assert!(errs[0].1.starts_with("extends is not supported"));
}

#[test]
fn every_error_is_reported_at_once() {
    let errs = errors(
        "services:\n  a:\n    ports: ['0']\n  b:\n    image: x\n    healthcheck: \
                       {test: [CMD, x], interval: forever}\n  c:\n    image: x\n    platform: \
                       linux/386\n",
    );
    let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "services.a",
            "services.a.ports[0]",
            "services.b.healthcheck.interval",
            "services.c.platform"
        ]
    );
}

#[test]
fn messages_display_with_their_path() {
    let error = ComposeError {
        path: "services.web.ports[1]".into(),
        message: "has the target port \"0\"".into(),
    };
    assert_eq!(
        error.to_string(),
        "services.web.ports[1]: has the target port \"0\""
    );
    let whole = ComposeError {
        path: String::new(),
        message: "is empty".into(),
    };
    assert_eq!(whole.to_string(), "the file is empty");
    let warning = ComposeWarning {
        path: "services.web.volumes".into(),
        message: "volumes are not supported".into(),
    };
    assert_eq!(
        warning.to_string(),
        "services.web.volumes: volumes are not supported"
    );
}

// ---------------------------------------------------------------------------------------------
// Odd inputs: an error, never a panic.

#[test]
fn odd_files_are_errors_not_panics() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "",
            "",
            "is empty: a Compose file needs a `services` mapping",
        ),
        ("# only a comment\n", "", "is empty"),
        (
            "- a\n- b\n",
            "",
            "must be a mapping with a `services` key; got a list at the top level",
        ),
        (
            "just a string",
            "",
            "must be a mapping with a `services` key; got a string",
        ),
        ("name: x\n", "", "has no `services`"),
        (
            "services:\n  - web\n  - api\n",
            "services",
            "must be a mapping of service names to services, not a list",
        ),
        (
            "services: 3\n",
            "services",
            "must be a mapping of service names to services; got a number",
        ),
        (
            "services:\n  web:\n",
            "services.web",
            "must be a mapping with at least `image` or `build`",
        ),
        (
            "services:\n  web: nginx\n",
            "services.web",
            "must be a mapping with at least `image` or `build`",
        ),
        (
            "services:\n  web: {image: [a]}\n",
            "services.web.image",
            "must be a string; got a list",
        ),
        (
            "services:\n  web: {image: x, ports: [{target: {a: 1}, published: [1]}]}\n",
            "services.web.ports[0].target",
            "must be a string or a number; got a mapping",
        ),
        (
            "services:\n  web: {image: x, ports: {80: 80}}\n",
            "services.web.ports",
            "must be a list of ports; got a mapping",
        ),
        (
            "services:\n  web: {image: x, environment: 3}\n",
            "services.web.environment",
            "must be a list of KEY=value strings or a mapping; got a number",
        ),
        (
            "services:\n  web: {image: x, environment: [[a]]}\n",
            "services.web.environment[0]",
            "must be a string KEY=value or KEY; got a list",
        ),
        (
            "services:\n  web: {image: x, deploy: [1]}\n",
            "services.web.deploy",
            "must be a mapping; got a list",
        ),
        (
            "services:\n  web: {image: x, deploy: {resources: 1}}\n",
            "services.web.deploy.resources",
            "must be a mapping; got a number",
        ),
        (
            "services:\n  web: {image: x, healthcheck: yes please}\n",
            "services.web.healthcheck",
            "must be a mapping; got a string",
        ),
        (
            "services:\n  web: {image: x, depends_on: 1}\n",
            "services.web.depends_on",
            "must be a list of service names or a mapping; got a number",
        ),
        (
            "services:\n  web: {image: x, command: {a: 1}}\n",
            "services.web.command",
            "must be a string; got a mapping",
        ),
        (
            "services:\n  web: {image: x, deploy: {replicas: 1.5}}\n",
            "services.web.deploy.replicas",
            "must be a whole number",
        ),
        (
            "services:\n  web: {image: x, deploy: {replicas: 1e99}}\n",
            "services.web.deploy.replicas",
            "must be a whole number",
        ),
        (
            "services:\n  web: {image: x, env_file: [[a]]}\n",
            "services.web.env_file[0]",
            "must be a path or a mapping with `path`; got a list",
        ),
        (
            "services:\n  web: {image: x, build: {args: 1}}\n",
            "services.web.build.args",
            "must be a list of KEY=value strings or a mapping",
        ),
        (
            "services:\n  web: {image: x, networks: 1}\n",
            "services.web.networks",
            "must be a list or a mapping of networks",
        ),
        (
            "services: {web: {image: x}}\nservices: {}\n",
            "",
            "is not valid YAML",
        ),
        ("services:\n\tweb: x\n", "", "is not valid YAML"),
        ("a: &a [*a]\n", "", "is not valid YAML"),
        ("\u{0}\u{1}binary", "", ""),
        (
            "services:\n  web: {image: x, healthcheck: {test: 3}}\n",
            "",
            "",
        ),
        (
            "services:\n  web: {<<: [1], image: x}\n",
            "",
            "has a `<<` merge key that cannot be applied",
        ),
    ];
    for (text, path, message) in cases {
        let result = Env::default().load(text);
        let errs = match result {
            Ok(p) if path.is_empty() && message.is_empty() => {
                let _ = p;
                continue;
            }
            Ok(p) => panic!("{text:?}: expected an error, got {p:#?}"),
            Err(errs) => errs,
        };
        if message.is_empty() {
            continue;
        }
        assert!(
            errs.iter()
                .any(|e| e.path == *path && e.message.starts_with(message)),
            "{text:?}: {errs:#?}"
        );
    }
}

#[test]
fn deep_and_large_documents_do_not_panic() {
    let deep = format!(
        "services:\n  web:\n    image: x\n    x-deep: {}{}\n",
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let _ = Env::default().load(&deep);
    let many: String = (0..300)
        .map(|i| {
            format!(
                "  s{i}:\n    image: x\n    depends_on: [s{}]\n",
                (i + 1) % 300
            )
        })
        .collect();
    let errs = errors(&format!("services:\n{many}"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].1.starts_with("makes a cycle (s0 → s1 → "),
        "{}",
        errs[0].1
    );
    let long = format!(
        "services:\n  web:\n    image: x\n    platform: {}\n",
        "p".repeat(10_000)
    );
    let errs = errors(&long);
    assert!(errs[0].1.len() < 400, "{}", errs[0].1.len());
}

#[test]
fn secrets_in_protocols_modes_and_dependencies_are_not_shown() {
    let env = Env {
        component: props(&[("S", s("hunter2").into_secret())]),
        ..Env::default()
    };
    let errs = env.errors(
        "services:\n  web:\n    image: x\n    ports: ['80/$S', {target: 81, mode: $S}, {target: \
         82, protocol: $S}]\n    depends_on: [$S]\n",
    );
    assert_eq!(errs.len(), 4, "{errs:#?}");
    for (path, message) in &errs {
        assert!(!message.contains("hunter2"), "{path}: {message}");
    }
    let project =
        env.ok("services:\n  web:\n    image: x\n    ports: [{target: 80, app_protocol: $S}]\n");
    assert!(!project.warnings[0].message.contains("hunter2"));
}
