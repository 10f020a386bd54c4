//! One poller per provider process for everything that is waited on: it batches
//! DescribeServices (10 services a call, per cluster) and BatchGetBuilds (100 builds a call)
//! across all concurrent operations, and backs off while nothing changes. Operations subscribe
//! and receive every new state; no operation polls on its own.

use crate::cloud::{BuildState, Builds, CloudError, Ecs, ServiceState};
use crate::wait::Backoff;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// What a subscriber sees: the latest state, `None` when the thing was not found, or the
/// error of the last call.
pub type Observed<T> = Result<Option<T>, CloudError>;

type ServiceKey = (String, String);

struct Watches {
    services: BTreeMap<ServiceKey, watch::Sender<Option<Observed<ServiceState>>>>,
    builds: BTreeMap<String, watch::Sender<Option<Observed<BuildState>>>>,
}

pub struct Poller {
    ecs: Arc<dyn Ecs>,
    builds: Option<Arc<dyn Builds>>,
    watches: Mutex<Watches>,
    wake: Arc<Notify>,
    started: std::sync::Once,
    initial: Duration,
    max: Duration,
}

/// ECS allows 10 services per DescribeServices; CodeBuild 100 ids per BatchGetBuilds.
const SERVICES_PER_CALL: usize = 10;
const BUILDS_PER_CALL: usize = 100;

impl Poller {
    pub fn new(ecs: Arc<dyn Ecs>, builds: Option<Arc<dyn Builds>>) -> Arc<Poller> {
        Self::with_delays(ecs, builds, Duration::from_secs(3), Duration::from_secs(15))
    }

    pub fn with_delays(
        ecs: Arc<dyn Ecs>,
        builds: Option<Arc<dyn Builds>>,
        initial: Duration,
        max: Duration,
    ) -> Arc<Poller> {
        Arc::new(Poller {
            ecs,
            builds,
            watches: Mutex::new(Watches {
                services: BTreeMap::new(),
                builds: BTreeMap::new(),
            }),
            wake: Arc::new(Notify::new()),
            started: std::sync::Once::new(),
            initial,
            max,
        })
    }

    fn ensure_running(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        self.started.call_once(move || {
            tokio::spawn(async move { run(me).await });
        });
    }

    /// Subscribes to a service; the first state arrives with the next poll round.
    pub fn watch_service(
        self: &Arc<Self>,
        cluster: &str,
        name: &str,
    ) -> watch::Receiver<Option<Observed<ServiceState>>> {
        self.ensure_running();
        let key = (cluster.to_string(), name.to_string());
        let rx = {
            let mut w = self.watches.lock().expect("poller lock");
            w.services
                .entry(key)
                .or_insert_with(|| watch::channel(None).0)
                .subscribe()
        };
        self.wake.notify_one();
        rx
    }

    pub fn watch_build(
        self: &Arc<Self>,
        id: &str,
    ) -> watch::Receiver<Option<Observed<BuildState>>> {
        self.ensure_running();
        let rx = {
            let mut w = self.watches.lock().expect("poller lock");
            w.builds
                .entry(id.to_string())
                .or_insert_with(|| watch::channel(None).0)
                .subscribe()
        };
        self.wake.notify_one();
        rx
    }

    /// One round: every watched thing is described once, in as few calls as the APIs allow.
    /// Returns whether anything changed.
    async fn poll_once(&self) -> bool {
        let (services, builds) = {
            let mut w = self.watches.lock().expect("poller lock");
            // Forget what nobody waits for any more.
            w.services.retain(|_, tx| tx.receiver_count() > 0);
            w.builds.retain(|_, tx| tx.receiver_count() > 0);
            let services: Vec<ServiceKey> = w.services.keys().cloned().collect();
            let builds: Vec<String> = w.builds.keys().cloned().collect();
            (services, builds)
        };
        let mut changed = false;
        let mut by_cluster: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (cluster, name) in &services {
            by_cluster.entry(cluster).or_default().push(name.clone());
        }
        for (cluster, names) in by_cluster {
            for chunk in names.chunks(SERVICES_PER_CALL) {
                let result = self.ecs.describe_services(cluster, chunk).await;
                let w = self.watches.lock().expect("poller lock");
                for name in chunk {
                    let observed = match &result {
                        Ok(found) => Ok(found.iter().find(|s| &s.name == name).cloned()),
                        Err(e) => Err(e.clone()),
                    };
                    if let Some(tx) = w.services.get(&(cluster.to_string(), name.clone())) {
                        changed |= publish(tx, observed);
                    }
                }
            }
        }
        if let Some(api) = &self.builds {
            for chunk in builds.chunks(BUILDS_PER_CALL) {
                let result = api.batch_get_builds(chunk).await;
                let w = self.watches.lock().expect("poller lock");
                for id in chunk {
                    let observed = match &result {
                        Ok(found) => Ok(found.iter().find(|b| &b.id == id).cloned()),
                        Err(e) => Err(e.clone()),
                    };
                    if let Some(tx) = w.builds.get(id) {
                        changed |= publish(tx, observed);
                    }
                }
            }
        }
        changed
    }
}

/// Sends a new observation if it differs from the last one; true if it did.
fn publish<T: PartialEq>(tx: &watch::Sender<Option<Observed<T>>>, observed: Observed<T>) -> bool {
    tx.send_if_modified(|current| {
        let same = match (current.as_ref(), &observed) {
            (Some(Ok(a)), Ok(b)) => a == b,
            (Some(Err(a)), Err(b)) => a.to_string() == b.to_string(),
            _ => false,
        };
        if !same {
            *current = Some(observed);
        }
        !same
    })
}

async fn run(poller: std::sync::Weak<Poller>) {
    let mut backoff = None;
    loop {
        let Some(p) = poller.upgrade() else { return };
        let backoff = backoff.get_or_insert_with(|| Backoff::new(p.initial, p.max));
        let idle = {
            let w = p.watches.lock().expect("poller lock");
            w.services.is_empty() && w.builds.is_empty()
        };
        if idle {
            // Sleep until someone subscribes, holding no strong reference meanwhile.
            let wake = p.wake.clone();
            drop(p);
            wake.notified().await;
            continue;
        }
        if p.poll_once().await {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        drop(p);
        // Subscribers start from the state their own API call returned, so a new one does not
        // need an immediate round; it gets the next one.
        tokio::time::sleep(delay).await;
    }
}
