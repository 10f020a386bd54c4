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
