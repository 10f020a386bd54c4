//! Stack waits in the shared poller. CloudFormation has no batch DescribeStacks, so a round
//! asks ListStacks once for every stack in progress (all watched ones together, whatever their
//! number) and describes only the watched stacks that are not listed (finished, or not listed
//! yet: ListStacks is eventually consistent, so DescribeStacks has the last word). The newest
//! event, shown in the status column, is fetched when the status changes and otherwise at most
//! every [`EVENTS_EVERY`].

use super::cadence::{Cadence, Slot};
use super::{Observed, Poller, Watch, publish};
use crate::cloud::{StackState, Stacks};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// What a stack waiter sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StackProgress {
    /// An operation runs: its status, and the newest event as "<LogicalId> <STATUS>".
    Running {
        status: String,
        latest: Option<String>,
    },
    /// Nothing runs (any more): the stack as DescribeStacks gives it, `None` if it is gone.
    Settled(Option<StackState>),
}

/// How often the newest event of a stack whose status does not change is fetched.
pub const EVENTS_EVERY: Duration = Duration::from_secs(10);
/// At most this many event fetches a round: the status line must not eat the call budget
/// that notices stacks finishing.
pub const EVENTS_PER_ROUND: u32 = 4;

pub(super) struct StackWatch {
    pub(super) watch: Watch<StackProgress>,
    /// The status last seen and when its newest event was last fetched.
    status: Option<String>,
    latest: Option<String>,
    events_at: Option<Instant>,
}

impl StackWatch {
    pub(super) fn new(now: Instant, cadence: &Cadence) -> Self {
        StackWatch {
            watch: Watch {
                tx: tokio::sync::watch::channel(None).0,
                slot: Slot::new(now, cadence),
            },
            status: None,
            latest: None,
            events_at: None,
        }
    }
}

/// One round for the due stacks `names`; returns the calls made.
pub(super) async fn poll(
    poller: &Poller,
    api: &dyn Stacks,
    names: &[String],
    round: Instant,
) -> u32 {
    let mut calls = 1;
    let mut events = EVENTS_PER_ROUND;
    poller.calls.list_stacks.fetch_add(1, Ordering::Relaxed);
    // Without ListStacks (a policy that allows only DescribeStacks), each stack is described.
    let listed = api.list_in_progress().await.ok();
    for name in names {
        let running = listed.as_ref().and_then(|l| l.get(name)).cloned();
        let observed: Observed<StackProgress> = match running {
            Some(status) => Ok(Some(StackProgress::Running {
                latest: latest_event(poller, api, name, &status, (&mut calls, &mut events)).await,
                status,
            })),
            None => {
                calls += 1;
                poller.calls.describe_stacks.fetch_add(1, Ordering::Relaxed);
                match api.describe_stack(name).await {
                    Ok(Some(state)) if state.is_in_progress() => Ok(Some(StackProgress::Running {
                        latest: latest_event(
                            poller,
                            api,
                            name,
                            &state.status,
                            (&mut calls, &mut events),
                        )
                        .await,
                        status: state.status,
                    })),
                    Ok(state) => Ok(Some(StackProgress::Settled(state))),
                    Err(e) => Err(e),
                }
            }
        };
        let mut w = poller.watches();
        if let Some(x) = w.stacks.get_mut(name) {
            x.watch.slot.described(round, &poller.cadence);
            match &observed {
                Ok(Some(StackProgress::Running { status, .. })) => x.status = Some(status.clone()),
                // Settled: nothing more to see until someone waits for a new operation.
                Ok(Some(StackProgress::Settled(_))) => x.watch.slot.park(round),
                _ => {}
            }
            publish(&x.watch.tx, observed);
        }
    }
    calls
}

/// The newest event of a running stack: fetched again when its status changed or the last
/// fetch is older than [`EVENTS_EVERY`] and the round's budget allows, else the one fetched
/// before.
async fn latest_event(
    poller: &Poller,
    api: &dyn Stacks,
    name: &str,
    status: &str,
    (calls, budget): (&mut u32, &mut u32),
) -> Option<String> {
    let now = Instant::now();
    let (fresh, cached) = {
        let w = poller.watches();
        let x = w.stacks.get(name)?;
        let fresh = x.status.as_deref() == Some(status)
            && x.events_at
                .is_some_and(|at| now.duration_since(at) < EVENTS_EVERY);
        (fresh, x.latest.clone())
    };
    if fresh || *budget == 0 {
        return cached;
    }
    *budget -= 1;
    *calls += 1;
    poller.calls.stack_events.fetch_add(1, Ordering::Relaxed);
    let latest = api
        .stack_events(name, 1)
        .await
        .ok()
        .and_then(|events| events.into_iter().next())
        .map(|e| format!("{} {}", e.logical_id, e.status));
    let mut w = poller.watches();
    if let Some(x) = w.stacks.get_mut(name) {
        x.latest = latest.clone();
        x.events_at = Some(now);
    }
    latest
}
