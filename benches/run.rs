//! `run` throughput against a fast local keep-alive server, next to a bare reqwest client
//! sending the same requests at the same concurrency, in the same process; and the cost of
//! rendering + mapping one action. Run: `cargo bench --bench run` (CALLS=N to change the
//! number of calls; default 10,000, i.e. 20,000 requests; ONLY=callhook or ONLY=bare to
//! run one side alone, e.g. under perf).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::routing::{get, post};
use axum::Json;
use serde_json::{json, Value};

use callhook::program::Program;
use callhook::run::engine::Engine;
use callhook::run::http::{Response, Transport};
use callhook::run::secrets::{Env, Redactor};
use callhook::run::{context::Vars, map, run_events, template, Report};

const CONCURRENCY: usize = 64;

/// The system allocator, counting allocations: a figure that, unlike time, does not move
/// with the machine's noise.
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Off during the render + map micro-benchmark, whose nanoseconds the counting would skew.
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn count() {
    if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count();
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        count();
        unsafe { std::alloc::System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

async fn server() -> String {
    let app = axum::Router::new()
        .route(
            "/contacts/{phone}",
            get(|Path(p): Path<String>| async move {
                Json(json!({"id": format!("C-{p}"), "tier": "gold", "name": "x"}))
            }),
        )
        .route(
            "/notes",
            post(|Json(_): Json<Value>| async { Json(json!({"ok": true})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Counts the connections the clients open (a keep-alive client opens few).
    let listener = axum::serve::ListenerExt::tap_io(listener, |_| {
        CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn connections() -> u64 {
    CONNECTIONS.load(std::sync::atomic::Ordering::Relaxed)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

/// The run's time, and the allocations made during it.
async fn callhook_run(base: &str, calls: usize) -> (Duration, u64) {
    let script = format!(
        r#"workflow "look-up" on AgentConnected < GET "{base}/contacts/$CALLER_ID_E164$" map CRM_ID = id map TIER = tier >
           workflow "write-back" on CallEnded when $CRM_ID$ < POST "{base}/notes" body {{ "id": "$CRM_ID$", "tier": "$TIER?$", "secs": "$CALL_HANDLE_TIME$" }} >"#
    );
    let program = Program::from_text("bench.hook", &script);
    assert!(!program.has_errors());
    let engine = Engine::new(
        program.script,
        Transport::http().unwrap(),
        Env::default(),
        Redactor::default(),
        false,
    );
    let mut events = String::new();
    for i in 0..calls {
        events += &format!("{{\"call\":\"c{i}\",\"event\":\"AgentConnected\",\"vars\":{{\"CALLER_ID_E164\":\"+336{i:08}\"}}}}\n");
    }
    for i in 0..calls {
        events += &format!("{{\"call\":\"c{i}\",\"event\":\"CallEnded\",\"vars\":{{\"CALL_HANDLE_TIME\":\"{i}\"}}}}\n");
    }
    let a0 = allocations();
    let t = Instant::now();
    let summary = run_events(
        Arc::new(engine),
        tokio::io::BufReader::new(events.as_bytes()),
        CONCURRENCY,
        Report {
            json: true,
            color: false,
        },
        std::io::sink(),
    )
    .await;
    let elapsed = t.elapsed();
    let allocated = allocations() - a0;
    assert_eq!(summary.actions_succeeded, 2 * calls, "{summary:?}");
    (elapsed, allocated)
}

async fn bare_reqwest(base: &str, calls: usize) -> Duration {
    let client = reqwest::Client::new();
    let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(calls);
    for i in 0..calls {
        let (client, sem, base) = (client.clone(), sem.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let id = {
                let _p = sem.acquire().await.unwrap();
                let v: Value = client
                    .get(format!("{base}/contacts/%2B336{i:08}"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["tier"].as_str().unwrap().to_string(),
                )
            };
            let _p = sem.acquire().await.unwrap();
            let body = json!({"id": id.0, "tier": id.1, "secs": i.to_string()});
            let r = client
                .post(format!("{base}/notes"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            r.bytes().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    t.elapsed()
}

/// Render a URL with one token and a JSON body with three, then read two mapped fields
/// out of a small JSON response (parse included).
fn render_and_map(iterations: u32) -> Duration {
    let program = Program::from_text(
        "m.hook",
        r#"on AgentConnected < POST "https://crm.example.com/contacts/$CALLER_ID_E164$/notes" body { "a": "$AGENT_NAME$", "q": "$QUEUE_NAME$" } map CRM_ID = contacts[0].id map TIER = contacts[0].tier >"#,
    );
    let action = &program.script.workflows[0].main;
    let mut vars = Vars::default();
    vars.set(
        "CALLER_ID_E164",
        "+33612345678",
        callhook::run::context::Origin::Event,
    );
    vars.set(
        "AGENT_NAME",
        "Alice \"A\"",
        callhook::run::context::Origin::Event,
    );
    vars.set(
        "QUEUE_NAME",
        "Support",
        callhook::run::context::Origin::Event,
    );
    let env = Env::default();
    let response = Response {
        status: 200,
        headers: vec![],
        body: br#"{"contacts":[{"id":"C-1001","tier":"gold"}]}"#.to_vec(),
    };
    let callhook::ast::Body::Json(body) = &action.body.as_ref().unwrap().node else {
        unreachable!()
    };
    let body_templates = {
        let mut v = vec![];
        body.node.templates(&mut v);
        v
    };
    let t = Instant::now();
    let mut total = 0usize;
    for _ in 0..iterations {
        let url = template::render(&action.url, template::Encoding::Url, &vars, &env).unwrap();
        total += url.len();
        for bt in &body_templates {
            total += template::render(bt, template::Encoding::Raw, &vars, &env)
                .unwrap()
                .len();
        }
        let facts = map::Facts {
            response: Some(&response),
            duration_ms: 1,
            success: true,
            reason: None,
        };
        let mut parsed = map::Body::default();
        for m in &action.maps {
            total += map::read(&m.path.node, &facts, &mut parsed)
                .unwrap()
                .map_or(0, |v| v.len());
        }
    }
    let elapsed = t.elapsed();
    assert!(total > 0);
    elapsed
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with no argument.
    let quick = !std::env::args().any(|a| a == "--bench");
    let calls: usize = std::env::var("CALLS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(if quick { 200 } else { 10_000 });
    let iterations = if quick { 1_000 } else { 200_000 };
    let micro = render_and_map(iterations);
    println!(
        "render+map per action: {:.0} ns ({iterations} iterations)",
        micro.as_nanos() as f64 / iterations as f64
    );

    COUNTING.store(true, std::sync::atomic::Ordering::Relaxed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let base = server().await;
        // Warm up both (connections, allocator).
        callhook_run(&base, calls / 10 + 1).await;
        bare_reqwest(&base, calls / 10 + 1).await;
        // ONLY=callhook or ONLY=bare runs one side alone, e.g. under a profiler.
        match std::env::var("ONLY").as_deref() {
            Ok("callhook") => return println!("{:.2?}", callhook_run(&base, calls).await.0),
            Ok("bare") => return println!("{:.2?}", bare_reqwest(&base, calls).await),
            _ => {}
        }
        let before = peak_rss_kib();
        let c0 = connections();
        let (ours, ours_allocations) = callhook_run(&base, calls).await;
        let peak = peak_rss_kib();
        let c1 = connections();
        let a1 = allocations();
        let bare = bare_reqwest(&base, calls).await;
        let a2 = allocations();
        let c2 = connections();
        let requests = 2 * calls;
        let ours_rate = requests as f64 / ours.as_secs_f64();
        let bare_rate = requests as f64 / bare.as_secs_f64();
        println!("calls: {calls} ({requests} requests), concurrency {CONCURRENCY}");
        println!("callhook run:  {ours_rate:>9.0} requests/s ({ours:.2?})");
        println!("bare reqwest:  {bare_rate:>9.0} requests/s ({bare:.2?})");
        println!("ratio callhook/bare: {:.2}", ours_rate / bare_rate);
        // Server side included on both sides (same server, same requests).
        println!(
            "allocations per request (client and server): callhook {:.1}, bare {:.1}",
            ours_allocations as f64 / requests as f64,
            (a2 - a1) as f64 / requests as f64
        );
        println!("connections opened: callhook {}, bare {}", c1 - c0, c2 - c1);
        println!(
            "peak RSS: {} MiB (before the measured run: {} MiB)",
            peak / 1024,
            before / 1024
        );
    });
}
