//! Polling with backoff for things AWS finishes asynchronously.

use std::time::Duration;

/// Delays that grow while nothing changes and drop back when something does, so that fast
/// operations finish fast and slow ones do not hammer the API (or its throttling limits).
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            next: initial,
        }
    }

    /// The delay before the next poll; grows by half each time.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 3 / 2).min(self.max);
        delay
    }

    /// Call when progress was seen.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_max_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(2), Duration::from_secs(5));
        let delays: Vec<u64> = (0..5).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, vec![2, 3, 4, 5, 5]);
        b.reset();
        assert_eq!(b.next_delay().as_secs(), 2);
    }
}
