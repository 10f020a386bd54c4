//! Listener rule priorities, allocated rather than hashed: priorities are unique per listener,
//! and a hash of the host name (what earlier versions used) gives two services the same one
//! once in a while, which fails the second service's stack.

use crate::cloud::ListenerRule;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// ALB listener rule priorities are 1 to 50,000.
pub const MAX_PRIORITY: u32 = 50_000;

/// Host name → priority of its rule.
pub type Priorities = BTreeMap<String, u32>;

/// Priorities for the rules of `hosts` on a listener that has the rules `existing`: a host
/// that has a rule already keeps its priority (so an update moves nothing); a new host gets a
/// priority no rule has, the first free one from a point derived from its name, so that
/// services created at the same time, which all see the same rules, rarely reach for the same
/// priority (and when they do, the loser allocates again: see [`is_priority_conflict`]).
pub fn allocate(hosts: &[String], existing: &[ListenerRule]) -> Result<Priorities, String> {
    let mut taken: BTreeSet<u32> = existing.iter().map(|r| r.priority).collect();
    let mut out = Priorities::new();
    for host in hosts {
        let host = host.to_ascii_lowercase();
        if let Some(rule) = existing.iter().find(|r| r.hosts.contains(&host)) {
            out.insert(host, rule.priority);
            continue;
        }
        if taken.len() as u32 >= MAX_PRIORITY {
            return Err(format!(
                "the project's HTTPS listener has {MAX_PRIORITY} rules, the most a listener can have: no rule for {host} fits"
            ));
        }
        let start = start_of(&host);
        let priority = (0..MAX_PRIORITY)
            .map(|i| (start - 1 + i) % MAX_PRIORITY + 1)
            .find(|p| !taken.contains(p))
            .expect("a free priority exists: fewer rules than priorities");
        taken.insert(priority);
        out.insert(host, priority);
    }
    Ok(out)
}

/// Where the search for a free priority starts for `host`: 1 to 50,000.
fn start_of(host: &str) -> u32 {
    let digest = Sha256::digest(host.as_bytes());
    1 + u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % MAX_PRIORITY
}

/// CloudFormation's reason when a rule's priority was taken meanwhile (ELB
/// `PriorityInUse: Priority '42' is currently in use`).
pub fn is_priority_conflict(reason: &str) -> bool {
    reason.contains("PriorityInUse") || reason.contains("is currently in use")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(priority: u32, host: &str) -> ListenerRule {
        ListenerRule {
            priority,
            hosts: vec![host.to_string()],
        }
    }

    #[test]
    fn existing_rules_keep_their_priority_and_new_ones_avoid_every_taken_one() {
        let web = "web--80.shop.alice.defang.app".to_string();
        let api = "api--80.shop.alice.defang.app".to_string();
        // The priority a hash would give `api` is taken by someone else's rule.
        let theirs = rule(start_of(&api), "other.example.com");
        let mine = rule(7, &web);
        let got = allocate(&[web.clone(), api.clone()], &[theirs.clone(), mine]).unwrap();
        assert_eq!(got[&web], 7);
        assert_ne!(got[&api], theirs.priority);
        assert_eq!(got[&api], start_of(&api) % MAX_PRIORITY + 1);
        // Stable: the same rules give the same answer.
        assert_eq!(
            got,
            allocate(&[web.clone(), api.clone()], &[theirs, rule(7, &web)]).unwrap()
        );
    }

    #[test]
    fn hosts_of_one_service_never_share_a_priority() {
        // Force every host's start onto one taken priority chain.
        let hosts: Vec<String> = (0..200)
            .map(|i| format!("s{i}--80.p.u.defang.app"))
            .collect();
        let existing: Vec<ListenerRule> = (1..=MAX_PRIORITY - 300)
            .map(|p| rule(p, &format!("x{p}")))
            .collect();
        let got = allocate(&hosts, &existing).unwrap();
        let unique: BTreeSet<u32> = got.values().copied().collect();
        assert_eq!(unique.len(), hosts.len());
        assert!(
            unique
                .iter()
                .all(|p| *p > MAX_PRIORITY - 300 && *p <= MAX_PRIORITY)
        );
    }

    #[test]
    fn a_full_listener_is_an_error_not_a_panic() {
        let existing: Vec<ListenerRule> = (1..=MAX_PRIORITY)
            .map(|p| rule(p, &format!("x{p}")))
            .collect();
        let err = allocate(&["new.example.com".to_string()], &existing).unwrap_err();
        assert!(err.contains("50000 rules"), "{err}");
        // A host that has its rule still fits.
        assert!(allocate(&["x9".to_string()], &existing).is_ok());
    }

    #[test]
    fn conflicts_are_recognised() {
        assert!(is_priority_conflict(
            "HostRule80 (AWS::ElasticLoadBalancingV2::ListenerRule): Priority '42' is currently in use"
        ));
        assert!(!is_priority_conflict("Resource limit exceeded"));
    }
}
