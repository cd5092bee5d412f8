//! The built-in variable table (SPEC section 4): which variables a call event fills, and at
//! which triggers each one is always set, set on some calls only, or never set.

use super::lifecycle::Trigger;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Always set at this trigger.
    Yes,
    /// Set on some calls only; the text says which.
    Maybe(&'static str),
    /// Never set at this trigger.
    Never,
}

#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    /// Indexed by [`Trigger::index`]: Declined, AgentConnected, CallConnected, Abandoned, CallEnded.
    presence: [Presence; 5],
}

impl Builtin {
    pub fn presence(&self, at: Trigger) -> Presence {
        self.presence[at.index()]
    }

    /// The triggers at which the variable can be set at all.
    pub fn set_at(&self) -> Vec<Trigger> {
        Trigger::ALL
            .into_iter()
            .filter(|t| self.presence(*t) != Presence::Never)
            .collect()
    }
}

use Presence::{Maybe, Never, Yes};

const ALWAYS: [Presence; 5] = [Yes, Yes, Yes, Yes, Yes];
const AGENT: [Presence; 5] = [Yes, Yes, Yes, Never, Maybe("only if an agent connected")];
const ENDED: [Presence; 5] = [Never, Never, Never, Never, Yes];
const TRANSCRIPT: [Presence; 5] = [
    Never,
    Never,
    Never,
    Never,
    Maybe("only when transcription is on"),
];
const RECORDING: [Presence; 5] = [
    Never,
    Never,
    Never,
    Never,
    Maybe("only when recording is on"),
];

const fn b(name: &'static str, description: &'static str, presence: [Presence; 5]) -> Builtin {
    Builtin {
        name,
        description,
        presence,
    }
}

/// Every built-in variable, in the table's order.
pub static BUILTINS: &[Builtin] = &[
    b("callId", "unique call id", ALWAYS),
    b("tenantId", "tenant id", ALWAYS),
    b(
        "CALLER_ID",
        "caller number (digits, no +) or Teams user id",
        ALWAYS,
    ),
    b("CALLER_ID_E164", "caller number in E.164 (+33...)", ALWAYS),
    b("CALLED_NUMBER", "the number the caller dialled", ALWAYS),
    b("FLOW_NAME", "call flow name", ALWAYS),
    b("QUEUE_NAME", "first queue the call went through", ALWAYS),
    b("CALL_START_TIME", "when the call came in", ALWAYS),
    b(
        "AGENT_ID",
        "agent id (at AgentDeclined: the declining agent)",
        AGENT,
    ),
    b(
        "AGENT_NAME",
        "agent display name (at AgentDeclined: the declining agent)",
        AGENT,
    ),
    b("CALL_END_TIME", "when the call ended", ENDED),
    b("CALL_HANDLE_TIME", "talk time in seconds", ENDED),
    b("CALL_TERMINATION_REASON", "how the call ended", ENDED),
    b("CALL_SUMMARY", "AI call summary", TRANSCRIPT),
    b(
        "CALL_SENTIMENT",
        "positive / neutral / negative / mixed",
        TRANSCRIPT,
    ),
    b("TRANSCRIPT_FILE_URL", "link to the transcript", TRANSCRIPT),
    b("RECORDING_FILE_URL", "link to the recording", RECORDING),
];

/// The variables that leave the call after AgentDeclined's workflows have run.
pub const CLEARED_AFTER_DECLINED: [&str; 2] = ["AGENT_ID", "AGENT_NAME"];

pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_spec() {
        let agent = builtin("AGENT_NAME").unwrap();
        assert_eq!(agent.presence(Trigger::CustomerAbandoned), Never);
        assert!(matches!(agent.presence(Trigger::CallEnded), Maybe(_)));
        assert_eq!(
            builtin("CALL_HANDLE_TIME").unwrap().set_at(),
            vec![Trigger::CallEnded]
        );
        assert_eq!(BUILTINS.len(), 17);
        assert!(builtin("caller_id").is_none());
    }
}
