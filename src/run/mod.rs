//! Running a script against call events (SPEC section 6): each call has its own context;
//! calls run concurrently, the events of one call strictly in order.

pub mod context;
pub mod engine;
pub mod events;
pub mod http;
pub mod map;
pub mod outcome;
pub mod secrets;
pub mod stubs;
pub mod template;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::{mpsc, Semaphore};

use crate::model::{lifecycle, Trigger};
use context::Call;
use engine::Engine;
use events::Event;
use outcome::{Outcome, Summary};

/// How the run reports.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    pub json: bool,
    pub color: bool,
}

/// Default number of calls whose events run at the same time.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Per call seen so far: its last event, and the way to its task (gone after CallEnded).
/// Events are boxed: a channel allocates room for 32 messages at once, one channel a call.
type CallState = (Option<Trigger>, Option<mpsc::UnboundedSender<Box<Event>>>);

enum Line {
    /// An outcome, already rendered and redacted (in the call's task, so that rendering
    /// runs in parallel).
    Outcome {
        text: String,
        succeeded: bool,
        reason: Option<outcome::Reason>,
    },
    Rejected {
        line: usize,
        call: Option<String>,
        message: String,
    },
    Skipped {
        call: String,
        event: Trigger,
        workflow: String,
    },
    Processed {
        failed: usize,
    },
}

/// Reads events from `input`, runs them, writes the trace (or JSON lines) to `out`, and
/// returns the summary. Secrets are redacted from every line written.
pub async fn run_events<R, W>(
    engine: Arc<Engine>,
    input: R,
    concurrency: usize,
    report: Report,
    out: W,
) -> Summary
where
    R: AsyncBufRead + Unpin,
    W: std::io::Write + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel::<Line>();
    let printer = tokio::spawn({
        let redactor = engine.redactor.clone();
        print_lines(rx, out, report, redactor)
    });
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut calls: HashMap<String, CallState> = HashMap::new();
    let mut tasks = Vec::new();
    let mut input = input;
    // One buffer for every line.
    let mut buf = String::new();
    let mut n = 0;
    loop {
        buf.clear();
        let text = match input.read_line(&mut buf).await {
            Ok(0) => break,
            Ok(_) => buf.strip_suffix('\n').unwrap_or(&buf),
            Err(e) => {
                let _ = tx.send(Line::Rejected {
                    line: n + 1,
                    call: None,
                    message: format!("cannot read the events: {e}"),
                });
                break;
            }
        };
        n += 1;
        let event = match events::parse_line(n, text) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(message) => {
                let _ = tx.send(Line::Rejected {
                    line: n,
                    call: None,
                    message,
                });
                continue;
            }
        };
        if !calls.contains_key(&event.call) {
            calls.insert(event.call.clone(), (None, None));
        }
        let Some(entry) = calls.get_mut(&event.call) else {
            continue;
        };
        if !lifecycle::can_follow(entry.0, event.trigger) {
            let _ = tx.send(Line::Rejected {
                line: n,
                call: Some(event.call.clone()),
                message: engine::lifecycle_error(entry.0, event.trigger),
            });
            continue;
        }
        entry.0 = Some(event.trigger);
        let sender = entry.1.get_or_insert_with(|| {
            let (etx, erx) = mpsc::unbounded_channel();
            tasks.push(tokio::spawn(run_call(
                engine.clone(),
                event.call.clone(),
                erx,
                permits.clone(),
                tx.clone(),
                report,
            )));
            etx
        });
        let ended = event.trigger == Trigger::CallEnded;
        let _ = sender.send(Box::new(event));
        if ended {
            entry.1 = None; // nothing may follow: the call's task ends when it is done
        }
    }
    drop(calls);
    for t in tasks {
        let _ = t.await;
    }
    drop(tx);
    printer.await.unwrap_or_default()
}

