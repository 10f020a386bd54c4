//! The project stacks that Check reads, looked up once per project for a while in a provider
//! process: a preview of a thousand services of one project makes one DescribeStacks, not a
//! thousand, and the lookups that arrive together share one call. Check only advises (the
//! deploy reads the stack again), so a minute-old answer is good enough; a project created,
//! updated or deleted by this process is forgotten at once, and errors are not kept.

use crate::cloud::{CloudError, StackState, Stacks};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// How long a project stack read by Check is reused.
pub const KEEP_FOR: Duration = Duration::from_secs(60);

type Entry = Arc<OnceCell<(Instant, Option<StackState>)>>;

#[derive(Default)]
pub struct ProjectLookups {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ProjectLookups {
    /// The stack `name` as DescribeStacks gave it less than [`KEEP_FOR`] ago.
    pub async fn get(
        &self,
        stacks: &dyn Stacks,
        name: &str,
    ) -> Result<Option<StackState>, CloudError> {
        let entry = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let entry = entries.entry(name.to_string()).or_default();
            if entry.get().is_some_and(|(at, _)| at.elapsed() >= KEEP_FOR) {
                *entry = Entry::default();
            }
            entry.clone()
        };
        let (_, stack) = entry
            .get_or_try_init(|| async {
                let stack = stacks.describe_stack(name).await?;
                Ok::<_, CloudError>((Instant::now(), stack))
            })
            .await?;
        Ok(stack.clone())
    }

    /// Forgets `name` (this process changed it).
    pub fn forget(&self, name: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    /// Forgets `name` now and again when the guard goes, however the operation that changes
    /// the stack ends (a Check during it may have read a state in between).
    pub fn changing<'a>(&'a self, name: &str) -> Changing<'a> {
        self.forget(name);
        Changing {
            lookups: self,
            name: name.to_string(),
        }
    }
}

/// See [`ProjectLookups::changing`].
pub struct Changing<'a> {
    lookups: &'a ProjectLookups,
    name: String,
}

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        self.lookups.forget(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeStacks;

    fn describes(stacks: &FakeStacks) -> usize {
        stacks
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| *c == "DescribeStacks")
            .count()
    }

    #[tokio::test(start_paused = true)]
    async fn one_call_answers_many_lookups_until_it_is_old_or_forgotten() {
        let stacks = Arc::new(FakeStacks::with_project("shop"));
        let lookups = Arc::new(ProjectLookups::default());
        // A hundred Checks at once share one call.
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (stacks, lookups) = (stacks.clone(), lookups.clone());
                tokio::spawn(async move { lookups.get(stacks.as_ref(), "defang-shop").await })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().unwrap().is_some());
        }
        assert_eq!(describes(&stacks), 1);
        // A missing project is kept too (a preview of a new project and its services).
        assert!(
            lookups
                .get(stacks.as_ref(), "defang-new")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            lookups
                .get(stacks.as_ref(), "defang-new")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(describes(&stacks), 2);
        // Forgotten while and after this process changes it; read again after a minute.
        {
            let _changing = lookups.changing("defang-shop");
            lookups.get(stacks.as_ref(), "defang-shop").await.unwrap();
            assert_eq!(describes(&stacks), 3);
        }
        lookups.get(stacks.as_ref(), "defang-shop").await.unwrap();
        assert_eq!(describes(&stacks), 4);
        lookups.get(stacks.as_ref(), "defang-shop").await.unwrap();
        assert_eq!(describes(&stacks), 4);
        tokio::time::advance(KEEP_FOR).await;
        lookups.get(stacks.as_ref(), "defang-shop").await.unwrap();
        assert_eq!(describes(&stacks), 5);
    }
}
