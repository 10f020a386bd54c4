//! The first service with an ingress port makes its project's load balancer (issue 9 item 5:
//! preview never promises what `up` refuses), on scripted fakes.

use super::lifecycle::TOKEN;
use crate::cloud::RolloutState;
use crate::testing::*;
use pulumi_plugin::{PropertyMap, Value};
use std::sync::Arc;

fn inputs(name: &str) -> PropertyMap {
    let port: PropertyMap = [
        ("target".to_string(), Value::Number(80.0)),
        ("mode".to_string(), Value::from("ingress")),
    ]
    .into();
    service_inputs(
        name,
        vec![("ports", Value::Array(vec![Value::Object(port)]))],
    )
}

/// A project stack whose load balancer policy is `policy`, without a load balancer.
fn project(policy: &str) -> Arc<FakeStacks> {
    let stacks = FakeStacks::with_project("shop");
    {
        let mut all = stacks.stacks.lock().unwrap();
        let s = all.get_mut("defang-shop").unwrap();
        s.outputs
            .insert("LoadBalancerPolicy".into(), policy.to_string());
        s.tags
            .insert(crate::ownership::PROJECT_TAG.into(), "shop".into());
    }
    Arc::new(stacks)
}

fn completing(names: &[&str]) -> Arc<FakeEcs> {
    let ecs = Arc::new(FakeEcs::default());
    for name in names {
        ecs.scripts.lock().unwrap().insert(
            name.to_string(),
            [service_state(
                name,
                1,
                deployment("d-1", RolloutState::Completed, 1, 0, 0),
                &[],
            )]
            .into(),
        );
    }
    ecs
}

fn count(stacks: &FakeStacks, call: &str) -> usize {
    stacks
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| *c == call)
        .count()
}

#[tokio::test(start_paused = true)]
async fn the_first_ingress_service_makes_the_projects_load_balancer() {
    let stacks = project("auto");
    let driver = Arc::new(driver(env(completing(&["web", "www"]), stacks.clone()).cloud).await);
    // Check does not refuse the port: the project makes its load balancer when needed.
    let checked = driver
        .check(TOKEN, "web", &PropertyMap::new(), &inputs("web"))
        .await
        .expect("check");
    assert!(checked.failures.is_empty(), "{:?}", checked.failures);
    // Two ingress services at once: both deploy, one turns ingress on.
    let tasks: Vec<_> = ["web", "www"]
        .into_iter()
        .map(|name| {
            let driver = driver.clone();
            tokio::spawn(async move { driver.create(TOKEN, name, &inputs(name)).await })
        })
        .collect();
    for t in tasks {
        let created = t.await.unwrap().expect("create");
        assert_eq!(
            created.outputs["status"],
            Value::from("SERVICE_DEPLOYMENT_COMPLETED")
        );
    }
    assert_eq!(count(&stacks, "UpdateStackParameters"), 1);
    let all = stacks.stacks.lock().unwrap();
    assert!(all["defang-shop"].outputs.contains_key("LoadBalancerArn"));
    assert!(all.contains_key("defang-shop-S-web") && all.contains_key("defang-shop-S-www"));
}

#[tokio::test(start_paused = true)]
async fn a_project_with_load_balancer_false_refuses_ingress_before_anything_is_made() {
    let stacks = project("never");
    let ecs = completing(&["web"]);
    let driver = driver(env(ecs.clone(), stacks.clone()).cloud).await;
    let checked = driver
        .check(TOKEN, "web", &PropertyMap::new(), &inputs("web"))
        .await
        .expect("check");
    assert_eq!(checked.failures.len(), 1, "{:?}", checked.failures);
    assert_eq!(checked.failures[0].property, "ports[0].mode");
    assert!(checked.failures[0].reason.contains("`loadBalancer: false`"));
    // The Create alone, as if Check had let it through (the `create` step stops at Check):
    // the deploy refuses on its own.
    let err = driver
        .send_create(TOKEN, "web", &inputs("web"), false)
        .await
        .unwrap_err();
    let message = plain_failure(&err);
    assert!(message.contains("`loadBalancer: false`"), "{message}");
    assert_eq!(count(&stacks, "UpdateStackParameters"), 0);
    assert_eq!(count(&stacks, "CreateStack"), 0);
    assert!(
        ecs.calls
            .lock()
            .unwrap()
            .iter()
            .all(|c| !c.starts_with("Register"))
    );
}

/// Behind the load balancer, tasks get the default grace period, or `healthCheckGracePeriod`.
#[tokio::test(start_paused = true)]
async fn load_balanced_services_get_their_health_check_grace_period() {
    for (given, expected) in [(None, 60), (Some(300.0), 300)] {
        let ecs = completing(&["web"]);
        let driver = driver(env(ecs.clone(), project("auto")).cloud).await;
        let mut inputs = inputs("web");
        if let Some(seconds) = given {
            inputs.insert("healthCheckGracePeriod".into(), Value::Number(seconds));
        }
        driver.create(TOKEN, "web", &inputs).await.expect("create");
        let service = ecs.services.lock().unwrap()["web"].clone();
        assert_eq!(
            service.health_check_grace_period_seconds,
            Some(expected),
            "{given:?}"
        );
    }
}
