//! End to end, the provider's functions: a Pulumi YAML program calls `defang:index:getDomains`
//! (`fn::invoke`) through the real `pulumi` CLI, and its outputs are the BYOC and Playground
//! names of a service's ports, for the stack's `defang:username`. Nothing is deployed.

use defang_tests::Moto;
use defang_tests::pulumi::Workspace;
use serde_json::json;

const PROGRAM: &str = r#"name: get-domains
runtime: yaml
plugins:
  providers:
    - name: defang
      path: ../../target/debug
variables:
  web:
    fn::invoke:
      function: defang:index:getDomains
      arguments:
        project: shop
        service: web
        ports:
          - target: 80
          - target: 9000
            mode: host
outputs:
  domain: ${web.domain}
  endpoints: ${web.endpoints}
  playground: ${web.playgroundDomains}
"#;

#[test]
fn get_domains_from_a_yaml_program() {
    let moto = Moto::start(&[]);
    let ws = Workspace::for_program("get-domains", PROGRAM, &moto.endpoint());
    ws.init_stack();
    ws.config_set_all(&[
        ("defang:region", "us-east-1", false),
        ("defang:username", "alice", false),
    ]);
    let (out, _, _) = ws.up("up (an invoke, no resources)");
    out.ok();
    let outputs = ws.stack_output(false);
    assert_eq!(
        outputs["domain"], "web--80.shop.alice.defang.app",
        "{outputs:#}"
    );
    assert_eq!(
        outputs["endpoints"],
        json!([
            "https://web--80.shop.alice.defang.app",
            "web.shop.internal:9000"
        ]),
        "{outputs:#}"
    );
    assert_eq!(
        outputs["playground"],
        json!(["alice-web--80.prod1a.defang.dev"]),
        "{outputs:#}"
    );

    // A bad argument is refused with the argument named.
    ws.write_program(&PROGRAM.replace("service: web", "service: Web--1"));
    let (out, _, _) = ws.up("up (a bad service name)");
    assert!(!out.success(), "a bad service name was accepted");
    assert!(out.context().contains("`service`"), "{}", out.context());
}
