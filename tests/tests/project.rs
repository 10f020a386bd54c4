//! The Project resource through the real provider binary against moto: check, preview, create,
//! read, no-op update, import, delete.

use defang_tests::{Moto, ProviderProcess, assert_outputs_match_schema, props, unique, urn};
use pulumi_plugin::{PropertyMap, Value};
use serde_json::json;

const PROJECT: &str = "defang:index:Project";

#[tokio::test(flavor = "multi_thread")]
async fn project_lifecycle() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let name = unique("shop");
    let urn = urn(PROJECT, "main");

    // Check fills in the name and keeps the user's values.
    let news = props(json!({ "name": name, "logRetentionDays": 7 }));
    let (inputs, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(inputs["name"], Value::from(name.as_str()));

    // Preview: names are known, cloud ids are not.
    let (_, planned) = p.create(&urn, &inputs, true, 0.0).await.expect("preview");
    assert_eq!(
        planned["clusterName"],
        Value::from(format!("defang-{name}"))
    );
    assert_eq!(planned["stackName"], Value::from(format!("defang-{name}")));
    assert!(planned["vpcId"].is_unknown());

    let (id, outputs) = p.create(&urn, &inputs, false, 0.0).await.expect("create");
    assert_eq!(id, format!("defang-{name}"));
    for key in ["clusterArn", "vpcId", "securityGroupId", "executionRoleArn"] {
        let v = outputs[key].as_str().unwrap_or_default();
        assert!(!v.is_empty(), "{key} missing in {outputs:?}");
    }
    let Value::Array(subnets) = &outputs["subnetIds"] else {
        panic!("subnetIds: {outputs:?}")
    };
    assert_eq!(subnets.len(), 2);
    assert_eq!(
        outputs["logGroupName"],
        Value::from(format!("/defang/{name}"))
    );
    assert_outputs_match_schema(PROJECT, &outputs);
    assert_outputs_match_schema(PROJECT, &planned);

    // The cluster really exists.
    let ecs = moto.ecs().await;
    let clusters = ecs
        .describe_clusters()
        .clusters(format!("defang-{name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.clusters().len(), 1);
    assert_eq!(clusters.clusters()[0].status(), Some("ACTIVE"));

    // Progress reached the engine as status messages.
    assert!(
        !p.engine.statuses(&urn).is_empty(),
        "no status messages: {}",
        p.engine.all_text()
    );

    // An unchanged program diffs as no change.
    let diff = p.diff(&urn, &id, &inputs, &outputs, &inputs).await;
    assert_eq!(diff.changes, 1, "{diff:?}");

    // A retried Create (crash after the stack was made) adopts its own stack.
    let (again, _) = p
        .create(&urn, &inputs, false, 0.0)
        .await
        .expect("retried create");
    assert_eq!(again, id);

    // Another Pulumi stack may not take it over.
    let other = format!("urn:pulumi:other::itest::{PROJECT}::main");
    let err = p.create(&other, &inputs, false, 0.0).await.unwrap_err();
    assert!(
        err.message().contains("already exists"),
        "{}",
        err.message()
    );
    assert!(err.message().contains("`name`"), "{}", err.message());

    // Refresh finds it; import recovers the inputs.
    let (rid, routs, rins) = p.read(&urn, &id, &outputs, &inputs).await.unwrap();
    assert_eq!(rid, id);
    assert_eq!(rins, inputs);
    assert_eq!(routs["vpcId"], outputs["vpcId"]);
    let (iid, _, imported) = p
        .read(&urn, &id, &PropertyMap::new(), &PropertyMap::new())
        .await
        .unwrap();
    assert_eq!(iid, id);
    assert_eq!(imported["name"], Value::from(name.as_str()));
    assert_eq!(imported["logRetentionDays"], Value::Number(7.0));

    // An update of the retention applies in place.
    let changed = props(json!({ "name": name, "logRetentionDays": 14 }));
    let diff = p.diff(&urn, &id, &inputs, &outputs, &changed).await;
    assert_eq!(diff.changes, 2);
    assert!(diff.replaces.is_empty(), "{diff:?}");
    let updated = p
        .update(&urn, &id, &outputs, &inputs, &changed, false)
        .await
        .expect("update");
    assert_eq!(updated["logRetentionDays"], Value::Number(14.0));

    // A rename replaces.
    let renamed = props(json!({ "name": format!("{name}x") }));
    let diff = p.diff(&urn, &id, &changed, &updated, &renamed).await;
    assert_eq!(diff.replaces, vec!["name".to_string()]);

    p.delete(&urn, &id, &updated, &changed)
        .await
        .expect("delete");
    let clusters = ecs.list_clusters().send().await.unwrap();
    assert!(
        !clusters
            .cluster_arns()
            .iter()
            .any(|a| a.ends_with(&format!("defang-{name}"))),
        "cluster left behind"
    );
    // Deleting again succeeds; refresh reports it gone.
    p.delete(&urn, &id, &updated, &changed)
        .await
        .expect("second delete");
    let (gone, _, _) = p.read(&urn, &id, &updated, &changed).await.unwrap();
    assert!(gone.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn project_check_failures_name_properties() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let urn = urn(PROJECT, "main");
    let news = props(json!({ "name": "Bad_Name", "subnetIds": ["subnet-0123abcd"], "tagz": {} }));
    let (_, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
    assert!(paths.contains(&"tagz"), "{failures:?}");

    let news = props(json!({ "name": "Bad_Name", "subnetIds": ["subnet-0123abcd"] }));
    let (_, failures) = p.check(&urn, &PropertyMap::new(), &news).await;
    let paths: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
    assert_eq!(paths, vec!["name", "subnetIds"], "{failures:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_username_is_reported_as_missing_config() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::launch(&moto).await;
    let err = p.configure(&[("region", "us-east-1")]).await.unwrap_err();
    assert!(
        err.message().contains("defang:username"),
        "{}",
        err.message()
    );
}

/// The engine may delete a project and a service it does not know depends on it (an imported
/// one) at once: the project's delete waits for the service instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn project_delete_waits_for_its_services() {
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let mut p = ProviderProcess::start(&moto).await;
    let name = unique("p");
    let purn = urn(PROJECT, "main");
    let (pinputs, _) = p
        .check(&purn, &PropertyMap::new(), &props(json!({ "name": name })))
        .await;
    let (pid, poutputs) = p
        .create(&purn, &pinputs, false, 0.0)
        .await
        .expect("project");
    let surn = urn("defang:index:Service", "api");
    let (sinputs, failures) = p
        .check(
            &surn,
            &PropertyMap::new(),
            &props(json!({ "project": name, "image": "nginx", "ports": [{ "target": 3000, "mode": "host" }] })),
        )
        .await;
    assert!(failures.is_empty(), "{failures:?}");
    let (sid, soutputs) = p
        .create(&surn, &sinputs, false, 0.0)
        .await
        .expect("service");

    // Both deletes at once, the project's first.
    let mut other = ProviderProcess::start(&moto).await;
    let engine = p.engine.clone();
    let watched = purn.clone();
    let project_delete =
        tokio::spawn(async move { p.delete(&purn, &pid, &poutputs, &pinputs).await });
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    other
        .delete(&surn, &sid, &soutputs, &sinputs)
        .await
        .expect("service delete");
    project_delete
        .await
        .unwrap()
        .expect("the project's delete waited for its service");
    assert!(
        engine
            .statuses(&watched)
            .iter()
            .any(|s| s.contains("waiting for the project's services")),
        "the first attempt was refused and waited: {:?}",
        engine.statuses(&watched)
    );
    let ecs = moto.ecs().await;
    let clusters = ecs.list_clusters().send().await.unwrap();
    assert!(
        !clusters
            .cluster_arns()
            .iter()
            .any(|a| a.ends_with(&format!("defang-{name}"))),
        "cluster left behind"
    );
}

/// A project may adopt the user's own zone: no zone is created, the certificate is validated in
/// the user's zone, and services' domains are in it.
#[tokio::test(flavor = "multi_thread")]
async fn project_with_its_own_domain() {
    let moto = Moto::start(&[("MOTO_ECS_SERVICE_RUNNING", "1")]);
    let mut p = ProviderProcess::start(&moto).await;
    let name = unique("p");
    let purn = urn(PROJECT, "main");
    let cfn = moto.cloudformation().await;

    // `domain` needs the load balancer: not with `loadBalancer: false` (unset is fine: the
    // first ingress service makes it).
    let (_, failures) = p
        .check(
            &purn,
            &PropertyMap::new(),
            &props(json!({ "name": name, "domain": "apps.example.com", "loadBalancer": false })),
        )
        .await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].property, "domain");
    let (_, failures) = p
        .check(
            &purn,
            &PropertyMap::new(),
            &props(json!({ "name": name, "domain": "apps.example.com" })),
        )
        .await;
    assert!(failures.is_empty(), "{failures:?}");

    let news = props(json!({ "name": name, "loadBalancer": true, "domain": "apps.example.com" }));
    let (inputs, failures) = p.check(&purn, &PropertyMap::new(), &news).await;
    assert!(failures.is_empty(), "{failures:?}");
    // Without the user's zone, create says what is missing (and makes nothing).
    let err = p.create(&purn, &inputs, false, 0.0).await.unwrap_err();
    assert!(
        err.message()
            .contains("no public Route 53 zone named apps.example.com"),
        "{}",
        err.message()
    );

    let zone = json!({
        "Resources": { "Zone": { "Type": "AWS::Route53::HostedZone", "Properties": { "Name": "apps.example.com" } } }
    });
    cfn.create_stack()
        .stack_name(unique("user-zone"))
        .template_body(zone.to_string())
        .send()
        .await
        .unwrap();
    let (pid, outputs) = p.create(&purn, &inputs, false, 0.0).await.expect("project");
    assert_eq!(outputs["publicDomain"], Value::from("apps.example.com"));
    let ids = moto.stack_resource_ids(&pid).await;
    let has = |id: &str| ids.iter().any(|i| i == id);
    assert!(
        !has("PublicZone"),
        "the user's zone is used, none is made: {ids:?}"
    );
    assert!(has("Certificate") && has("LoadBalancer"), "{ids:?}");

    // A service's domain is in the user's zone, at preview and after create.
    let surn = urn("defang:index:Service", "web");
    let (sinputs, failures) = p
        .check(
            &surn,
            &PropertyMap::new(),
            &props(json!({ "project": name, "image": "nginx", "ports": [{ "target": 80 }] })),
        )
        .await;
    assert!(failures.is_empty(), "{failures:?}");
    let (_, planned) = p.create(&surn, &sinputs, true, 0.0).await.expect("preview");
    assert_eq!(planned["domain"], Value::from("web--80.apps.example.com"));
    let (sid, soutputs) = p
        .create(&surn, &sinputs, false, 0.0)
        .await
        .expect("service");
    assert_eq!(soutputs["domain"], Value::from("web--80.apps.example.com"));
    let stack = cfn
        .describe_stack_resources()
        .stack_name(format!("defang-{name}-S-web"))
        .logical_resource_id("Record80")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stack.stack_resources().len(),
        1,
        "alias record in the user's zone"
    );

    p.delete(&surn, &sid, &soutputs, &sinputs)
        .await
        .expect("service delete");
    p.delete(&purn, &pid, &outputs, &inputs)
        .await
        .expect("project delete");
}
