//! HTTPS against a real TLS server on 127.0.0.1 with a certificate made for the test:
//! `--ca-cert` makes it trusted, an unknown CA is a NETWORK_ERROR, and a redirect from https
//! to http is refused without a byte reaching the http server (SPEC section 6).

mod support;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{json, Value};
use tokio_rustls::rustls;

/// A self-signed certificate for `localhost`, as PEM: (certificate, private key).
fn certificate() -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

/// Serves `app` over TLS on 127.0.0.1; returns its `https://localhost:PORT` base.
async fn https_server(app: axum::Router, cert_pem: &str, key_pem: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate hangs up here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
            });
        }
    });
    format!("https://localhost:{port}")
}

fn write(dir: &std::path::Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

async fn callhook(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_callhook"))
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn outcomes(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["type"] == "outcome")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_ca_cert_and_no_downgrade_on_redirect() {
    // The plain http server counts what reaches it: nothing may.
    let plain_hits = Arc::new(AtomicUsize::new(0));
    let plain = {
        let hits = plain_hits.clone();
        let app = axum::Router::new().fallback(move || {
            hits.fetch_add(1, Ordering::SeqCst);
            async { axum::Json(json!({"id": "leaked"})) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    };
    let (cert, key) = certificate();
    let down = format!("{plain}/landing");
    let app = axum::Router::new()
        .route(
            "/contacts/{phone}",
            get(
                |axum::extract::Path(p): axum::extract::Path<String>| async move {
                    axum::Json(json!({"id": format!("C-{p}")}))
                },
            ),
        )
        .route(
            "/up",
            get(|| async { axum::Json(json!({"id": "same-scheme"})) }),
        )
        .route(
            "/down",
            get(move || {
                let to = down.clone();
                async move { (StatusCode::FOUND, [("location", to)]).into_response() }
            }),
        )
        .route(
            "/hop",
            get(|| async { (StatusCode::FOUND, [("location", "/up")]).into_response() }),
        );
    let base = https_server(app, &cert, &key).await;

    let dir = std::env::temp_dir().join(format!("callhook-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = write(
        &dir,
        "tls.hook",
        &format!(
            r#"workflow "look-up" on AgentConnected < GET "{base}/contacts/$CALLER_ID_E164$" retry 0 map ID = id >
               workflow "hop" on AgentConnected < GET "{base}/hop" retry 0 map UP = id >
               workflow "downgrade" on AgentConnected < GET "{base}/down" retry 0 map LEAK = id >"#
        ),
    );
    let events = write(
        &dir,
        "events.jsonl",
        r#"{"call":"c1","event":"AgentConnected","vars":{"CALLER_ID_E164":"+33612345678"}}"#,
    );
    let ca = write(&dir, "ca.pem", &cert);
    let not_pem = write(&dir, "not.pem", "hello\n");
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = ["run", &script, "--events", &events, "--format", "json"]
            .map(String::from)
            .to_vec();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    // Without --ca-cert the certificate is not trusted: nothing is mapped.
    let o = callhook(args(&[])).await;
    assert_eq!(o.status.code(), Some(1));
    let out = outcomes(&o);
    assert_eq!(out[0]["result"], "FAILED", "{out:?}");
    assert_eq!(out[0]["reason"], "NETWORK_ERROR");
    assert!(
        out[0]["error"].as_str().unwrap().contains("--ca-cert FILE"),
        "{out:?}"
    );

    // With it, HTTPS works, and a redirect within https is followed.
    let o = callhook(args(&["--ca-cert", &ca])).await;
    let out = outcomes(&o);
    assert_eq!(out[0]["result"], "SUCCESS", "{out:?}");
    assert_eq!(out[0]["stored"]["ID"], "C-+33612345678");
    assert_eq!(out[1]["stored"]["UP"], "same-scheme");
    // The redirect to http:// is refused before anything is sent there.
    assert_eq!(out[2]["result"], "FAILED");
    assert_eq!(out[2]["reason"], "HTTP_ERROR", "{out:?}");
    assert!(
        out[2]["error"].as_str().unwrap().contains("https to http"),
        "{out:?}"
    );
    assert_eq!(out[2]["stored"], json!({}));
    assert_eq!(plain_hits.load(Ordering::SeqCst), 0);
    assert_eq!(o.status.code(), Some(1));

    // A file without a certificate is a usage error that names the file.
    let o = callhook(args(&["--ca-cert", &not_pem])).await;
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not.pem") && err.contains("no certificate"),
        "{err}"
    );
    assert!(outcomes(&o).is_empty());
}
