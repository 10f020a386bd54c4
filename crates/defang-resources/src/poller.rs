//! One poller per provider process for everything that is waited on: it batches
//! DescribeServices (10 services a call, per cluster) and BatchGetBuilds (100 builds a call)
//! across all concurrent operations, and backs off while nothing changes. Operations subscribe
//! and receive every new state; no operation polls on its own.
//!
//! The polling task is supervised: if it dies (a panic in a cloud call) or ends while the
//! poller is alive, it is started again after the first delay, so that waiters are never left
//! waiting for a round that never comes. Its lock recovers from a panic while held (the maps
//! it guards are valid at every point).

use crate::cloud::{BuildState, Builds, CloudError, Ecs, ServiceState};
use crate::wait::Backoff;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
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
    /// The supervisor of the polling task, once started.
    supervisor: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Polling rounds started (including ones that panicked), for tests.
    rounds: std::sync::atomic::AtomicU64,
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
            supervisor: Mutex::new(None),
            rounds: std::sync::atomic::AtomicU64::new(0),
            initial,
            max,
        })
    }

    /// Starts the supervised polling task unless it runs already (a supervisor that ended,
    /// e.g. with the runtime it was started on, is replaced).
    fn ensure_running(self: &Arc<Self>) {
        let mut supervisor = self
            .supervisor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if supervisor.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let me = Arc::downgrade(self);
        let initial = self.initial;
        *supervisor = Some(tokio::spawn(supervise(me, initial)));
    }

    fn watches(&self) -> MutexGuard<'_, Watches> {
        self.watches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
            let mut w = self.watches();
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
            let mut w = self.watches();
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
        self.rounds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (services, builds) = {
            let mut w = self.watches();
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
                let w = self.watches();
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
                let w = self.watches();
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

/// Runs the polling loop, and runs it again if it panics or ends while the poller is alive.
async fn supervise(poller: std::sync::Weak<Poller>, restart_delay: Duration) {
    loop {
        let ended = tokio::spawn(run(poller.clone())).await;
        if poller.strong_count() == 0 {
            return;
        }
        match ended {
            Err(e) if e.is_panic() => tracing::error!("the status poller panicked; restarting it"),
            Err(e) => tracing::warn!("the status poller stopped ({e}); restarting it"),
            Ok(()) => tracing::warn!("the status poller ended; restarting it"),
        }
        // Not in a hot loop if every round fails the same way.
        tokio::time::sleep(restart_delay).await;
    }
}

async fn run(poller: std::sync::Weak<Poller>) {
    let mut backoff = None;
    loop {
        let Some(p) = poller.upgrade() else { return };
        let backoff = backoff.get_or_insert_with(|| Backoff::new(p.initial, p.max));
        let idle = {
            let w = p.watches();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{BuildRequest, BuildStatus, CloudResult};
    use crate::testing::{FakeEcs, build_state};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// CodeBuild whose first `panics` BatchGetBuilds calls panic (a bug in a cloud adapter),
    /// then answers that the build succeeded.
    struct PanickyBuilds {
        panics: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Builds for PanickyBuilds {
        async fn start_build(&self, _: &BuildRequest) -> CloudResult<String> {
            unreachable!()
        }
        async fn batch_get_builds(&self, ids: &[String]) -> CloudResult<Vec<BuildState>> {
            if self
                .panics
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                panic!("injected poller panic");
            }
            Ok(ids
                .iter()
                .map(|id| BuildState {
                    id: id.clone(),
                    ..build_state(BuildStatus::Succeeded, "COMPLETED")
                })
                .collect())
        }
        async fn stop_build(&self, _: &str) -> CloudResult<()> {
            Ok(())
        }
    }

    async fn wait_for_build(
        poller: &Arc<Poller>,
        id: &str,
    ) -> Result<Option<Observed<BuildState>>, tokio::time::error::Elapsed> {
        let mut rx = poller.watch_build(id);
        tokio::time::timeout(Duration::from_secs(60), async move {
            loop {
                if rx.changed().await.is_err() {
                    return None;
                }
                if let Some(observed) = rx.borrow_and_update().clone() {
                    return Some(observed);
                }
            }
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_poller_that_panics_is_restarted_and_waits_still_complete() {
        let builds = Arc::new(PanickyBuilds {
            panics: AtomicUsize::new(2),
        });
        let poller = Poller::with_delays(
            Arc::new(FakeEcs::default()),
            Some(builds.clone()),
            Duration::from_secs(1),
            Duration::from_secs(2),
        );
        // The first rounds panic while this wait is on: it still gets the build's end.
        let observed = wait_for_build(&poller, "build:1")
            .await
            .expect("the wait completed");
        let state = observed
            .expect("a state")
            .expect("no error")
            .expect("found");
        assert_eq!(state.status, BuildStatus::Succeeded);
        assert_eq!(
            builds.panics.load(Ordering::SeqCst),
            0,
            "both panics happened"
        );
        assert!(poller.rounds.load(Ordering::Relaxed) >= 3);

        // A later wait, after the restarts, completes too.
        let later = wait_for_build(&poller, "build:2")
            .await
            .expect("the later wait completed");
        assert!(matches!(later, Some(Ok(Some(_)))));
    }
}
