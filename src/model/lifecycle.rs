//! The call lifecycle (SPEC section 3), as one graph:
//!
//! ```text
//! call in ──► AgentDeclined (0..n) ──► AgentConnected ──► CallConnected (0..1) ──► CallEnded
//!                                  ├─► CustomerAbandoned ───────────────────────► CallEnded
//!                                  └────────────────────────────────────────────► CallEnded
//! ```
//!
//! The interpreter asks [`can_follow`] whether an event may come next on a call; the checker
//! asks [`paths_to`] which triggers may have fired before a trigger.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    AgentDeclined,
    AgentConnected,
    CallConnected,
    CustomerAbandoned,
    CallEnded,
}

impl Trigger {
    /// In lifecycle order (the order of the variable table's columns).
    pub const ALL: [Trigger; 5] = [
        Trigger::AgentDeclined,
        Trigger::AgentConnected,
        Trigger::CallConnected,
        Trigger::CustomerAbandoned,
        Trigger::CallEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::AgentDeclined => "AgentDeclined",
            Trigger::AgentConnected => "AgentConnected",
            Trigger::CallConnected => "CallConnected",
            Trigger::CustomerAbandoned => "CustomerAbandoned",
            Trigger::CallEnded => "CallEnded",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Index into per-trigger tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the trigger can fire more than once on a call.
    pub fn repeats(self) -> bool {
        self == Trigger::AgentDeclined
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use Trigger::*;

/// The edges of the lifecycle graph. `None` is the start of the call.
const EDGES: &[(Option<Trigger>, Trigger)] = &[
    (None, AgentDeclined),
    (None, AgentConnected),
    (None, CustomerAbandoned),
    (None, CallEnded),
    (Some(AgentDeclined), AgentDeclined),
    (Some(AgentDeclined), AgentConnected),
    (Some(AgentDeclined), CustomerAbandoned),
    (Some(AgentDeclined), CallEnded),
    (Some(AgentConnected), CallConnected),
    (Some(AgentConnected), CallEnded),
    (Some(CallConnected), CallEnded),
    (Some(CustomerAbandoned), CallEnded),
];

/// Whether `next` may come on a call whose last event was `last` (`None`: no event yet).
pub fn can_follow(last: Option<Trigger>, next: Trigger) -> bool {
    EDGES.contains(&(last, next))
}

/// The events that may come after `last`, for error messages.
pub fn successors(last: Option<Trigger>) -> Vec<Trigger> {
    EDGES
        .iter()
        .filter(|(from, _)| *from == last)
        .map(|(_, to)| *to)
        .collect()
}

/// Every way a call can reach `target`: the triggers that fired before it, in order, with a
/// repeating trigger (AgentDeclined) listed once for "one or more earlier times".
/// For `CallConnected`: `[[AgentConnected], [AgentDeclined, AgentConnected]]`.
pub fn paths_to(target: Trigger) -> Vec<Vec<Trigger>> {
    fn walk(
        last: Option<Trigger>,
        target: Trigger,
        path: &mut Vec<Trigger>,
        out: &mut Vec<Vec<Trigger>>,
    ) {
        for &(from, to) in EDGES {
            if from != last {
                continue;
            }
            if to == target {
                out.push(path.clone());
            }
            if path.contains(&to) || Some(to) == last {
                continue; // a repeat is already stood for by the one entry
            }
            path.push(to);
            walk(Some(to), target, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(None, target, &mut Vec::new(), &mut out);
    out.sort();
    out.dedup();
    out
}

/// Whether `a` and `b` never both fire on one call.
pub fn excludes(a: Trigger, b: Trigger) -> bool {
    a != b
        && !paths_to(a).iter().any(|p| p.contains(&b))
        && !paths_to(b).iter().any(|p| p.contains(&a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec_diagram() {
        assert_eq!(paths_to(AgentDeclined), vec![vec![], vec![AgentDeclined]]);
        assert_eq!(paths_to(AgentConnected), vec![vec![], vec![AgentDeclined]]);
        assert_eq!(
            paths_to(CallConnected),
            vec![vec![AgentDeclined, AgentConnected], vec![AgentConnected]]
        );
        let ended = paths_to(CallEnded);
        assert_eq!(ended.len(), 8);
        assert!(ended.contains(&vec![]));
        assert!(ended.contains(&vec![AgentDeclined, CustomerAbandoned]));
        assert!(ended.contains(&vec![AgentConnected, CallConnected]));
    }

    #[test]
    fn ordering_rules() {
        assert!(can_follow(None, AgentConnected));
        assert!(can_follow(Some(AgentDeclined), AgentDeclined));
        assert!(!can_follow(Some(CustomerAbandoned), AgentConnected));
        assert!(!can_follow(Some(CallEnded), CallEnded));
        assert!(!can_follow(None, CallConnected));
        assert!(excludes(AgentConnected, CustomerAbandoned));
        assert!(excludes(CallConnected, CustomerAbandoned));
        assert!(!excludes(AgentConnected, CallEnded));
    }
}
