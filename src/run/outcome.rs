//! Outcome records: one per action run, as a readable trace line or a JSON line.

use std::collections::BTreeMap;

use serde::Serialize;

/// Why an action failed (SPEC section 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    AuthenticationFailure,
    Timeout,
    InvalidFlowVar,
    InvalidRequest,
    InvalidResponse,
    InvalidResponseMap,
    HttpError,
    NetworkError,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AuthenticationFailure => "AUTHENTICATION_FAILURE",
            Reason::Timeout => "TIMEOUT",
            Reason::InvalidFlowVar => "INVALID_FLOW_VAR",
            Reason::InvalidRequest => "INVALID_REQUEST",
            Reason::InvalidResponse => "INVALID_RESPONSE",
            Reason::InvalidResponseMap => "INVALID_RESPONSE_MAP",
            Reason::HttpError => "HTTP_ERROR",
            Reason::NetworkError => "NETWORK_ERROR",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub call: std::sync::Arc<str>,
    pub event: &'static str,
    pub workflow: std::sync::Arc<str>,
    /// `main` or `else`.
    pub block: &'static str,
    pub method: &'static str,
    /// The URL as sent, secrets redacted (empty when it could not be built).
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub attempts: u32,
    /// `SUCCESS` or `FAILED`.
    pub result: &'static str,
    pub reason: Option<Reason>,
    /// What went wrong, in words (secrets redacted).
    pub error: Option<String>,
    /// The variables this action stored.
    pub stored: BTreeMap<String, String>,
    /// `--dry-run`: the request that would have been sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.result == "SUCCESS"
    }

    /// One trace line (and, for a failure or a dry run, the details on the next ones).
    pub fn human(&self, color: bool) -> String {
        let (on, off) = if !color {
            ("", "")
        } else if self.succeeded() {
            ("\x1b[32m", "\x1b[0m")
        } else {
            ("\x1b[31m", "\x1b[0m")
        };
        let status = self.status.map_or("-".to_string(), |s| s.to_string());
        let mut line = format!(
            "{call} {event} {workflow}{block}: {method} {url} -> {status} {ms}ms {on}{result}{off}",
            call = self.call,
            event = self.event,
            workflow = self.workflow,
            block = if self.block == "else" { " (else)" } else { "" },
            method = self.method,
            url = self.url,
            ms = self.duration_ms,
            result = self.result,
        );
        if self.attempts > 1 {
            line.push_str(&format!(" after {} attempts", self.attempts));
        }
        for (k, v) in &self.stored {
            line.push_str(&format!(" {k}={}", short(v)));
        }
        line.push('\n');
        if let Some(reason) = self.reason {
            line.push_str(&format!(
                "    {on}{}{off}: {}\n",
                reason.as_str(),
                self.error.as_deref().unwrap_or("")
            ));
        }
        if let Some(req) = &self.dry_run {
            for l in req.lines() {
                line.push_str(&format!("    | {l}\n"));
            }
        }
        line
    }
}

fn short(v: &str) -> String {
    let one_line = v.replace('\n', "\\n");
    if one_line.chars().count() > 60 {
        format!("{}...", one_line.chars().take(57).collect::<String>())
    } else if one_line.contains(' ') || one_line.is_empty() {
        format!("{one_line:?}")
    } else {
        one_line
    }
}

/// Counts for the end-of-run summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub events_processed: usize,
    pub events_rejected: usize,
    pub actions_succeeded: usize,
    pub actions_failed: usize,
    pub workflows_failed: usize,
    pub workflows_skipped: usize,
    pub failed_by_reason: BTreeMap<String, usize>,
}

impl Summary {
    pub fn add(&mut self, succeeded: bool, reason: Option<Reason>) {
        if succeeded {
            self.actions_succeeded += 1;
        } else {
            self.actions_failed += 1;
            if let Some(r) = reason {
                *self
                    .failed_by_reason
                    .entry(r.as_str().to_string())
                    .or_default() += 1;
            }
        }
    }

    pub fn human(&self) -> String {
        let mut s = format!(
            "{} events processed, {} rejected; {} actions succeeded, {} failed; {} workflows failed, {} skipped by `when`",
            self.events_processed,
            self.events_rejected,
            self.actions_succeeded,
            self.actions_failed,
            self.workflows_failed,
            self.workflows_skipped
        );
        if !self.failed_by_reason.is_empty() {
            let per: Vec<String> = self
                .failed_by_reason
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            s.push_str(&format!(" ({})", per.join(", ")));
        }
        s
    }

    /// Exit code 0 or 1 (SPEC section 6).
    pub fn exit_code(&self) -> u8 {
        u8::from(self.events_rejected > 0 || self.workflows_failed > 0)
    }
}