async fn run_call(
    engine: Arc<Engine>,
    id: String,
    mut events: mpsc::UnboundedReceiver<Box<Event>>,
    permits: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Line>,
    report: Report,
) {
    let mut call = Call::new(id);
    while let Some(mut e) = events.recv().await {
        let Ok(_permit) = permits.acquire().await else {
            return;
        };
        let sink = tx.clone();
        let redactor = engine.redactor.clone();
        let mut on_outcome = |o: &Outcome| {
            let text = if report.json {
                outcome_json_line(o)
            } else {
                o.human(report.color)
            };
            let _ = sink.send(Line::Outcome {
                text: redactor.redact_owned(text),
                succeeded: o.succeeded(),
                reason: o.reason,
            });
        };
        match engine
            .fire(
                &mut call,
                e.trigger,
                e.scope.as_deref(),
                std::mem::take(&mut e.vars),
                &mut on_outcome,
            )
            .await
        {
            Ok(fired) => {
                for w in fired.skipped {
                    let _ = tx.send(Line::Skipped {
                        call: call.id.to_string(),
                        event: e.trigger,
                        workflow: w,
                    });
                }
                let _ = tx.send(Line::Processed {
                    failed: fired.workflows_failed,
                });
            }
            Err(message) => {
                let _ = tx.send(Line::Rejected {
                    line: e.line,
                    call: Some(call.id.to_string()),
                    message,
                });
            }
        }
    }
}

/// `{"type":"outcome",` then the record's own fields, and a newline: one buffer, written
/// once (this runs for every action).
fn outcome_json_line(o: &Outcome) -> String {
    let mut buf = Vec::with_capacity(384);
    buf.extend_from_slice(b"{\"type\":\"outcome\"");
    let start = buf.len();
    if serde_json::to_writer(&mut buf, o).is_ok() && buf.get(start) == Some(&b'{') {
        // The record's own `{` becomes the comma after "type"; an empty record stays `{}`.
        if buf.get(start + 1) == Some(&b'}') {
            buf.remove(start);
        } else {
            buf[start] = b',';
        }
    } else {
        buf.truncate(start);
        buf.push(b'}');
    }
    buf.push(b'\n');
    // serde_json writes UTF-8 only.
    String::from_utf8(buf).unwrap_or_default()
}

/// Writes the lines as they come, in batches (a wake-up per line would cost more than the
/// line), and counts them for the summary.
async fn print_lines<W: std::io::Write>(
    mut rx: mpsc::UnboundedReceiver<Line>,
    mut out: W,
    report: Report,
    redactor: secrets::Redactor,
) -> Summary {
    let mut summary = Summary::default();
    let mut batch = Vec::with_capacity(256);
    while rx.recv_many(&mut batch, 256).await > 0 {
        for line in batch.drain(..) {
            print_line(line, &mut out, report, &redactor, &mut summary);
        }
        let _ = out.flush();
    }
    summary
}

fn print_line<W: std::io::Write>(
    line: Line,
    out: &mut W,
    report: Report,
    redactor: &secrets::Redactor,
    summary: &mut Summary,
) {
    {
        let text = match line {
            Line::Outcome {
                text,
                succeeded,
                reason,
            } => {
                summary.add(succeeded, reason);
                let _ = out.write_all(text.as_bytes());
                return;
            }
            Line::Rejected {
                line,
                call,
                message,
            } => {
                summary.events_rejected += 1;
                if report.json {
                    format!(
                        "{}\n",
                        json!({"type": "rejected", "line": line, "call": call, "error": message})
                    )
                } else {
                    let (on, off) = if report.color {
                        ("\x1b[31m", "\x1b[0m")
                    } else {
                        ("", "")
                    };
                    format!("{on}rejected{off} line {line}: {message}\n")
                }
            }
            Line::Skipped {
                call,
                event,
                workflow,
            } => {
                summary.workflows_skipped += 1;
                if report.json {
                    format!(
                        "{}\n",
                        json!({"type": "skipped", "call": call, "event": event.as_str(), "workflow": workflow})
                    )
                } else {
                    format!("{call} {event} {workflow}: skipped (`when` is false)\n")
                }
            }
            Line::Processed { failed } => {
                summary.events_processed += 1;
                summary.workflows_failed += failed;
                return;
            }
        };
        let _ = out.write_all(redactor.redact(&text).as_bytes());
    }
}
