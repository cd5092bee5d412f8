//! `callhook run`

use std::io::IsTerminal;
use std::sync::Arc;

use super::{Format, RunArgs};
use crate::check::Options;
use crate::program::Program;
use crate::render;
use crate::run::engine::Engine;
use crate::run::secrets::{self, Env, Redactor};
use crate::run::{self, Report};

pub fn run(args: &RunArgs, color_choice: render::ColorChoice) -> u8 {
    let program = match Program::load(&args.scripts, &Options::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let err_color = color_choice.enabled(std::io::stderr().is_terminal());
    eprint!(
        "{}",
        render::human_all(&program.sources, &program.diagnostics, err_color)
    );
    if program.has_errors() {
        eprintln!(
            "error: the script has errors ({}); nothing was sent",
            render::summary(&program.diagnostics)
        );
        return 2;
    }
    let env = match Env::load(args.env_file.as_deref()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let needed = secrets::used_secrets(&program.script);
    let missing: Vec<&String> = needed.iter().filter(|n| env.get(n).is_none()).collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        eprintln!(
            "error: missing secret{} {}: set {} in the environment or an --env-file; nothing was sent",
            if names.len() == 1 { "" } else { "s" },
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        );
        return 2;
    }
    let certs = super::ca_certs(args.ca_cert.as_deref());
    let transport = match certs.and_then(|c| super::transport(args.stubs.as_deref(), &c)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let redactor = Redactor::new(&env, &needed, &program.script);
    let engine = Arc::new(Engine::new(
        program.script,
        transport,
        env,
        redactor,
        args.dry_run,
    ));
    let report = Report {
        json: args.format == Format::Json,
        color: color_choice.enabled(std::io::stdout().is_terminal()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 2;
        }
    };
    let concurrency = args.concurrency;
    let events = args.events.clone();
    let summary = runtime.block_on(async move {
        let out = std::io::stdout();
        if events.as_os_str() == "-" {
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            Ok(run::run_events(engine, input, concurrency, report, out).await)
        } else {
            match tokio::fs::File::open(&events).await {
                Ok(f) => Ok(run::run_events(
                    engine,
                    tokio::io::BufReader::new(f),
                    concurrency,
                    report,
                    out,
                )
                .await),
                Err(e) => Err(format!("cannot read {}: {e}", events.display())),
            }
        }
    });
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if report.json {
        let mut v = serde_json::to_value(&summary).unwrap_or_default();
        v["type"] = serde_json::json!("summary");
        println!("{v}");
    } else {
        eprintln!("{}", summary.human());
    }
    summary.exit_code()
}
