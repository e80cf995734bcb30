//! The journal rule on a full disk (issue #9 items 9 and 13), on the `faultline` binary with its
//! store on a small real tmpfs and a real signed-webhook receiver: when the journal cannot be
//! written the engine waits (nothing processed, nothing paged), `status` and `/metrics` say the
//! store is degraded; once space returns the engine catches up and the incident is paged once
//! and resolved once.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_api::{self as api, LabAction, path};
use faultline_testpeers::http_receiver::{MockReceiver, Mode, WEBHOOK_PATH};
use faultline_testpeers::ports::free_tcp_port;
use faultline_testpeers::tmpfs::Tmpfs;

/// Room for the store to start and run a little before the filler takes the rest.
const FS_BYTES: u64 = 16 << 20;

const SECRET: &str = "store-full-test-secret";

/// Kills the collector even when an assertion fails.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn status(client: &reqwest::Client, api: &str) -> Option<api::StatusResponse> {
    let r = client
        .get(format!("{api}{}", path::v1(path::STATUS)))
        .send()
        .await
        .ok()?;
    r.error_for_status().ok()?.json().await.ok()
}

async fn metrics(client: &reqwest::Client, api: &str) -> String {
    let r = client.get(format!("{api}/metrics")).send().await;
    match r {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn lab(client: &reqwest::Client, api: &str, action: LabAction, id: Option<&str>) {
    let r = client
        .post(format!("{api}{}", path::lab_action(action, id)))
        .json(&serde_json::Map::new())
        .send()
        .await
        .expect("lab action");
    assert!(r.status().is_success(), "{action:?}: {}", r.status());
}

/// Wait until `f` holds, polling every 200 ms; panics with `what` after `timeout`.
async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while !f().await {
        assert!(t.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `(action, incident id)` of every valid webhook delivery so far.
fn pages(hook: &MockReceiver) -> Vec<(String, String)> {
    hook.log()
        .iter()
        .filter(|r| r.path == WEBHOOK_PATH && r.problems.is_empty())
        .map(|r| {
            (
                r.body["action"].as_str().unwrap_or_default().to_string(),
                r.body["incident"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_the_engine_and_pages_once_space_returns() {
    let Some(fs) = Tmpfs::mount("journal-full", FS_BYTES) else {
        return;
    };
    let hook = MockReceiver::start(Mode::Accept)
        .await
        .with_webhook_secret(SECRET);
    let port = free_tcp_port();
    let dir = tempfile::tempdir().unwrap();
    // Thinning off: a quiet lab journals so little once thinned (a `Steady` per device every
    // heartbeat) that redb's spare pages absorb it for minutes, and the disk would never be
    // found full. The rule under test is the journal's, whatever reaches it.
    let topology = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../topology/contractor-portal.yaml"
    );
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(
        &cfg,
        format!(
            "topology = \"{topology}\"\nlab = true\n[api]\nlisten = \"127.0.0.1:{port}\"\n\
             [poll]\ninterval_s = 1.0\ntimeout_ms = 300\nretries = 0\n[icmp]\nenabled = false\n\
             [probe]\ninterval_s = 1.0\ntimeout_ms = 1000\n[store]\npath = \"{}\"\n\
             [engine]\nstale_after_ms = 60000\nthinning = false\n\
             [engine.device]\ndown_ms = 3000\nup_ms = 4000\n\
             [engine.link]\ndown_ms = 3000\nup_ms = 4000\n\
             [engine.probe]\ndown_ms = 3000\nup_ms = 4000\n\
             [[notify.receivers]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n\
             secret = \"{SECRET}\"\n[notify.retry]\nbase_ms = 100\nmax_ms = 1000\n",
            fs.path().join("fl.redb").display(),
            hook.url(WEBHOOK_PATH),
        ),
    )
    .unwrap();
    let log = dir.path().join("run.log");
    let _collector = Proc(
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["run", "--config"])
            .arg(&cfg)
            .env("FAULTLINE_LOG", "warn,faultline_collector=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn faultline run"),
    );
    let client = reqwest::Client::new();
    let api = format!("http://127.0.0.1:{port}");
    wait_until("the API", Duration::from_secs(30), || async {
        status(&client, &api).await.is_some()
    })
    .await;
    // Every device seen once, then the disk fills up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let filler = fs.fill("filler", FS_BYTES);
    wait_until("the store to degrade", Duration::from_secs(60), || async {
        status(&client, &api)
            .await
            .is_some_and(|s| !s.store.healthy && s.store.journal_pending > 0)
    })
    .await;
    let m = metrics(&client, &api).await;
    assert!(m.contains("faultline_store_healthy 0"), "{m}");
    assert!(
        !m.contains("faultline_store_failed_operations_total 0\n"),
        "failures counted: {m}"
    );
    assert!(
        !m.contains("faultline_journal_pending_observations 0\n"),
        "{m}"
    );

    // The firewall dies while nothing can be journaled: the engine waits, nothing is paged.
    lab(&client, &api, LabAction::Fail, Some("fw-a")).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        pages(&hook).is_empty(),
        "paged while the journal was failing"
    );
    let s = status(&client, &api).await.expect("status");
    assert!(
        s.incidents.is_empty(),
        "the engine ran ahead of the journal"
    );
    assert!(s.store.state.contains("disk_full"), "{}", s.store.state);

    // Space returns: the engine catches up and the incident is paged.
    std::fs::remove_file(&filler).unwrap();
    wait_until("the page", Duration::from_secs(60), || async {
        pages(&hook).iter().any(|(a, _)| a == "trigger")
    })
    .await;
    wait_until("a healthy store", Duration::from_secs(30), || async {
        status(&client, &api).await.is_some_and(|s| s.store.healthy)
    })
    .await;
    assert!(
        metrics(&client, &api)
            .await
            .contains("faultline_store_healthy 1")
    );
    let id = pages(&hook)
        .into_iter()
        .find(|(a, _)| a == "trigger")
        .map(|(_, id)| id)
        .unwrap();

    // Recovery resolves it, once.
    lab(&client, &api, LabAction::Fix, None).await;
    lab(&client, &api, LabAction::Heal, Some("fw-a")).await;
    wait_until("the resolve", Duration::from_secs(60), || async {
        pages(&hook).iter().any(|(a, i)| a == "resolve" && *i == id)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = pages(&hook);
    let count = |action: &str| got.iter().filter(|(a, i)| a == action && *i == id).count();
    assert_eq!(
        (count("trigger"), count("resolve")),
        (1, 1),
        "paged once, resolved once: {got:#?}"
    );
    let others: Vec<_> = got
        .iter()
        .filter(|(a, i)| a == "trigger" && *i != id)
        .collect();
    assert!(others.is_empty(), "one page per root cause: {got:#?}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("journal write failed"), "{text}");
    assert!(text.contains("journal writable again"), "{text}");
}
