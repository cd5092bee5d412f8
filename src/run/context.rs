//! One call's state: its variables (with where each came from), its place in the
//! lifecycle, and its outcomes so far.

use std::collections::BTreeMap;

use serde::Serialize;

use super::outcome::Outcome;
use crate::model::Trigger;

/// Where a variable's value came from (shown by the REPL's `:vars`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The call event's `vars`.
    Event,
    /// A `map` clause of this workflow (or `repl` for a bare action). Shared: one string
    /// per workflow, however many values it stores.
    Workflow(std::sync::Arc<str>),
    /// The REPL's `:set`.
    Set,
}

#[derive(Clone, Debug, Default)]
pub struct Vars {
    map: BTreeMap<String, (String, Origin)>,
}

impl Vars {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(|(v, _)| v.as_str())
    }

    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.map.get(name).map(|(_, o)| o)
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>, origin: Origin) {
        match self.map.get_mut(name) {
            Some(slot) => *slot = (value.into(), origin),
            None => {
                self.map.insert(name.to_string(), (value.into(), origin));
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> bool {
        self.map.remove(name).is_some()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// `$X$` in a condition: set and not empty.
    pub fn is_truthy(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty())
    }

    /// In name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Origin)> {
        self.map
            .iter()
            .map(|(k, (v, o))| (k.as_str(), v.as_str(), o))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct Call {
    /// Shared with every outcome record of the call.
    pub id: std::sync::Arc<str>,
    /// The last event applied to the call; `None` before the first.
    pub last: Option<Trigger>,
    pub vars: Vars,
    /// Earlier outcome records, for `body call`.
    pub outcomes: Vec<Outcome>,
}

impl Call {
    pub fn new(id: impl Into<String>) -> Call {
        let id = id.into();
        let mut vars = Vars::default();
        vars.set("callId", id.clone(), Origin::Event);
        Call {
            id: id.into(),
            last: None,
            vars,
            outcomes: Vec::new(),
        }
    }
}
