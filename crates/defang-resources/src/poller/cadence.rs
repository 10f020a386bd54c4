//! When each watched thing is described next, as pure functions of time: a steady short tick
//! (so that what AWS finishes is seen within a tick), batches filled up to what one call
//! allows (so the cost per watched thing is flat), and a cap on calls per second (so that a
//! thousand waits stretch the tick instead of throttling the account).

use std::time::Duration;
use tokio::time::Instant;

/// How often watched things are described, and how fast calls may go.
#[derive(Clone, Debug)]
pub struct Cadence {
    /// From subscribing to the first description: the caller has just seen the state, and
    /// what finishes at once (a no-op update, an emulator) is seen one short step later.
    pub first: Duration,
    /// Between descriptions while a wait is young.
    pub tick: Duration,
    /// Waits older than this are described every `slow_tick` (a rollout stuck on failing
    /// health checks, a build of twenty minutes: most rollouts end within five minutes): they still ride along in batches for free.
    pub slow_after: Duration,
    pub slow_tick: Duration,
    /// Things due within this much after a round are described in it, so that waits that
    /// began a little apart fall into the same rounds (and calls) from then on.
    pub early: Duration,
    /// At most this many calls a second, over all APIs the poller calls.
    pub max_calls_per_second: u32,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            first: Duration::from_secs(1),
            tick: Duration::from_secs(2),
            slow_after: Duration::from_secs(300),
            slow_tick: Duration::from_secs(5),
            early: Duration::from_millis(500),
            max_calls_per_second: 5,
        }
    }
}

/// One watched thing's place in the schedule.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    pub since: Instant,
    pub due: Instant,
}

impl Slot {
    pub fn new(now: Instant, cadence: &Cadence) -> Slot {
        Slot {
            since: now,
            due: now + cadence.first,
        }
    }

    /// Not described again until a new waiter comes (see `Watch::subscribe`).
    pub fn park(&mut self, now: Instant) {
        self.due = now + Duration::from_secs(24 * 3600);
    }

    /// After a description at `now`.
    pub fn described(&mut self, now: Instant, cadence: &Cadence) {
        let step = if now.duration_since(self.since) >= cadence.slow_after {
            cadence.slow_tick
        } else {
            cadence.tick
        };
        self.due = now + step;
    }
}

/// The calls of a round for one batch API (one cluster's DescribeServices, BatchGetBuilds):
/// every key due by `now + early`, in calls of at most `per_call`, each call topped up with
/// the keys due soonest after them so that no call goes out part-empty while others wait.
pub fn batches<K: Clone>(
    slots: &[(K, Slot)],
    now: Instant,
    cadence: &Cadence,
    per_call: usize,
) -> Vec<Vec<K>> {
    let horizon = now + cadence.early;
    let mut order: Vec<&(K, Slot)> = slots.iter().collect();
    order.sort_by_key(|(_, slot)| slot.due);
    let due = order.iter().filter(|(_, s)| s.due <= horizon).count();
    if due == 0 {
        return Vec::new();
    }
    let calls = due.div_ceil(per_call);
    let take = (calls * per_call).min(order.len());
    order[..take]
        .chunks(per_call)
        .map(|chunk| chunk.iter().map(|(k, _)| k.clone()).collect())
        .collect()
}

/// When the next round may start: when the earliest slot is due, but not sooner than the call
/// cap allows after a round of `calls` calls that started at `started`.
pub fn next_round(
    earliest_due: Option<Instant>,
    started: Instant,
    calls: u32,
    cadence: &Cadence,
) -> Option<Instant> {
    let due = earliest_due?;
    let paced = started
        + Duration::from_secs_f64(
            f64::from(calls) / f64::from(cadence.max_calls_per_second.max(1)),
        );
    Some(due.max(paced))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(now: Instant, due_in_ms: u64) -> Slot {
        Slot {
            since: now,
            due: now + Duration::from_millis(due_in_ms),
        }
    }

    #[test]
    fn only_due_keys_make_calls_and_calls_are_topped_up_with_the_soonest_others() {
        let now = Instant::now();
        let c = Cadence::default();
        // 3 due (one within `early`), 12 later: one call of 10, the 3 due plus the 7 soonest.
        let mut slots = vec![
            ("a", slot(now, 0)),
            ("b", slot(now, 400)),
            ("c", slot(now, 0)),
        ];
        for (i, name) in ["d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o"]
            .into_iter()
            .enumerate()
        {
            slots.push((name, slot(now, 1000 + 100 * i as u64)));
        }
        let calls = batches(&slots, now, &c, 10);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].len(), 10);
        assert!(calls[0].starts_with(&["a", "c", "b"]) || calls[0].starts_with(&["c", "a", "b"]));
        assert_eq!(calls[0][9], "j", "topped up in the order they fall due");

        // Nothing due: no call at all.
        let later: Vec<_> = (0..5).map(|i| (i, slot(now, 1500))).collect();
        assert!(batches(&later, now, &c, 10).is_empty());

        // 25 due: three calls, the last topped up by nobody (there is nobody else).
        let many: Vec<_> = (0..25).map(|i| (i, slot(now, 0))).collect();
        let calls = batches(&many, now, &c, 10);
        assert_eq!(
            calls.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![10, 10, 5]
        );
    }

    #[test]
    fn young_waits_tick_fast_and_old_ones_slowly() {
        let now = Instant::now();
        let c = Cadence::default();
        let mut s = Slot::new(now, &c);
        assert_eq!(s.due, now + c.first);
        s.described(now + Duration::from_secs(30), &c);
        assert_eq!(s.due, now + Duration::from_secs(32));
        s.described(now + Duration::from_secs(400), &c);
        assert_eq!(s.due, now + Duration::from_secs(405));
    }

    #[test]
    fn the_call_cap_stretches_the_gap_after_a_big_round() {
        let now = Instant::now();
        let c = Cadence::default();
        let due = now + Duration::from_secs(2);
        // 5 calls a second: after 2 calls the next round waits for the slot only.
        assert_eq!(next_round(Some(due), now, 2, &c), Some(due));
        // After 100 calls (1,000 services), it waits 20 s.
        assert_eq!(
            next_round(Some(due), now, 100, &c),
            Some(now + Duration::from_secs(20))
        );
        assert_eq!(next_round(None, now, 3, &c), None);
    }
}
