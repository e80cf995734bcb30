//! Who may do what (issue #11): bearer tokens and argon2 basic-auth users with roles, 401 and
//! 403, the console's anti-forgery tokens, TLS on the listener, and the refusal of a
//! non-loopback listen address without authentication. A real collector on a free port, a
//! real HTTP client; an extra POST route stands in for the actions (it answers the actor's
//! name, as the ack and maintenance handlers record it).

use std::path::Path;

use axum::routing::post;
use axum::{Extension, Json, Router};
use faultline_collector::config::Config;
use faultline_collector::{Actor, Collector, StartOptions, hash_password};
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

const ACT: &str = "/api/v1/test/act";
const VIEWER_TOKEN: &str = "viewer-t0ken-7f3a";
const OPERATOR_TOKEN: &str = "operator-t0ken-91c2";
const OPS_PASSWORD: &str = "correct horse battery";

/// A running collector; stopped on drop.
struct Running {
    base: String,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// `faultline.toml` in `dir` on a one-device topology, with `extra` appended.
fn config(dir: &Path, extra: &str) -> Config {
    std::fs::write(
        dir.join("t.yaml"),
        "name: auth\ndevices:\n  - {id: dev, kind: switch}\n",
    )
    .expect("write topology");
    std::fs::write(dir.join("viewer.token"), format!("{VIEWER_TOKEN}\n")).expect("token");
    std::fs::write(dir.join("operator.token"), OPERATOR_TOKEN).expect("token");
    let path = dir.join("faultline.toml");
    std::fs::write(
        &path,
        format!(
            "topology = \"t.yaml\"\n[icmp]\nenabled = false\n[store]\npath = \"fl.redb\"\n\
             [api]\nlisten = \"127.0.0.1:0\"\n{extra}"
        ),
    )
    .expect("write config");
    Config::load(&path).expect("config")
}

/// Tokens for a viewer and an operator, users `ops` (operator) and `eve` (viewer).
fn auth_section() -> String {
    format!(
        "[[api.auth.tokens]]\nname = \"grafana\"\nrole = \"viewer\"\ntoken_file = \"viewer.token\"\n\
         [[api.auth.tokens]]\nname = \"deployer\"\nrole = \"operator\"\ntoken_file = \"operator.token\"\n\
         [[api.auth.users]]\nname = \"ops\"\nrole = \"operator\"\npassword_hash = \"{}\"\n\
         [[api.auth.users]]\nname = \"eve\"\nrole = \"viewer\"\npassword_hash = \"{}\"\n",
        hash_password(OPS_PASSWORD).expect("hash"),
        hash_password("eve's password").expect("hash"),
    )
}

/// The action route: answers who did it.
fn act_route() -> Router {
    Router::new().route(
        ACT,
        post(|Extension(a): Extension<Actor>| async move { Json(a.name) }),
    )
}

async fn start(extra: &str, scheme: &str) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), extra);
    let stop = CancellationToken::new();
    let options = StartOptions {
        routes: Some(act_route()),
        ..StartOptions::default()
    };
    let collector = Collector::start(cfg, options, stop.clone())
        .await
        .expect("collector starts");
    let base = format!("{scheme}://{}", collector.api_addr());
    tokio::spawn(collector.wait());
    Running {
        base,
        stop,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_read_operators_act_and_strangers_are_asked_who_they_are() {
    let c = start(&auth_section(), "http").await;
    let http = client();
    let status = format!("{}/api/v1/status", c.base);
    let act = format!("{}{ACT}", c.base);

    let none = http.get(&status).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<&str> = none
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        challenges
            .iter()
            .any(|c| c.starts_with("Basic realm=\"faultline\"")),
        "{challenges:?}"
    );
    assert!(
        challenges.iter().any(|c| c.starts_with("Bearer")),
        "{challenges:?}"
    );
    let wrong = http.get(&status).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let no_post = http.post(&act).json(&()).send().await.unwrap();
    assert_eq!(no_post.status(), StatusCode::UNAUTHORIZED);

    let viewer = http
        .get(&status)
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), StatusCode::OK);
    let page = http
        .get(format!("{}/incidents", c.base))
        .bearer_auth(VIEWER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        !page.text().await.unwrap().contains("csrf-token"),
        "a viewer gets no forms"
    );
    let viewer_post = http
        .post(&act)
        .bearer_auth(VIEWER_TOKEN)
        .json(&())
        .send()
        .await
        .unwrap();
    assert_eq!(viewer_post.status(), StatusCode::FORBIDDEN);
    let eve_delete = http
        .delete(&act)
        .basic_auth("eve", Some("eve's password"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        eve_delete.status(),
        StatusCode::FORBIDDEN,
        "any method but GET is an action"
    );

    let operator = http
        .post(&act)
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        operator.status(),
        StatusCode::OK,
        "a bearer token needs no JSON or CSRF"
    );
    assert_eq!(operator.json::<String>().await.unwrap(), "deployer");
    for _ in 0..2 {
        let ops = http
            .post(&act)
            .basic_auth("ops", Some(OPS_PASSWORD))
            .json(&())
            .send()
            .await
            .unwrap();
        assert_eq!(ops.status(), StatusCode::OK);
        assert_eq!(ops.json::<String>().await.unwrap(), "ops");
    }
    let bad_password = http
        .get(&status)
        .basic_auth("ops", Some("correct horse"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_password.status(), StatusCode::UNAUTHORIZED);
    let unknown_user = http
        .get(&status)
        .basic_auth("mallory", Some(OPS_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_user.status(), StatusCode::UNAUTHORIZED);

    for (path, want) in [
        ("/-/healthy", StatusCode::OK),
        ("/-/ready", StatusCode::OK),
        ("/metrics", StatusCode::UNAUTHORIZED),
    ] {
        let r = http.get(format!("{}{path}", c.base)).send().await.unwrap();
        assert_eq!(r.status(), want, "{path}");
    }
}

/// The token in an operator's page (`<meta name="csrf-token" content="...">`).
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf-token\"")
        .expect("the page carries the token");
    let rest = &page[at..];
    let start = rest.find("content=\"").expect("content") + "content=\"".len();
    let end = rest[start..].find('"').expect("closing quote");
    rest[start..start + end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_form_posts_need_the_users_token_and_our_origin() {
    let c = start(&auth_section(), "http").await;
    let http = client();
    let page = http
        .get(format!("{}/incidents", c.base))
        .basic_auth("ops", Some(OPS_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let token = csrf_of(&page.text().await.unwrap());
    let origin = c.base.clone();
    let post = |origin: String, body: String| {
        http.post(format!("{}{ACT}", c.base))
            .basic_auth("ops", Some(OPS_PASSWORD))
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let ok = post(origin.clone(), format!("reason=maint&csrf={token}"))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.json::<String>().await.unwrap(), "ops");
    for (origin, body) in [
        (origin.clone(), "reason=maint".to_string()),
        (origin.clone(), "csrf=0123abcd".to_string()),
        (origin.clone(), format!("csrf={}", &token[1..])),
        ("http://evil.example".to_string(), format!("csrf={token}")),
    ] {
        let r = post(origin.clone(), body.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{origin} {body}");
    }
    let text = http
        .post(format!("{}{ACT}", c.base))
        .basic_auth("ops", Some(OPS_PASSWORD))
        .header("content-type", "text/plain")
        .body(format!("csrf={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auth_the_loopback_api_is_open_and_forms_still_need_the_token() {
    let c = start("", "http").await;
    let http = client();
    let status = http
        .get(format!("{}/api/v1/status", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::OK);
    let act = http
        .post(format!("{}{ACT}", c.base))
        .json(&())
        .send()
        .await
        .unwrap();
    assert_eq!(act.json::<String>().await.unwrap(), "anonymous");
    let form = http
        .post(format!("{}{ACT}", c.base))
        .header("origin", c.base.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_loopback_listen_needs_auth_or_insecure_listen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(dir.path(), "");
    cfg.api.listen = "0.0.0.0:0".parse().unwrap();
    let Err(refused) = Collector::prepare(cfg.clone(), StartOptions::default()).await else {
        panic!("a non-loopback listen without auth was accepted");
    };
    let text = refused.to_string();
    assert!(
        text.contains("0.0.0.0:0") && text.contains("--insecure-listen"),
        "{text}"
    );
    let mut insecure = cfg.clone();
    insecure.api.insecure_listen = true;
    assert!(
        Collector::prepare(insecure, StartOptions::default())
            .await
            .is_ok()
    );
    let mut with_auth = config(dir.path(), &auth_section());
    with_auth.api.listen = "0.0.0.0:0".parse().unwrap();
    assert!(
        Collector::prepare(with_auth, StartOptions::default())
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_a_client_trusting_the_ca_gets_the_api_and_plain_http_fails() {
    let Some(ca) = faultline_testpeers::tls::TestCa::new() else {
        return;
    };
    let tls = format!(
        "[api.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
        ca.server_cert().display(),
        ca.server_key().display()
    );
    let c = start(&tls, "https").await;
    let pem = std::fs::read(ca.ca_cert()).unwrap();
    let trusting = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .build()
        .unwrap();
    let r = trusting
        .get(format!("{}/api/v1/status", c.base))
        .send()
        .await
        .expect("https with the test CA");
    assert_eq!(r.status(), StatusCode::OK);
    let plain = c.base.replace("https://", "http://");
    let err = client()
        .get(format!("{plain}/api/v1/status"))
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await;
    assert!(err.is_err(), "plain HTTP to the TLS port answered: {err:?}");
    let untrusting = client()
        .get(format!("{}/api/v1/status", c.base))
        .send()
        .await;
    assert!(
        untrusting.is_err(),
        "a client not trusting the CA connected"
    );
}
