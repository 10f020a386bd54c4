//! Protocol basics through the real binary: the served schema is the repository's schema.json,
//! the plugin version, and a clean shutdown on SIGINT after Cancel.

use defang_tests::{Moto, ProviderProcess, repo_root};
use pulumi_plugin::rpc;

#[tokio::test(flavor = "multi_thread")]
async fn serves_the_schema_file_and_its_version_and_shuts_down_cleanly() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::launch(&moto).await;
    let served = p
        .client
        .get_schema(rpc::GetSchemaRequest::default())
        .await
        .unwrap()
        .into_inner()
        .schema;
    let file = std::fs::read_to_string(repo_root().join("schema.json")).unwrap();
    assert_eq!(served, file, "GetSchema must serve schema.json as it is");
    let schema: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert_eq!(schema["name"], "defang");

    let info = p.client.get_plugin_info(()).await.unwrap().into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        schema["version"], info.version,
        "schema and plugin versions agree"
    );

    p.cancel().await;
    let status = p.shutdown();
    assert!(status.success(), "exit status after SIGINT: {status:?}");
}

/// `PULUMI_DEBUG_PROVIDERS`: the engine attaches to a running provider and sends its address
/// with Attach; messages then go to that engine.
#[tokio::test(flavor = "multi_thread")]
async fn attach_sends_messages_to_the_attaching_engine() {
    let moto = Moto::start(&[]);
    let mut p = ProviderProcess::start(&moto).await;
    let attached = defang_tests::RecordingEngine::default();
    let address = attached.serve().await;
    p.client
        .attach(rpc::PluginAttach { address })
        .await
        .expect("attach");
    let urn = defang_tests::urn("defang:index:Project", "main");
    let name = defang_tests::unique("p");
    let (inputs, _) = p
        .check(
            &urn,
            &pulumi_plugin::PropertyMap::new(),
            &defang_tests::props(serde_json::json!({ "name": name })),
        )
        .await;
    p.create(&urn, &inputs, false, 0.0).await.expect("create");
    assert!(
        !attached.statuses(&urn).is_empty(),
        "status messages go to the attached engine"
    );
}
