//! One poller per provider process for everything that is waited on: it batches
//! DescribeServices (10 services a call, per cluster), BatchGetBuilds (100 builds a call) and
//! stack waits (one ListStacks a round for every stack in progress) across all concurrent
//! operations. Each watched thing is described on a steady short tick (see [`cadence`]), so
//! that what AWS finishes is seen within about two seconds, while batching keeps the calls per
//! watched thing flat and a cap on calls per second keeps a thousand waits from throttling the
//! account. Operations subscribe and receive every new state; no operation polls on its own.
//!
//! The polling task is supervised: if it dies (a panic in a cloud call) or ends while the
//! poller is alive, it is started again after a short delay, so that waiters are never left
//! waiting for a round that never comes. Its lock recovers from a panic while held (the maps
//! it guards are valid at every point).

pub mod cadence;
mod stacks;

use crate::cloud::{BuildState, Builds, CloudError, Ecs, ServiceState, Stacks};
use cadence::{Cadence, Slot, batches, next_round};
pub use stacks::StackProgress;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// What a subscriber sees: the latest state, `None` when the thing was not found, or the
/// error of the last call.
pub type Observed<T> = Result<Option<T>, CloudError>;

type ServiceKey = (String, String);

/// A watched thing: who waits for it, and when it is described next.
struct Watch<T> {
    tx: watch::Sender<Option<Observed<T>>>,
    slot: Slot,
}

impl<T> Watch<T> {
    fn new(now: Instant, cadence: &Cadence) -> Self {
        Watch {
            tx: watch::channel(None).0,
            slot: Slot::new(now, cadence),
        }
    }

    /// A new waiter: it starts from the state its own call returned, so the next observation
    /// must reach it even if it equals what an earlier waiter was last sent (the watch is
    /// cleared; other waiters ignore an empty value), and it is described soon.
    fn subscribe(
        &mut self,
        now: Instant,
        cadence: &Cadence,
    ) -> watch::Receiver<Option<Observed<T>>> {
        self.tx.send_replace(None);
        let due = self.slot.due.min(now + cadence.first);
        self.slot = Slot { since: now, due };
        self.tx.subscribe()
    }
}

struct Watches {
    services: BTreeMap<ServiceKey, Watch<ServiceState>>,
    builds: BTreeMap<String, Watch<BuildState>>,
    stacks: BTreeMap<String, stacks::StackWatch>,
}

impl Watches {
    fn earliest_due(&self) -> Option<Instant> {
        let services = self.services.values().map(|w| w.slot.due);
        let builds = self.builds.values().map(|w| w.slot.due);
        let stacks = self.stacks.values().map(|w| w.watch.slot.due);
        services.chain(builds).chain(stacks).min()
    }
}

/// Calls the poller made, by API (for benchmarks and tests).
#[derive(Default, Debug)]
pub struct PollCalls {
    pub describe_services: AtomicU64,
    pub batch_get_builds: AtomicU64,
    pub list_stacks: AtomicU64,
    pub describe_stacks: AtomicU64,
    pub stack_events: AtomicU64,
}

