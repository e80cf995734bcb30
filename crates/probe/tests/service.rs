//! HTTP and TCP probes against real local servers started by the test.

use faultline_testpeers as support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use faultline_observe::Signal;
use faultline_probe::{FailureKind, HttpCheck, HttpProber, tcp_probe};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// A real axum server on a free port; stopped when the returned handle is dropped.
struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn server() -> Server {
    let app = Router::new()
        .route("/", get(|| async { "portal ready: status=ok build=42" }))
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "nope") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { addr, task }
}

fn check(url: String) -> HttpCheck {
    let mut c = HttpCheck::new(url);
    c.timeout = Duration::from_secs(2);
    c
}

#[tokio::test]
async fn http_200_is_ok_with_latency() {
    let s = server().await;
    let o = HttpProber::new()
        .unwrap()
        .probe(&check(format!("http://{}/", s.addr)))
        .await;
    assert!(o.ok, "{o:?}");
    assert_eq!(o.status, Some(200));
    assert!(o.latency_ms > 0.0);
    assert!(matches!(
        o.to_signal(),
        Signal::Probe {
            ok: true,
            status: Some(200),
            ..
        }
    ));
}

#[tokio::test]
async fn http_404_is_not_ok_and_keeps_the_status() {
    let s = server().await;
    let o = HttpProber::new()
        .unwrap()
        .probe(&check(format!("http://{}/missing", s.addr)))
        .await;
    assert!(!o.ok);
    assert_eq!(o.status, Some(404));
    assert_eq!(o.failure, Some(FailureKind::Status));
    // ...unless 404 is what the operator expects.
    let mut c = check(format!("http://{}/missing", s.addr));
    c.expect_status = vec![404];
    assert!(HttpProber::new().unwrap().probe(&c).await.ok);
}

#[tokio::test]
async fn body_substring_and_regex_match_and_mismatch() {
    let s = server().await;
    let p = HttpProber::new().unwrap();
    let mut c = check(format!("http://{}/", s.addr));
    c.body_contains = Some("status=ok".into());
    assert!(p.probe(&c).await.ok);
    c.body_contains = Some("status=degraded".into());
    let o = p.probe(&c).await;
    assert!(!o.ok);
    assert_eq!(o.failure, Some(FailureKind::Body));
    assert_eq!(o.status, Some(200));
    assert!(o.detail.unwrap().contains("status=degraded"));

    let c = check(format!("http://{}/", s.addr))
        .with_regex(r"build=\d+")
        .unwrap();
    assert!(p.probe(&c).await.ok);
    let c = check(format!("http://{}/", s.addr))
        .with_regex(r"build=[a-z]+$")
        .unwrap();
    assert_eq!(p.probe(&c).await.failure, Some(FailureKind::Body));
}

#[tokio::test]
async fn connection_refused_is_named() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let o = HttpProber::new()
        .unwrap()
        .probe(&check(format!("http://{addr}/")))
        .await;
    assert_eq!(o.failure, Some(FailureKind::Refused), "{o:?}");
    assert_eq!(o.detail.as_deref(), Some("connection refused"));
    let t = tcp_probe(addr, Duration::from_secs(1)).await;
    assert_eq!(t.failure, Some(FailureKind::Refused), "{t:?}");
}

#[tokio::test]
async fn server_that_never_answers_times_out() {
    // Accepts connections and never writes a byte.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = l.accept().await {
            held.push(sock);
        }
    });
    let mut c = check(format!("http://{addr}/"));
    c.timeout = Duration::from_millis(400);
    let o = HttpProber::new().unwrap().probe(&c).await;
    assert_eq!(o.failure, Some(FailureKind::Timeout), "{o:?}");
    assert!(o.latency_ms >= 390.0, "{o:?}");
    // The TCP handshake itself succeeds: a TCP probe says the port is open.
    assert!(tcp_probe(addr, Duration::from_secs(1)).await.ok);
    hold.abort();

    // A slow handler on a real server: also a timeout, not a status.
    let s = server().await;
    let mut c = check(format!("http://{}/slow", s.addr));
    c.timeout = Duration::from_millis(300);
    assert_eq!(
        HttpProber::new().unwrap().probe(&c).await.failure,
        Some(FailureKind::Timeout)
    );
}

#[tokio::test]
async fn garbage_speaking_server_on_https_is_a_tls_error() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let _ = sock
                .write_all(b"HTTP/1.0 200 OK\r\nthis is not TLS at all\r\n\r\n")
                .await;
        }
    });
    let o = HttpProber::new()
        .unwrap()
        .probe(&check(format!("https://{addr}/")))
        .await;
    task.abort();
    assert_eq!(o.failure, Some(FailureKind::Tls), "{o:?}");
    assert!(o.detail.unwrap().starts_with("TLS error"));
}

#[tokio::test]
async fn self_signed_certificate_from_real_openssl_server_is_a_tls_error() {
    if !support::have("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("k.pem"), dir.path().join("c.pem"));
    let (ok, out) = support::run(
        std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    assert!(ok, "openssl req: {out}");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _server = support::spawn(
        std::process::Command::new("openssl")
            .args([
                "s_server",
                "-quiet",
                "-www",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
            ])
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let start = std::time::Instant::now();
    while !tcp_probe(addr, Duration::from_millis(200)).await.ok {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "openssl s_server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let o = HttpProber::new()
        .unwrap()
        .probe(&check(format!("https://localhost:{port}/")))
        .await;
    assert_eq!(o.failure, Some(FailureKind::Tls), "{o:?}");
    let detail = o.detail.unwrap();
    assert!(detail.to_lowercase().contains("certificate"), "{detail}");
}
