//! The Service resource through the real provider binary against moto.

use defang_tests::{Moto, ProviderProcess, assert_outputs_match_schema, props, unique, urn};
use pulumi_plugin::error::resource_init_failed;
use pulumi_plugin::value::properties_from_struct;
use pulumi_plugin::{PropertyMap, Value};
use serde_json::json;

const PROJECT: &str = "defang:index:Project";
const SERVICE: &str = "defang:index:Service";

/// Creates a project; returns its name and (inputs, outputs).
async fn make_project(p: &mut ProviderProcess) -> String {
    let name = unique("p");
    let urn = urn(PROJECT, &name);
    let (inputs, failures) = p
        .check(
            &urn,
            &PropertyMap::new(),
            &props(json!({ "name": name, "loadBalancer": true })),
        )
        .await;
    assert!(failures.is_empty(), "{failures:?}");
    p.create(&urn, &inputs, false, 0.0).await.expect("project");
    name
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

fn environment(props: &PropertyMap) -> &PropertyMap {
    match &props["environment"] {
        Value::Object(m) => m,
        other => panic!("environment: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn service_lifecycle() {
    // Rollouts complete in moto only with running tasks ≥ desired; 2 covers replicas 1 and 2.
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "2")]);
    let mut p = ProviderProcess::start(&moto).await;
    let project = make_project(&mut p).await;
    let urn = urn(SERVICE, "web");
    let news = props(json!({
        "project": project,
        "image": "nginx:1.27",
        "ports": [{ "target": 80 }, { "target": 9090, "mode": "host" }],
        "environment": { "GREETING": "hello" },
        "cpus": 0.3,
        "memory": "600M",
    }));

    let (inputs, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        inputs["name"],
        Value::from("web"),
        "name defaults to the resource name"
    );

    // Preview: domains and sizes are known before anything exists.
    let (_, planned) = p.create(&urn, &inputs, true, 0.0).await.expect("preview");
    let domain = format!("web--80.{project}.alice.defang.app");
    assert_eq!(planned["domain"], Value::from(domain.as_str()));
    assert_eq!(
        planned["endpoints"],
        Value::Array(vec![
            Value::from(format!("https://{domain}")),
            Value::from(format!("web.{project}.internal:9090"))
        ])
    );
    assert_eq!(planned["deployedCpus"], Value::Number(0.5));
    assert_eq!(planned["deployedMemory"], Value::Number(1024.0));
    assert!(planned["serviceArn"].is_unknown());
    assert!(planned["status"].is_unknown());

    let (id, outputs) = p.create(&urn, &inputs, false, 0.0).await.expect("create");
    assert_eq!(id, format!("{project}/web"));
    assert_eq!(
        outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_COMPLETED")
    );
    assert_eq!(outputs["domain"], Value::from(domain.as_str()));
    assert_eq!(outputs["deployedImage"], Value::from("nginx:1.27"));
    assert_eq!(outputs["desiredCount"], Value::Number(1.0));
    assert_outputs_match_schema(SERVICE, &outputs);
    assert_outputs_match_schema(SERVICE, &planned);
    let statuses = p.engine.statuses(&urn);
    assert!(
        statuses
            .iter()
            .any(|s| s.starts_with("SERVICE_DEPLOYMENT_COMPLETED")),
        "status messages: {statuses:?}"
    );

    // What runs in ECS is what was asked for.
    let ecs = moto.ecs().await;
    let cluster = format!("defang-{project}");
    let described = ecs
        .describe_services()
        .cluster(&cluster)
        .services("web")
        .send()
        .await
        .unwrap();
    let svc = &described.services()[0];
    assert_eq!(svc.launch_type().map(|l| l.as_str()), Some("FARGATE"));
    assert_eq!(svc.desired_count(), 1);
    let net = svc
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .expect("awsvpc");
    assert_eq!(net.subnets().len(), 2);
    // The project's member group, and the service's own (its port rules).
    assert_eq!(net.security_groups().len(), 2);
    // Registered with its target group (ingress port 80) and its Cloud Map name.
    let lbs = svc.load_balancers();
    assert_eq!(lbs.len(), 1, "{lbs:?}");
    assert_eq!(lbs[0].container_port(), Some(80));
    assert_eq!(lbs[0].container_name(), Some("web"));
    assert_eq!(svc.service_registries().len(), 1);
    let td_arn = text(&outputs["taskDefinitionArn"]).to_string();
    let td = ecs
        .describe_task_definition()
        .task_definition(&td_arn)
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    assert_eq!(
        td.family(),
        Some(format!("defang-{project}-S-web").as_str())
    );
    assert_eq!(td.cpu(), Some("512"));
    assert_eq!(td.memory(), Some("1024"));
    assert_eq!(td.network_mode().map(|m| m.as_str()), Some("awsvpc"));
    let container = &td.container_definitions()[0];
    assert_eq!(container.image(), Some("nginx:1.27"));
    assert_eq!(container.port_mappings().len(), 2);
    let log = container.log_configuration().unwrap();
    assert_eq!(log.log_driver().as_str(), "awslogs");
    assert_eq!(
        log.options()
            .unwrap()
            .get("awslogs-group")
            .map(String::as_str),
        Some(format!("/defang/{project}").as_str())
    );

    // No change, no diff.
    let diff = p.diff(&urn, &id, &inputs, &outputs, &inputs).await;
    assert_eq!(diff.changes, 1, "{diff:?}");

    // An environment edit is an in-place update at the variable's path.
    let mut edited = inputs.clone();
    edited.insert(
        "environment".into(),
        Value::Object(PropertyMap::from([(
            "GREETING".to_string(),
            Value::from("bonjour"),
        )])),
    );
    let diff = p.diff(&urn, &id, &inputs, &outputs, &edited).await;
    assert_eq!(diff.changes, 2);
    assert!(diff.replaces.is_empty(), "{diff:?}");
    assert!(diff.has_detailed_diff);
    assert!(
        diff.detailed_diff.contains_key("environment.GREETING"),
        "{diff:?}"
    );
    let updated = p
        .update(&urn, &id, &outputs, &inputs, &edited, false)
        .await
        .expect("update");
    assert_ne!(
        updated["taskDefinitionArn"], outputs["taskDefinitionArn"],
        "new revision"
    );
    assert_eq!(
        updated["status"],
        Value::from("SERVICE_DEPLOYMENT_COMPLETED")
    );
    let live = ecs
        .describe_services()
        .cluster(&cluster)
        .services("web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.services()[0].task_definition(),
        Some(text(&updated["taskDefinitionArn"]))
    );

    // Replicas only: same revision, new desired count.
    let mut scaled = edited.clone();
    scaled.insert("replicas".into(), Value::Number(2.0));
    let scaled_out = p
        .update(&urn, &id, &updated, &edited, &scaled, false)
        .await
        .expect("scale");
    assert_eq!(
        scaled_out["taskDefinitionArn"],
        updated["taskDefinitionArn"]
    );
    assert_eq!(scaled_out["desiredCount"], Value::Number(2.0));

    // A rename replaces, old one first.
    let mut renamed = scaled.clone();
    renamed.insert("name".into(), Value::from("www"));
    let diff = p.diff(&urn, &id, &scaled, &scaled_out, &renamed).await;
    assert_eq!(diff.replaces, vec!["name".to_string()]);
    assert!(diff.delete_before_replace);

    // Refresh: no drift, then drift made out of band.
    let (rid, _, rinputs) = p.read(&urn, &id, &scaled_out, &scaled).await.unwrap();
    assert_eq!(rid, id);
    assert_eq!(rinputs, scaled);
    ecs.update_service()
        .cluster(&cluster)
        .service("web")
        .desired_count(5)
        .send()
        .await
        .unwrap();
    let (_, routs, drifted) = p.read(&urn, &id, &scaled_out, &scaled).await.unwrap();
    assert_eq!(drifted["replicas"], Value::Number(5.0));
    assert_eq!(routs["desiredCount"], Value::Number(5.0));

    // Import by id recovers the inputs from what runs.
    let (iid, _, imported) = p
        .read(&urn, &id, &PropertyMap::new(), &PropertyMap::new())
        .await
        .unwrap();
    assert_eq!(iid, id);
    assert_eq!(imported["image"], Value::from("nginx:1.27"));
    assert_eq!(imported["project"], Value::from(project.as_str()));
    assert_eq!(environment(&imported)["GREETING"], Value::from("bonjour"));

    // Delete removes the service and every revision; deleting again succeeds.
    p.delete(&urn, &id, &scaled_out, &scaled)
        .await
        .expect("delete");
    let (gone, _, _) = p.read(&urn, &id, &scaled_out, &scaled).await.unwrap();
    assert!(
        gone.is_empty(),
        "refresh of a deleted service reports it gone"
    );
    let families = ecs
        .list_task_definitions()
        .family_prefix(format!("defang-{project}-S-web"))
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    assert!(families.task_definition_arns().is_empty(), "{families:?}");
    p.delete(&urn, &id, &scaled_out, &scaled)
        .await
        .expect("second delete");
    // A figure for the notes, not an assertion: memory after a whole lifecycle.
    println!(
        "provider RSS after a full project+service lifecycle: {} KiB",
        p.rss_kib().unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reports_every_problem_with_its_path() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let urn = urn(SERVICE, "web");
    let news = props(json!({
        "project": "shop",
        "name": "Web_1",
        "image": "NGINX latest",
        "ports": [{ "target": 70000 }, { "target": 80 }, { "target": 80 }],
        "environment": { "1BAD": "x" },
        "replica": 2,
    }));
    let (_, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
    for expected in ["name", "image", "ports[0].target", "replica"] {
        assert!(paths.contains(&expected), "{expected} not in {failures:#?}");
    }
    assert!(
        paths.iter().any(|p| p.starts_with("environment")),
        "bad env name not reported: {failures:#?}"
    );
    let replica = failures.iter().find(|f| f.property == "replica").unwrap();
    assert!(replica.reason.contains("replicas"), "{}", replica.reason);

    // Ports that are each fine but clash.
    let news = props(json!({
        "project": "shop",
        "image": "nginx",
        "ports": [{ "target": 80 }, { "target": 443 }, { "target": 80, "mode": "host" }],
    }));
    let (_, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(
        failures[0].property.starts_with("ports[2]"),
        "{failures:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_with_unknown_inputs() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let urn = urn(SERVICE, "web");
    let mut news = props(json!({ "ports": [{ "target": 80 }] }));
    news.insert("project".into(), Value::Unknown);
    news.insert("image".into(), Value::Unknown);
    let (inputs, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert!(
        failures.is_empty(),
        "unknowns are not failures: {failures:?}"
    );
    let (_, planned) = p.create(&urn, &inputs, true, 0.0).await.expect("preview");
    assert!(planned["domain"].is_unknown(), "{planned:?}");
    assert!(planned["deployedImage"].is_unknown());
    // Known inputs still give known outputs.
    let mut news = props(json!({ "project": "shop", "ports": [{ "target": 80 }] }));
    news.insert("image".into(), Value::Unknown);
    let (inputs, _) = p.check(&urn, &PropertyMap::new(), &news).await;
    let (_, planned) = p.create(&urn, &inputs, true, 0.0).await.expect("preview");
    assert_eq!(
        planned["domain"],
        Value::from("web--80.shop.alice.defang.app"),
        "{planned:?}"
    );
    assert!(planned["deployedImage"].is_unknown());
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_secret() {
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let mut p = ProviderProcess::start(&moto).await;
    let project = make_project(&mut p).await;
    let urn = urn(SERVICE, "api");
    let secret = "s3cr3t-value-d1b2";
    let mut news = props(json!({ "project": project, "image": "nginx" }));
    news.insert(
        "environment".into(),
        Value::Object(PropertyMap::from([
            ("PLAIN".to_string(), Value::from("visible")),
            ("TOKEN".to_string(), Value::from(secret).into_secret()),
        ])),
    );
    let (inputs, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert!(failures.is_empty(), "{failures:?}");
    let (id, outputs) = p.create(&urn, &inputs, false, 0.0).await.expect("create");
    let env = environment(&outputs);
    assert!(
        env["TOKEN"].is_secret(),
        "secret input gives secret output: {outputs:?}"
    );
    assert!(!env["PLAIN"].is_secret());
    // Refresh keeps it secret.
    let (_, routs, rins) = p.read(&urn, &id, &outputs, &inputs).await.unwrap();
    assert!(environment(&routs)["TOKEN"].is_secret());
    assert!(environment(&rins)["TOKEN"].is_secret());
    // ECS has no plaintext value: the container references an SSM SecureString parameter,
    // which holds the value.
    let ecs = moto.ecs().await;
    let ssm = moto.ssm().await;
    let parameter = format!("/defang/{project}/api/TOKEN/v1");
    let td_arn = text(&outputs["taskDefinitionArn"]).to_string();
    let td = ecs
        .describe_task_definition()
        .task_definition(&td_arn)
        .send()
        .await
        .unwrap();
    assert!(!format!("{td:?}").contains(secret), "{td:?}");
    let container = &td.task_definition().unwrap().container_definitions()[0];
    let env_names: Vec<_> = container
        .environment()
        .iter()
        .filter_map(|kv| kv.name())
        .collect();
    assert_eq!(env_names, vec!["PLAIN"]);
    let refs: Vec<_> = container
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(refs[0].0, "TOKEN");
    assert!(
        refs[0].1.starts_with("arn:aws:ssm:us-east-1:") && refs[0].1.ends_with(&parameter),
        "{refs:?}"
    );
    let stored = |ssm: aws_sdk_ssm::Client, name: String| async move {
        let got = ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .ok()?;
        let p = got.parameter()?;
        assert_eq!(
            p.r#type(),
            Some(&aws_sdk_ssm::types::ParameterType::SecureString)
        );
        p.value().map(str::to_string)
    };
    assert_eq!(
        stored(ssm.clone(), parameter.clone()).await.as_deref(),
        Some(secret)
    );
    // Import recovers the plain environment only (a secret value cannot be read back).
    let (_, _, imported) = p
        .read(&urn, &id, &PropertyMap::new(), &PropertyMap::new())
        .await
        .unwrap();
    assert!(!environment(&imported).contains_key("TOKEN"));
    assert_eq!(environment(&imported)["PLAIN"], Value::from("visible"));
    // A new secret value: a new version in SSM and a new revision; version 1 is not
    // overwritten while the rollout runs (here moto completes at once, and it is pruned).
    let rotated = "r0tated-value-77c1";
    let mut news = inputs.clone();
    news.insert(
        "environment".into(),
        Value::Object(PropertyMap::from([
            ("PLAIN".to_string(), Value::from("visible")),
            ("TOKEN".to_string(), Value::from(rotated).into_secret()),
        ])),
    );
    let updated = p
        .update(&urn, &id, &outputs, &inputs, &news, false)
        .await
        .expect("update");
    assert_ne!(text(&updated["taskDefinitionArn"]), td_arn);
    let parameter_v2 = format!("/defang/{project}/api/TOKEN/v2");
    assert_eq!(
        stored(ssm.clone(), parameter_v2.clone()).await.as_deref(),
        Some(rotated)
    );
    // A bad value type in a secret never shows the value.
    let mut bad = inputs.clone();
    bad.insert(
        "environment".into(),
        Value::Object(PropertyMap::from([(
            "TOKEN".to_string(),
            Value::Array(vec![Value::from(secret)]).into_secret(),
        )])),
    );
    let (_, failures) = p.check(&urn, &PropertyMap::new(), &bad).await;
    assert!(!failures.is_empty());
    assert!(!format!("{failures:?}").contains(secret), "{failures:?}");
    // Nothing the provider said to the engine or wrote to its log has it.
    for value in [secret, rotated] {
        assert!(!p.engine.all_text().contains(value));
        assert!(!p.stderr().contains(value), "provider log leaks the secret");
    }
    // Delete removes the parameter.
    p.delete(&urn, &id, &updated, &news).await.expect("delete");
    assert_eq!(stored(ssm.clone(), parameter).await, None);
    assert_eq!(stored(ssm, parameter_v2).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn rollout_timeout_is_partial_state_and_cancel_is_prompt() {
    // Without MOTO_ECS_SERVICE_RUNNING moto never finishes a rollout.
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let project = make_project(&mut p).await;
    let urn = urn(SERVICE, "slow");
    let (inputs, _) = p
        .check(
            &urn,
            &PropertyMap::new(),
            &props(json!({ "project": project, "image": "nginx" })),
        )
        .await;

    let started = std::time::Instant::now();
    let err = p.create(&urn, &inputs, false, 4.0).await.unwrap_err();
    assert!(started.elapsed().as_secs() < 30, "timeout honoured");
    let partial = resource_init_failed(&err).expect("partial state in the error");
    assert_eq!(partial.id, format!("{project}/slow"));
    let state = properties_from_struct(partial.properties.as_ref());
    let status = text(&state["status"]);
    assert!(
        status == "SERVICE_DEPLOYMENT_PENDING" || status == "UPDATE_QUEUED",
        "{status}"
    );
    assert!(err.message().contains("timed out"), "{}", err.message());

    // The next up retries: Create again adopts the same service; Cancel stops it promptly.
    let mut canceller = p.client.clone();
    let cancel = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        canceller.cancel(()).await.unwrap();
    });
    let started = std::time::Instant::now();
    let err = p.create(&urn, &inputs, false, 0.0).await.unwrap_err();
    cancel.await.unwrap();
    assert!(started.elapsed().as_secs() < 20, "cancel is prompt");
    let partial = resource_init_failed(&err).expect("partial state");
    assert_eq!(partial.id, format!("{project}/slow"));
    assert!(err.message().contains("cancelled"), "{}", err.message());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_project_is_explained() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let urn = urn(SERVICE, "web");
    let (inputs, _) = p
        .check(
            &urn,
            &PropertyMap::new(),
            &props(json!({ "project": "nowhere", "image": "nginx" })),
        )
        .await;
    let err = p.create(&urn, &inputs, false, 0.0).await.unwrap_err();
    assert!(
        err.message().contains("defang:index:Project"),
        "{}",
        err.message()
    );
    assert!(resource_init_failed(&err).is_none(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn ingress_on_a_project_without_load_balancer_fails_in_check() {
    // `loadBalancer: false` is the user's word: an ingress port is refused in Check (so in
    // preview), before anything is made.
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let name = unique("p");
    let purn = urn(PROJECT, &name);
    let (inputs, _) = p
        .check(
            &purn,
            &PropertyMap::new(),
            &props(json!({ "name": name, "loadBalancer": false })),
        )
        .await;
    p.create(&purn, &inputs, false, 0.0).await.expect("project");
    let urn = urn(SERVICE, "web");
    let news = props(json!({
        "project": name,
        "image": "nginx",
        "ports": [{ "target": 9000, "mode": "host" }, { "target": 80 }],
    }));
    let (_, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].property, "ports[1].mode");
    assert!(
        failures[0].reason.contains("`loadBalancer: false`"),
        "{failures:?}"
    );
}

/// A project that leaves `loadBalancer` unset gets its load balancer, zone and certificate
/// from its first ingress service: Check passes, preview warns, `create` turns the project
/// stack's `Ingress` parameter on (the template kept) and routes the port, on moto's
/// CloudFormation.
#[tokio::test(flavor = "multi_thread")]
async fn the_first_ingress_service_makes_the_projects_load_balancer() {
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let mut p = ProviderProcess::start(&moto).await;
    let name = unique("p");
    let purn = urn(PROJECT, &name);
    let (inputs, _) = p
        .check(&purn, &PropertyMap::new(), &props(json!({ "name": name })))
        .await;
    let (_, project) = p.create(&purn, &inputs, false, 0.0).await.expect("project");
    assert!(!project.contains_key("loadBalancerDnsName"), "{project:?}");
    let cfn = moto.cloudformation().await;
    let stack_name = format!("defang-{name}");
    let ingress_parameter = |cfn: aws_sdk_cloudformation::Client, stack: String| async move {
        let out = cfn
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .unwrap();
        out.stacks()[0]
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some("Ingress"))
            .and_then(|p| p.parameter_value())
            .map(str::to_string)
    };
    assert_eq!(
        ingress_parameter(cfn.clone(), stack_name.clone())
            .await
            .as_deref(),
        Some("false")
    );

    let urn = urn(SERVICE, "web");
    let news = props(json!({ "project": name, "image": "nginx", "ports": [{ "target": 80 }] }));
    let (checked, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert!(failures.is_empty(), "{failures:?}");
    let (_, planned) = p.create(&urn, &checked, true, 0.0).await.expect("preview");
    assert_eq!(
        planned["domain"],
        Value::from(format!("web--80.{name}.alice.defang.app").as_str())
    );
    assert!(
        p.engine
            .all_text()
            .contains("first ingress port of project"),
        "preview warns that up makes the load balancer"
    );
    let (_, outputs) = p.create(&urn, &checked, false, 0.0).await.expect("create");
    assert_eq!(
        outputs["status"],
        Value::from("SERVICE_DEPLOYMENT_COMPLETED")
    );
    assert_eq!(
        ingress_parameter(cfn.clone(), stack_name.clone())
            .await
            .as_deref(),
        Some("true")
    );
    let project_stack = cfn
        .describe_stacks()
        .stack_name(&stack_name)
        .send()
        .await
        .unwrap();
    let outputs_of = |key: &str| {
        project_stack.stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some(key))
            .and_then(|o| o.output_value())
            .map(str::to_string)
    };
    assert!(outputs_of("LoadBalancerArn").is_some());
    assert_eq!(outputs_of("LoadBalancerPolicy").as_deref(), Some("auto"));
    // The service's own stack routes its port through the new listener.
    let ids = moto
        .stack_resource_ids(&format!("defang-{name}-S-web"))
        .await;
    for id in ["TargetGroup80", "HostRule80", "Record80"] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    // The project's next update keeps the load balancer the service asked for.
    let updated = p
        .update(
            &purn,
            &format!("defang-{name}"),
            &project,
            &inputs,
            &inputs,
            false,
        )
        .await
        .expect("project update");
    assert!(updated.contains_key("loadBalancerDnsName"), "{updated:?}");
    assert_eq!(
        ingress_parameter(cfn, stack_name).await.as_deref(),
        Some("true")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_domain_in_the_users_zone() {
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let mut p = ProviderProcess::start(&moto).await;
    let project = make_project(&mut p).await;
    let urn = urn(SERVICE, "web");
    let cfn = moto.cloudformation().await;

    // No zone for the domain yet: Check says what is missing.
    let news = props(json!({
        "project": project,
        "image": "nginx",
        "ports": [{ "target": 80 }],
        "domainName": "www.example.com",
    }));
    let (_, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].property, "domainName");
    assert!(
        failures[0].reason.contains("no public Route 53 zone"),
        "{failures:?}"
    );

    // The user's zone (made here with a stack of its own, as a user would have it).
    let zone = json!({
        "Resources": { "Zone": { "Type": "AWS::Route53::HostedZone", "Properties": { "Name": "example.com" } } }
    });
    cfn.create_stack()
        .stack_name(unique("user-zone"))
        .template_body(zone.to_string())
        .send()
        .await
        .unwrap();
    let (inputs, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert!(failures.is_empty(), "{failures:?}");
    let (id, outputs) = p.create(&urn, &inputs, false, 0.0).await.expect("create");
    let Value::Array(endpoints) = &outputs["endpoints"] else {
        panic!("{outputs:?}")
    };
    assert!(
        endpoints.contains(&Value::from("https://www.example.com")),
        "{endpoints:?}"
    );

    // The service's stack holds the certificate, listener certificate, rule and record.
    let stack = format!("defang-{project}-S-web");
    let ids = moto.stack_resource_ids(&stack).await;
    for expected in [
        "CustomCertificate",
        "CustomListenerCertificate",
        "CustomHostRule",
        "CustomRecord",
    ] {
        assert!(
            ids.iter().any(|i| i == expected),
            "{expected} not in {ids:?}"
        );
    }
    // Deleting the service removes them with its stack.
    p.delete(&urn, &id, &outputs, &inputs)
        .await
        .expect("delete");
    let gone = cfn.describe_stacks().stack_name(&stack).send().await;
    assert!(
        gone.is_err()
            || gone.unwrap().stacks()[0].stack_status().map(|s| s.as_str())
                == Some("DELETE_COMPLETE")
    );
}