impl PollCalls {
    pub fn total(&self) -> u64 {
        [
            &self.describe_services,
            &self.batch_get_builds,
            &self.list_stacks,
            &self.describe_stacks,
            &self.stack_events,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

pub struct Poller {
    ecs: Arc<dyn Ecs>,
    builds: Option<Arc<dyn Builds>>,
    stacks: Option<Arc<dyn Stacks>>,
    watches: Mutex<Watches>,
    wake: Arc<Notify>,
    /// The supervisor of the polling task, once started.
    supervisor: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Polling rounds started (including ones that panicked), for tests.
    rounds: AtomicU64,
    pub calls: PollCalls,
    cadence: Cadence,
}

/// ECS allows 10 services per DescribeServices; CodeBuild 100 ids per BatchGetBuilds.
const SERVICES_PER_CALL: usize = 10;
const BUILDS_PER_CALL: usize = 100;

impl Poller {
    pub fn new(
        ecs: Arc<dyn Ecs>,
        builds: Option<Arc<dyn Builds>>,
        stacks: Option<Arc<dyn Stacks>>,
    ) -> Arc<Poller> {
        Self::with_cadence(ecs, builds, stacks, Cadence::default())
    }

    pub fn with_cadence(
        ecs: Arc<dyn Ecs>,
        builds: Option<Arc<dyn Builds>>,
        stacks: Option<Arc<dyn Stacks>>,
        cadence: Cadence,
    ) -> Arc<Poller> {
        Arc::new(Poller {
            ecs,
            builds,
            stacks,
            watches: Mutex::new(Watches {
                services: BTreeMap::new(),
                builds: BTreeMap::new(),
                stacks: BTreeMap::new(),
            }),
            wake: Arc::new(Notify::new()),
            supervisor: Mutex::new(None),
            rounds: AtomicU64::new(0),
            calls: PollCalls::default(),
            cadence,
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
        let restart = self.cadence.tick;
        *supervisor = Some(tokio::spawn(supervise(me, restart)));
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
            let now = Instant::now();
            let mut w = self.watches();
            w.services
                .entry(key)
                .or_insert_with(|| Watch::new(now, &self.cadence))
                .subscribe(now, &self.cadence)
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
            let now = Instant::now();
            let mut w = self.watches();
            w.builds
                .entry(id.to_string())
                .or_insert_with(|| Watch::new(now, &self.cadence))
                .subscribe(now, &self.cadence)
        };
        self.wake.notify_one();
        rx
    }

    /// Subscribes to a stack whose operation is in progress; every change of its status (and
    /// newest event) arrives, and finally [`StackProgress::Settled`]. Without a CloudFormation
    /// client the poller never answers (a bug in the caller: [`crate::runtime::Runtime`] has one).
    pub fn watch_stack(
        self: &Arc<Self>,
        name: &str,
    ) -> watch::Receiver<Option<Observed<StackProgress>>> {
        self.ensure_running();
        let rx = {
            let now = Instant::now();
            let mut w = self.watches();
            w.stacks
                .entry(name.to_string())
                .or_insert_with(|| stacks::StackWatch::new(now, &self.cadence))
                .watch
                .subscribe(now, &self.cadence)
        };
        self.wake.notify_one();
        rx
    }

    /// One round: every watched thing that is due is described, in as few calls as the APIs
    /// allow. Returns the number of calls made.
    async fn poll_once(&self) -> u32 {
        self.rounds.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let (service_calls, build_calls, stack_names) = {
            let mut w = self.watches();
            // Forget what nobody waits for any more.
            w.services.retain(|_, x| x.tx.receiver_count() > 0);
            w.builds.retain(|_, x| x.tx.receiver_count() > 0);
            w.stacks.retain(|_, x| x.watch.tx.receiver_count() > 0);
            let mut by_cluster: BTreeMap<String, Vec<(String, Slot)>> = BTreeMap::new();
            for ((cluster, name), x) in &w.services {
                by_cluster
                    .entry(cluster.clone())
                    .or_default()
                    .push((name.clone(), x.slot));
            }
            let service_calls: Vec<(String, Vec<String>)> = by_cluster
                .into_iter()
                .flat_map(|(cluster, slots)| {
                    batches(&slots, now, &self.cadence, SERVICES_PER_CALL)
                        .into_iter()
                        .map(move |names| (cluster.clone(), names))
                })
                .collect();
            let build_slots: Vec<(String, Slot)> = w
                .builds
                .iter()
                .map(|(id, x)| (id.clone(), x.slot))
                .collect();
            let build_calls = batches(&build_slots, now, &self.cadence, BUILDS_PER_CALL);
            let horizon = now + self.cadence.early;
            let stack_names: Vec<String> = w
                .stacks
                .iter()
                .filter(|(_, x)| x.watch.slot.due <= horizon)
                .map(|(name, _)| name.clone())
                .collect();
            (service_calls, build_calls, stack_names)
        };
        let mut calls = 0u32;
        for (cluster, names) in service_calls {
            calls += 1;
            self.calls.describe_services.fetch_add(1, Ordering::Relaxed);
            let result = self.ecs.describe_services(&cluster, &names).await;
            let mut w = self.watches();
            for name in names {
                let observed = match &result {
                    Ok(found) => Ok(found.iter().find(|s| s.name == name).cloned()),
                    Err(e) => Err(e.clone()),
                };
                if let Some(x) = w.services.get_mut(&(cluster.clone(), name)) {
                    publish(&x.tx, observed);
                    // From the round's start: the tick does not drift by the calls' latency.
                    x.slot.described(now, &self.cadence);
                }
            }
        }
        if let Some(api) = &self.builds {
            for ids in build_calls {
                calls += 1;
                self.calls.batch_get_builds.fetch_add(1, Ordering::Relaxed);
                let result = api.batch_get_builds(&ids).await;
                let mut w = self.watches();
                for id in ids {
                    let observed = match &result {
                        Ok(found) => Ok(found.iter().find(|b| b.id == id).cloned()),
                        Err(e) => Err(e.clone()),
                    };
                    if let Some(x) = w.builds.get_mut(&id) {
                        publish(&x.tx, observed);
                        x.slot.described(now, &self.cadence);
                    }
                }
            }
        }
        if let Some(api) = &self.stacks
            && !stack_names.is_empty()
        {
            calls += stacks::poll(self, api.as_ref(), &stack_names, now).await;
        }
        calls
    }
}

/// Sends a new observation if it differs from the last one; true if it did.
fn publish<T: PartialEq>(tx: &watch::Sender<Option<Observed<T>>>, observed: Observed<T>) -> bool {
    tx.send_if_modified(|current| {
        let same = match (current.as_ref(), &observed) {
            (Some(Ok(a)), Ok(b)) => a == b,
            (Some(Err(a)), Err(b)) => a == b,
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
    // The call cap holds across rounds: a round of many calls delays the next one.
    let mut last_round: Option<(Instant, u32)> = None;
    loop {
        let Some(p) = poller.upgrade() else { return };
        let wake = p.wake.clone();
        let earliest = p.watches().earliest_due();
        let next = match last_round {
            Some((started, calls)) => next_round(earliest, started, calls, &p.cadence),
            None => earliest,
        };
        drop(p);
        match next {
            // Nothing watched: sleep until someone subscribes, holding no strong reference.
            None => {
                wake.notified().await;
                continue;
            }
            Some(at) if at > Instant::now() => {
                // A new subscription may be due sooner than what was planned: look again.
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => {}
                    _ = wake.notified() => continue,
                }
            }
            Some(_) => {}
        }
        let Some(p) = poller.upgrade() else { return };
        let started = Instant::now();
        let calls = p.poll_once().await;
        if calls > 0 {
            last_round = Some((started, calls));
        } else {
            // Only what no client here can describe was due (a poller without CodeBuild or
            // CloudFormation): not a hot loop.
            let tick = p.cadence.tick;
            drop(p);
            tokio::time::sleep(tick).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{BuildRequest, BuildStatus, CloudResult};
    use crate::testing::{FakeEcs, build_state};
    use std::sync::atomic::AtomicUsize;

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

    /// ECS whose services finish their rollout at given instants (tokio's clock), and which
    /// counts its DescribeServices calls and the services they asked for.
    #[derive(Default)]
    struct TimedEcs {
        done_at: Mutex<BTreeMap<String, tokio::time::Instant>>,
        calls: AtomicUsize,
        asked: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl Ecs for TimedEcs {
        async fn register_task_definition(
            &self,
            _: &crate::cloud::TaskDefinitionSpec,
        ) -> CloudResult<String> {
            unreachable!()
        }
        async fn describe_task_definition(
            &self,
            _: &str,
        ) -> CloudResult<Option<crate::cloud::TaskDefinition>> {
            unreachable!()
        }
        async fn list_task_definitions(&self, _: &str) -> CloudResult<Vec<String>> {
            unreachable!()
        }
        async fn deregister_task_definition(&self, _: &str) -> CloudResult<()> {
            unreachable!()
        }
        async fn create_service(&self, _: &crate::cloud::ServiceSpec) -> CloudResult<ServiceState> {
            unreachable!()
        }
        async fn update_service(
            &self,
            _: &crate::cloud::ServiceUpdate,
        ) -> CloudResult<ServiceState> {
            unreachable!()
        }
        async fn describe_services(
            &self,
            _: &str,
            names: &[String],
        ) -> CloudResult<Vec<ServiceState>> {
            assert!(names.len() <= SERVICES_PER_CALL);
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.asked.fetch_add(names.len(), Ordering::SeqCst);
            let now = tokio::time::Instant::now();
            let done_at = self.done_at.lock().unwrap();
            Ok(names
                .iter()
                .map(|name| {
                    let done = done_at[name] <= now;
                    let rollout = if done {
                        crate::cloud::RolloutState::Completed
                    } else {
                        crate::cloud::RolloutState::InProgress
                    };
                    let running = i32::from(done);
                    crate::testing::service_state(
                        name,
                        running,
                        crate::testing::deployment("d-1", rollout, running, 0, 0),
                        &[],
                    )
                })
                .collect())
        }
        async fn delete_service(&self, _: &str, _: &str) -> CloudResult<()> {
            unreachable!()
        }
    }

    /// Waits for `name` to report a completed rollout; returns when it did.
    async fn until_completed(poller: Arc<Poller>, name: String) -> tokio::time::Instant {
        let mut rx = poller.watch_service("c", &name);
        loop {
            rx.changed().await.expect("the poller runs");
            if let Some(Ok(Some(state))) = rx.borrow_and_update().clone()
                && state.running_count == 1
            {
                return tokio::time::Instant::now();
            }
        }
    }

    /// A hundred rollouts ending at scattered moments over a minute: each is seen within one
    /// tick of its end (plus the first step), and the calls stay within one DescribeServices
    /// per ten services per tick.
    #[tokio::test(start_paused = true)]
    async fn finished_rollouts_are_seen_within_a_tick_at_a_flat_cost_per_service() {
        let ecs = Arc::new(TimedEcs::default());
        let start = tokio::time::Instant::now();
        let names: Vec<String> = (0..100).map(|i| format!("svc{i:03}")).collect();
        {
            let mut done_at = ecs.done_at.lock().unwrap();
            for (i, name) in names.iter().enumerate() {
                // 5 s to 64.4 s, 0.6 s apart: every phase of the tick.
                done_at.insert(
                    name.clone(),
                    start + Duration::from_millis(5000 + 600 * i as u64),
                );
            }
        }
        let poller = Poller::new(ecs.clone(), None, None);
        let cadence = Cadence::default();
        let waits: Vec<_> = names
            .iter()
            .map(|name| {
                let poller = poller.clone();
                let name = name.clone();
                // Subscriptions arrive over the first second, as services are created.
                let offset = Duration::from_millis(10 * (name[3..].parse::<u64>().unwrap()));
                tokio::spawn(async move {
                    tokio::time::sleep(offset).await;
                    until_completed(poller, name).await
                })
            })
            .collect();
        let mut worst = Duration::ZERO;
        for (name, wait) in names.iter().zip(waits) {
            let seen = wait.await.unwrap();
            let done = ecs.done_at.lock().unwrap()[name];
            let latency = seen - done;
            assert!(
                latency <= cadence.tick,
                "{name}: seen {latency:?} after its end"
            );
            worst = worst.max(latency);
        }
        let elapsed = tokio::time::Instant::now() - start;
        let ticks = elapsed.as_secs_f64() / cadence.tick.as_secs_f64();
        let calls = ecs.calls.load(Ordering::SeqCst) as f64;
        // At most one call per ten services still waiting, per tick (and a round more).
        assert!(
            calls <= ticks * 10.0 + 10.0,
            "{calls} calls in {ticks:.0} ticks"
        );
        // Calls go out full while enough services wait.
        let asked = ecs.asked.load(Ordering::SeqCst) as f64;
        assert!(asked / calls > 5.0, "{asked} services in {calls} calls");
        assert!(worst > Duration::ZERO);
    }

    /// A waiter that comes right after another one left (a stack's delete after the wait for
    /// its last operation) gets the next observation even when it equals what the earlier one
    /// was sent: it used to wait for a change that never came.
    #[tokio::test(start_paused = true)]
    async fn a_new_waiter_gets_the_next_state_even_if_it_did_not_change() {
        let ecs = Arc::new(TimedEcs::default());
        ecs.done_at
            .lock()
            .unwrap()
            .insert("web".into(), tokio::time::Instant::now());
        let poller = Poller::new(ecs.clone(), None, None);
        let first = until_completed(poller.clone(), "web".into()).await;
        let second = tokio::time::timeout(
            Duration::from_secs(10),
            until_completed(poller.clone(), "web".into()),
        )
        .await
        .expect("the second waiter is answered");
        assert!(second - first <= Cadence::default().tick);
    }

    /// The cap on calls per second stretches the tick for a thousand waits instead of making
    /// a hundred calls every two seconds.
    #[tokio::test(start_paused = true)]
    async fn the_call_cap_holds_for_a_thousand_waits() {
        let ecs = Arc::new(TimedEcs::default());
        let start = tokio::time::Instant::now();
        let names: Vec<String> = (0..1000).map(|i| format!("svc{i:04}")).collect();
        {
            let mut done_at = ecs.done_at.lock().unwrap();
            for name in &names {
                done_at.insert(name.clone(), start + Duration::from_secs(3600));
            }
        }
        let poller = Poller::new(ecs.clone(), None, None);
        let receivers: Vec<_> = names.iter().map(|n| poller.watch_service("c", n)).collect();
        tokio::time::sleep(Duration::from_secs(60)).await;
        let calls = ecs.calls.load(Ordering::SeqCst);
        let cap = Cadence::default().max_calls_per_second as usize;
        assert!(calls <= 60 * cap + 100, "{calls} calls in a minute");
        assert!(
            calls >= 60 * cap / 2,
            "{calls} calls: the waits are still served"
        );
        drop(receivers);
    }

    /// Twenty stack waits: one ListStacks a round answers for all of them, each finished one is
    /// described once, and the newest event is fetched on a change of status or every 10 s.
    #[tokio::test(start_paused = true)]
    async fn stack_waits_share_one_list_stacks_a_round() {
        let stacks = Arc::new(crate::testing::FakeStacks::default());
        {
            let mut all = stacks.stacks.lock().unwrap();
            for i in 0..20 {
                let name = format!("s{i:02}");
                all.insert(
                    name.clone(),
                    crate::cloud::StackState {
                        id: format!("arn:{name}"),
                        name,
                        status: "UPDATE_IN_PROGRESS".into(),
                        status_reason: None,
                        outputs: Default::default(),
                        tags: Default::default(),
                    },
                );
            }
        }
        let poller = Poller::new(Arc::new(FakeEcs::default()), None, Some(stacks.clone()));
        let mut receivers: Vec<_> = (0..20)
            .map(|i| poller.watch_stack(&format!("s{i:02}")))
            .collect();
        tokio::time::sleep(Duration::from_secs(21)).await;
        // Half of them finish.
        for i in 0..10 {
            stacks
                .stacks
                .lock()
                .unwrap()
                .get_mut(&format!("s{i:02}"))
                .unwrap()
                .status = "UPDATE_COMPLETE".into();
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        for (i, rx) in receivers.iter_mut().enumerate() {
            let seen = rx.borrow_and_update().clone();
            match seen {
                Some(Ok(Some(StackProgress::Settled(Some(s))))) if i < 10 => {
                    assert_eq!(s.status, "UPDATE_COMPLETE")
                }
                Some(Ok(Some(StackProgress::Running { status, .. }))) if i >= 10 => {
                    assert_eq!(status, "UPDATE_IN_PROGRESS")
                }
                other => panic!("s{i:02}: {other:?}"),
            }
        }
        let calls = stacks.calls.lock().unwrap().clone();
        let count = |api: &str| calls.iter().filter(|c| *c == api).count();
        let rounds = count("ListStacks");
        // 24 s at one round every 2 s after the first second.
        assert!((11..=13).contains(&rounds), "{rounds} rounds");
        // Only the ten finished stacks were described, once each.
        assert_eq!(count("DescribeStacks"), 10, "{calls:?}");
        // Events: a few a round (refreshed every 10 s at most), not one per stack a round.
        let events = poller.calls.stack_events.load(Ordering::Relaxed) as usize;
        assert!(
            events <= rounds * 4,
            "{events} event fetches in {rounds} rounds"
        );
        assert!(
            events >= 20,
            "{events}: every stack's newest event was shown"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_poller_that_panics_is_restarted_and_waits_still_complete() {
        let builds = Arc::new(PanickyBuilds {
            panics: AtomicUsize::new(2),
        });
        let poller = Poller::new(Arc::new(FakeEcs::default()), Some(builds.clone()), None);
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
