//! Against a real Alertmanager (Debian's `prometheus-alertmanager`): one alert per affected
//! service with single-valued labels, and delivery through basic auth and TLS with a private CA
//! (its own `--web.config.file`, certificates from `openssl`).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use faultline_incident::{AffectedService, ServiceState, Severity, TransitionAction::*};
use faultline_notify::{NotifyConfig, Store};
use faultline_testpeers::alertmanager::{TlsServer, WebConfig};
use faultline_testpeers::tls::TestCa;
use support::*;

const PASSWORD: &str = "correct-horse-4b1d";
const WRONG_PASSWORD: &str = "wrong-horse-88e0";

/// Everything logged in this test binary (the delivery loop logs from tokio's worker threads,
/// so the subscriber is global).
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buf = buf.clone();
            move || LogWriter(buf.clone())
        };
        let sub = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_global_default(sub).expect("first subscriber");
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().lock().expect("log buffer")).into_owned()
}

fn open_store(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path().join("faultline.redb")).expect("open store")
}

fn svc(id: &str, state: ServiceState) -> AffectedService {
    AffectedService {
        id: id.into(),
        name: format!("{id} service"),
        tier: "critical".into(),
        state,
        tags: vec![],
        outage: None,
    }
}

/// (service, state) of the incident's alerts Alertmanager lists (resolved ones drop out).
async fn listed(am: &Alertmanager, id: &str) -> Vec<(String, String)> {
    am.alerts_of(id)
        .await
        .iter()
        .map(|a| {
            (
                a["labels"]["service"].as_str().unwrap_or("").to_string(),
                a["status"]["state"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Wait until Alertmanager lists exactly `want` for incident `id`.
async fn until_listed(am: &Alertmanager, id: &str, want: &[(&str, &str)]) {
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(s, st)| (s.to_string(), st.to_string()))
        .collect();
    let mut got = Vec::new();
    for _ in 0..50 {
        got = listed(am, id).await;
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("alerts of {id}: {got:?}, want {want:?}; log: {}", am.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_over_two_services_is_two_alerts_that_resolve_together() {
    let Some(am) = Alertmanager::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg: NotifyConfig = toml::from_str(&format!(
        "public_url = \"https://faultline.example\"\n[[receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"{}\"\nresend_interval_secs = 1\n",
        am.base
    ))
    .unwrap();
    let n = notifier(open_store(&dir), cfg).unwrap();
    let (stop, h) = run(&n);
    let mut inc = incident("inc-two", Severity::Critical, "critical");
    inc.root_causes = vec!["fw-a".into(), "sw-core".into()];
    inc.affected_services = vec![
        svc("portal", ServiceState::Down),
        svc("billing", ServiceState::Down),
    ];
    n.enqueue_async(transition(1, Trigger, &inc)).await.unwrap();
    until_listed(
        &am,
        "inc-two",
        &[("billing", "active"), ("portal", "active")],
    )
    .await;
    for a in am.alerts_of("inc-two").await {
        let labels = a["labels"].as_object().unwrap();
        let mut keys: Vec<&str> = labels.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "alertname",
                "incident",
                "kind",
                "root_cause",
                "service",
                "severity"
            ]
        );
        assert!(
            labels.values().all(|v| !v.as_str().unwrap().contains(',')),
            "{labels:?}"
        );
        assert_eq!(labels["root_cause"], "fw-a");
        assert_eq!(labels["severity"], "critical");
        assert_eq!(labels["kind"], "service_down");
        assert_eq!(labels["alertname"], "FaultlineIncident");
        let svc = labels["service"].as_str().unwrap();
        assert_eq!(
            a["annotations"]["why"],
            format!("https://faultline.example/why/{svc}")
        );
        assert_eq!(a["annotations"]["root_causes"], "fw-a, sw-core");
    }

    // billing recovers, crm joins: only those two alerts change.
    inc.affected_services[1].state = ServiceState::Up;
    inc.affected_services.push(svc("crm", ServiceState::Down));
    n.enqueue_async(transition(2, Update, &inc)).await.unwrap();
    until_listed(&am, "inc-two", &[("crm", "active"), ("portal", "active")]).await;
    // Re-posts (every second) keep the same alerts: billing is not revived, none is doubled.
    let resent = n.stats().resent;
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().resent >= resent + 2).await,
        "{:?}",
        n.stats()
    );
    until_listed(&am, "inc-two", &[("crm", "active"), ("portal", "active")]).await;

    n.enqueue_async(transition(3, Resolve, &inc)).await.unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().delivered == 3).await,
        "{:?}",
        n.stats()
    );
    until_listed(&am, "inc-two", &[]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        listed(&am, "inc-two").await,
        [],
        "a re-post revived an alert"
    );
    stop.send(()).unwrap();
    h.await.unwrap();
}

/// Alertmanager behind basic auth and TLS with a private CA requiring client certificates.
async fn secured_alertmanager(ca: &TestCa) -> Option<Alertmanager> {
    Alertmanager::start_with(WebConfig {
        basic_auth: Some(("faultline".into(), PASSWORD.into())),
        tls: Some(TlsServer {
            cert_file: ca.server_cert(),
            key_file: ca.server_key(),
            ca_file: ca.ca_cert(),
            require_client_cert: Some((ca.client_cert(), ca.client_key())),
        }),
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_through_basic_auth_and_a_private_ca_and_what_a_wrong_password_does() {
    let logs = logs();
    let Some(ca) = TestCa::new() else { return };
    let Some(am) = secured_alertmanager(&ca).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("am.password");
    std::fs::write(&pw_file, format!("{PASSWORD}\n")).unwrap();
    let tls = format!(
        "tls = {{ ca_file = \"{}\", cert_file = \"{}\", key_file = \"{}\" }}",
        ca.ca_cert().display(),
        ca.client_cert().display(),
        ca.client_key().display()
    );
    let base = &am.base;
    let cfg: NotifyConfig = toml::from_str(&format!(
        r#"
        [retry]
        base_ms = 50
        max_ms = 200
        [[receivers]]
        name = "am-good"
        kind = "alertmanager"
        url = "{base}"
        basic_auth = {{ username = "faultline", password_file = "{pw}" }}
        {tls}
        [[receivers]]
        name = "am-wrong-password"
        kind = "alertmanager"
        url = "{base}"
        basic_auth = {{ username = "faultline", password = "{WRONG_PASSWORD}" }}
        {tls}
        [[receivers]]
        name = "am-system-roots"
        kind = "alertmanager"
        url = "{base}"
        basic_auth = {{ username = "faultline", password_file = "{pw}" }}
        "#,
        pw = pw_file.display(),
    ))
    .unwrap();
    let n = notifier(open_store(&dir), cfg).unwrap();
    let (stop, h) = run(&n);
    let inc = incident("inc-tls", Severity::Critical, "critical");
    n.enqueue_async(transition(1, Trigger, &inc)).await.unwrap();

    // The right password and the private CA: delivered, the alert is in Alertmanager.
    until_listed(&am, "inc-tls", &[("portal", "active")]).await;
    // A wrong password: Alertmanager answers 401, a permanent refusal (Outcome::from_http, as
    // for every 4xx but 408/429): dead-lettered at once, not retried.
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().dead_lettered == 1).await,
        "{:?}",
        n.stats()
    );
    let dead = n.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].entry.receiver, "am-wrong-password");
    assert_eq!(dead[0].status, Some(401));
    assert!(
        dead[0].answer.starts_with("credentials refused"),
        "{}",
        dead[0].answer
    );
    // Without the CA (system roots only) the server's certificate is refused: a transport
    // error, retried (the entry stays pending with the reason).
    assert!(
        wait_until(Duration::from_secs(5), || n.stats().retries >= 2).await,
        "{:?}",
        n.stats()
    );
    let pending = n.pending().unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].receiver, "am-system-roots");
    let err = pending[0].last_error.clone().unwrap_or_default();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert_eq!(n.stats().delivered, 1);

    n.enqueue_async(transition(2, Resolve, &inc)).await.unwrap();
    until_listed(&am, "inc-tls", &[]).await;
    stop.send(()).unwrap();
    h.await.unwrap();

    let log = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    let dead_line = log
        .lines()
        .find(|l| l.contains("notify: dead letter") && l.contains("am-wrong-password"))
        .unwrap_or_else(|| panic!("no dead-letter line in the log:\n{log}"));
    assert!(
        dead_line.contains("401") && dead_line.contains("credentials refused"),
        "{dead_line}"
    );
    for secret in [PASSWORD, WRONG_PASSWORD] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_skip_verify_delivers_and_warns_once() {
    let _ = logs();
    let Some(ca) = TestCa::new() else { return };
    let Some(am) = Alertmanager::start_with(WebConfig {
        basic_auth: None,
        tls: Some(TlsServer {
            cert_file: ca.server_cert(),
            key_file: ca.server_key(),
            ca_file: ca.ca_cert(),
            require_client_cert: None,
        }),
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg: NotifyConfig = toml::from_str(&format!(
        "[[receivers]]\nname = \"am-insecure\"\nkind = \"alertmanager\"\nurl = \"{}\"\ntls = {{ insecure_skip_verify = true }}\n",
        am.base
    ))
    .unwrap();
    let n = notifier(open_store(&dir), cfg).unwrap();
    let (stop, h) = run(&n);
    let inc = incident("inc-insecure", Severity::Critical, "critical");
    n.enqueue_async(transition(1, Trigger, &inc)).await.unwrap();
    until_listed(&am, "inc-insecure", &[("portal", "active")]).await;
    n.enqueue_async(transition(2, Resolve, &inc)).await.unwrap();
    until_listed(&am, "inc-insecure", &[]).await;
    stop.send(()).unwrap();
    h.await.unwrap();
    let warnings = log_text()
        .lines()
        .filter(|l| {
            l.contains("WARN") && l.contains("am-insecure") && l.contains("insecure_skip_verify")
        })
        .count();
    assert_eq!(warnings, 1, "{}", log_text());
}
