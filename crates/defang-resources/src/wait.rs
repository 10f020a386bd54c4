//! Polling with backoff for things AWS finishes asynchronously.

use std::time::Duration;

/// Delays that grow while nothing changes, so that fast operations finish fast and slow ones
/// do not hammer the API (or its throttling limits).
#[derive(Clone, Debug)]
pub struct Backoff {
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { max, next: initial }
    }

    /// The delay before the next poll; grows by half each time.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 3 / 2).min(self.max);
        delay
    }
}

/// Runs `op` until it succeeds, fails for good, or the context's deadline or Cancel ends the
/// wait, retrying errors AWS clears by itself ([`crate::cloud::CloudErrorKind::Settling`]; throttling
/// and 5xx are the SDK's to retry, and after its retries an outage) with backoff (2 s up to 30 s), and saying so in
/// the resource's status. The last error is returned when the wait ends.
pub async fn retry_settling<T, F, Fut>(
    ctx: &pulumi_plugin::Context,
    what: &str,
    mut op: F,
) -> Result<T, crate::cloud::CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::cloud::CloudError>>,
{
    let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(30));
    loop {
        match op().await {
            Err(err) if err.is_settling() => {
                ctx.log
                    .status(&format!("{what}: AWS is not ready yet, retrying ({err})"))
                    .await;
                if ctx.sleep(backoff.next_delay()).await.is_err() {
                    return Err(err);
                }
            }
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::CloudError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn settling_errors_are_retried_until_they_clear_and_others_are_not() {
        let ctx = crate::testing::context(None);
        let calls = AtomicUsize::new(0);
        let got = retry_settling(&ctx, "create service", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(CloudError::settling(
                    "create ECS service: InvalidParameterException: The target group with targetGroupArn arn:tg does not have an associated load balancer.",
                )),
                1 => Err(CloudError::settling(
                    "start CodeBuild build: InvalidInputException: CodeBuild is not authorized to perform: sts:AssumeRole on arn:role",
                )),
                2 => Err(CloudError::settling("AccountLimitExceededException")),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(got.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 4);

        let calls = AtomicUsize::new(0);
        let got: Result<(), _> = retry_settling(&ctx, "x", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(CloudError::invalid("ValidationError: bad template"))
        })
        .await;
        assert!(got.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a real error is not retried"
        );
        let got: Result<(), _> = retry_settling(&ctx, "x", || async {
            Err(CloudError::transient("HTTP 503 after 26 attempts"))
        })
        .await;
        assert!(
            got.is_err(),
            "an outage outlasting the SDK's retries is not waited out"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_the_retries_with_the_last_error() {
        let ctx = crate::testing::context(Some(Duration::from_secs(60)));
        let started = tokio::time::Instant::now();
        let got: Result<(), _> = retry_settling(&ctx, "x", || async {
            Err(CloudError::settling(
                "start CodeBuild build: AccountLimitExceededException: Cannot have more than 20 active builds",
            ))
        })
        .await;
        assert!(got.unwrap_err().to_string().contains("more than 20"));
        assert!(started.elapsed() <= Duration::from_secs(61));
    }

    #[test]
    fn grows_to_max() {
        let mut b = Backoff::new(Duration::from_secs(2), Duration::from_secs(5));
        let delays: Vec<u64> = (0..5).map(|_| b.next_delay().as_secs()).collect();
        assert_eq!(delays, vec![2, 3, 4, 5, 5]);
    }
}
