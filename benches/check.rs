//! Parse + check throughput on generated scripts of 1,000, 10,000 and 100,000 workflows in
//! the style of the examples (a look-up with an else branch, a ticket, a write-back per
//! group of three). Run: `cargo bench --bench check`. Criterion reports time and MiB/s;
//! growth is linear when the 100k time is about 10x the 10k time.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use callhook::check::{check, Options};
use callhook::parse::parse_program;

pub fn script(workflows: usize) -> String {
    let mut s = String::with_capacity(workflows * 300);
    for g in 0..workflows.div_ceil(3) {
        s.push_str(&format!(
            r#"# group {g}
workflow "lookup {g}" on AgentConnected <
  GET "https://crm.example.com/contacts"
  query phone = "$CALLER_ID_E164$"
  header Authorization = "Bearer $env.CRM_TOKEN$"
  map CRM_ID_{g} = contacts[0].id required
  map TIER_{g} = contacts[0].tier
> else <
  POST "https://crm.example.com/contacts" body {{ "phone": "$CALLER_ID_E164$" }} map CRM_ID_{g} = id
>
workflow "ticket {g}" on AgentConnected order 1 <
  POST "https://crm.example.com/tickets" header Idempotency-Key = "$callId$-{g}"
  body {{ "contact": "$CRM_ID_{g}$", "queue": "$QUEUE_NAME$", "agent": "$AGENT_NAME$" }}
  retry 2 map TICKET_{g} = ticket.id
>
workflow "write-back {g}" on CallEnded when $TICKET_{g}$ <
  POST "https://crm.example.com/tickets/$TICKET_{g}$/notes"
  body {{ "tier": "$TIER_{g}?standard$", "summary": "$CALL_SUMMARY?$", "sec": "$CALL_HANDLE_TIME$" }}
>
"#
        ));
    }
    s
}

fn parse_and_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse+check");
    group.sample_size(10);
    for n in [1_000, 10_000, 100_000] {
        let text = script(n);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let (s, d) = parse_program(&[(0, text)]);
                assert!(d.is_empty());
                let d = check(&s, &Options::default());
                assert!(d.is_empty(), "{:?}", d.first());
                s.workflows.len()
            })
        });
    }
    group.finish();
}

fn parse_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    let text = script(10_000);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("10000", |b| {
        b.iter(|| parse_program(&[(0, &text)]).0.workflows.len())
    });
    group.finish();
}

/// Inputs that could go quadratic: one long line of tokens, many syntax errors.
fn pathological(c: &mut Criterion) {
    let mut group = c.benchmark_group("pathological");
    group.sample_size(10);
    for n in [10_000, 100_000] {
        let tokens = format!("on CallEnded < GET \"https://x/{}\" >", "$a$".repeat(n));
        let broken = "on X < GET \"https://x\" timeout >\n".repeat(n / 10);
        for (name, text) in [("tokens", tokens), ("syntax-errors", broken)] {
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(BenchmarkId::new(name, n), &text, |b, text| {
                b.iter(|| {
                    callhook::program::Program::from_text("x", text)
                        .diagnostics
                        .len()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, parse_and_check, parse_only, pathological);
criterion_main!(benches);
