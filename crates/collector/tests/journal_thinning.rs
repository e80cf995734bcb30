//! Journal thinning through the collector (issue #14): a collector polls simulated agents that
//! report the same every second, loses them all (a failure) and gets them back (recovery);
//! repetitions are held back before the journal (counted on `/metrics`), and the journal it
//! wrote replays through a fresh engine to exactly the incidents it recorded live.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use faultline_agent_sim::{SimAgent, Table};
use faultline_collector::config::Config;
use faultline_collector::{Collector, StartOptions};
use faultline_engine::{Engine, Output};
use faultline_graph::DependencyGraph;
use faultline_incident::Incident;
use faultline_model::Topology;
use faultline_observe::{Signal, Subject};
use faultline_store::Store;
use tokio_util::sync::CancellationToken;

const DEVICES: u32 = 6;

fn write_config(dir: &Path, port: u16) -> Config {
    let mut topo = String::from("name: thin\ndevices:\n");
    for i in 0..DEVICES {
        topo += &format!(
            "  - {{id: sw-{i}, kind: switch, address: 127.0.0.{}}}\n",
            i + 1
        );
    }
    std::fs::write(dir.join("t.yaml"), topo).unwrap();
    let cfg_path = dir.join("faultline.toml");
    std::fs::write(
        &cfg_path,
        format!(
            "topology = \"t.yaml\"\n[api]\nlisten = \"127.0.0.1:0\"\n[icmp]\nenabled = false\n\
             [store]\npath = \"fl.redb\"\n[credentials.default]\nversion = \"v2c\"\n\
             community = \"public\"\n\
             [poll]\ninterval_s = 1\nport = {port}\njitter = 0.0\ntimeout_ms = 300\nretries = 0\n\
             [engine]\nstale_after_ms = 6000\nflap_samples = 3\n\
             device = {{down_ms = 1000, up_ms = 1000}}\nlink = {{down_ms = 1000, up_ms = 1000}}\n"
        ),
    )
    .unwrap();
    Config::load(&cfg_path).expect("config")
}

async fn metric(api: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{api}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The last state of every incident among `outs`, by id.
fn incidents(outs: Vec<Output>) -> BTreeMap<String, Incident> {
    outs.into_iter()
        .filter_map(|o| match o {
            Output::Transition(t) => Some((t.incident.id.clone(), t.incident)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thinned_journal_replays_to_the_incidents_recorded_live() {
    let dir = tempfile::tempdir().unwrap();
    let agent = SimAgent::start("0.0.0.0:0", Table::synthetic("sim", 4))
        .await
        .expect("agent");
    let port = agent.addr().port();
    let cfg = write_config(dir.path(), port);
    let engine_cfg = cfg.engine.clone();
    let stop = CancellationToken::new();
    let collector = Collector::start(cfg, StartOptions::default(), stop.clone())
        .await
        .expect("collector starts");
    let api = format!("http://{}", collector.api_addr());
    let running = tokio::spawn(collector.wait());

    // Quiet: the same answers every second.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let thinned = metric(&api, "faultline_journal_observations_thinned_total").await;
    assert!(thinned > 0.0, "nothing thinned while quiet");
    // Every agent stops answering (a failure), then answers again (recovery).
    drop(agent);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let agent = SimAgent::start(&format!("0.0.0.0:{port}"), Table::synthetic("sim", 4))
        .await
        .expect("agent again");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let journaled = metric(&api, "faultline_observations_total").await;
    let held = metric(&api, "faultline_journal_observations_thinned_total").await;
    stop.cancel();
    running.await.unwrap();
    drop(agent);

    let store = Store::open_read_only(dir.path().join("fl.redb")).expect("store");
    let live: BTreeMap<String, Incident> = store
        .incidents(false)
        .expect("incidents")
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    assert!(!live.is_empty(), "the failure opened no incident");
    assert!(
        live.values().all(|i| i.resolved_at.is_some()),
        "not every incident resolved: {live:?}"
    );
    let journal: Vec<_> = store
        .journal()
        .expect("journal")
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    // The journal holds what was counted as journaled (plus markers), not the repetitions.
    assert!(
        journal.len() as f64 >= journaled,
        "{} < {journaled}",
        journal.len()
    );

    // A quiet device is journaled as `Steady`s standing for its repetitions, and most of
    // what the pollers reported was held back.
    for i in 0..DEVICES {
        let device = format!("sw-{i}");
        let steady = journal
            .iter()
            .any(|o| o.signal == Signal::Steady && o.subject == Subject::device(device.as_str()));
        assert!(steady, "no Steady for {device}");
    }
    assert!(held > journaled, "held {held}, journaled {journaled}");
    let topology = Topology::from_yaml_str(
        &std::fs::read_to_string(dir.path().join("t.yaml")).unwrap(),
        "t.yaml",
    )
    .expect("topology");
    let mut replay = Engine::new(Arc::new(DependencyGraph::new(topology)), engine_cfg);
    let mut outs = replay.ingest(&journal);
    outs.extend(replay.advance(journal.last().map_or(0, |o| o.at)));
    assert_eq!(incidents(outs), live);
}
