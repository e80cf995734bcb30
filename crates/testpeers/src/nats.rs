//! A real NATS JetStream cluster (Debian's `nats-server`, 2.9.x): three nodes on free loopback
//! ports, each with its own store directory, killed on Drop. Nodes can be stopped and started
//! again (same ports, same store) to test leader loss and outages.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian package's binary name (found by [`crate::have`]).
pub const BIN: &str = "nats-server";

/// Nodes in a test cluster: the smallest with a JetStream quorum that survives one loss.
pub const NODES: usize = 3;

/// Where the nodes listen unless asked otherwise.
const LOOPBACK: &str = "127.0.0.1";

/// Start attempts before giving up (a free port can be taken between probing and binding).
const START_ATTEMPTS: usize = 3;

/// How long a cluster may take until every node reports JetStream healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How often readiness is asked again.
const READY_POLL: Duration = Duration::from_millis(100);

/// The ports of one node.
#[derive(Debug, Clone, Copy)]
struct NodePorts {
    client: u16,
    cluster: u16,
    monitor: u16,
}

/// One node: its ports, its config file and, while running, its process.
struct Node {
    ports: NodePorts,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self) {
        if self.child.is_some() {
            return;
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open nats log");
        let child = Command::new(BIN)
            .arg("-c")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A running three-node JetStream cluster.
pub struct NatsCluster {
    nodes: Vec<Node>,
    dir: tempfile::TempDir,
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.stop();
        }
    }
}

impl NatsCluster {
    /// Start three nodes and wait until each reports JetStream healthy. `None` (after a loud
    /// skip notice) if `nats-server` is missing outside CI; under `CI` a missing binary fails.
    pub async fn start() -> Option<NatsCluster> {
        Self::start_on(LOOPBACK).await
    }

    /// [`start`](Self::start), with the client ports open on every address (not only
    /// loopback), so that a process in a network namespace joined to the host by a veth pair
    /// ([`crate::Netns`]) reaches the cluster at [`url_via`](Self::url_via) its host address.
    pub async fn start_reachable() -> Option<NatsCluster> {
        Self::start_on("0.0.0.0").await
    }

    async fn start_on(client_host: &str) -> Option<NatsCluster> {
        if !crate::have(BIN) {
            return None;
        }
        for _ in 0..START_ATTEMPTS {
            let cluster = Self::spawn(client_host);
            if cluster.wait_ready().await {
                return Some(cluster);
            }
            eprintln!(
                "nats cluster did not become ready, retrying: {}",
                cluster.logs()
            );
        }
        panic!("nats cluster failed to start {START_ATTEMPTS} times");
    }

    fn spawn(client_host: &str) -> NatsCluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let ports: Vec<NodePorts> = (0..NODES)
            .map(|_| NodePorts {
                client: crate::ports::free_tcp_port(),
                cluster: crate::ports::free_tcp_port(),
                monitor: crate::ports::free_tcp_port(),
            })
            .collect();
        let mut nodes = Vec::new();
        for (i, p) in ports.iter().enumerate() {
            let config = dir.path().join(format!("n{i}.conf"));
            std::fs::write(&config, node_config(i, &ports, dir.path(), client_host))
                .expect("write config");
            nodes.push(Node {
                ports: *p,
                config,
                log: dir.path().join(format!("n{i}.log")),
                child: None,
            });
        }
        for n in &mut nodes {
            n.start();
        }
        NatsCluster { nodes, dir }
    }

    /// Every node's client URL, `nats://127.0.0.1:PORT`.
    pub fn urls(&self) -> Vec<String> {
        (0..self.nodes.len()).map(|i| self.url(i)).collect()
    }

    /// Node `i`'s client URL.
    pub fn url(&self, i: usize) -> String {
        self.url_via(i, LOOPBACK)
    }

    /// Node `i`'s client URL at `host` (a cluster from [`start_reachable`](Self::start_reachable)
    /// answers on every host address).
    pub fn url_via(&self, i: usize, host: &str) -> String {
        format!("nats://{host}:{}", self.nodes[i].ports.client)
    }

    /// Node `i`'s server name (`n0`, `n1`, `n2`), as JetStream reports leaders.
    pub fn name(i: usize) -> String {
        format!("n{i}")
    }

    /// Kill node `i` (SIGKILL); its store stays for a restart.
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].stop();
    }

    /// Kill every node (a total outage); the stores stay.
    pub fn kill_all(&mut self) {
        for n in &mut self.nodes {
            n.stop();
        }
    }

    /// Start node `i` again on its ports with its store.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].start();
    }

    /// Start every stopped node and wait until the cluster is healthy again.
    pub async fn restart_all(&mut self) -> bool {
        for n in &mut self.nodes {
            n.start();
        }
        self.wait_ready().await
    }

    /// Wait until every running node answers `/healthz` with JetStream healthy.
    pub async fn wait_ready(&self) -> bool {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            let mut all = true;
            for n in self.nodes.iter().filter(|n| n.child.is_some()) {
                let url = format!("http://127.0.0.1:{}/healthz", n.ports.monitor);
                let ok = matches!(client.get(&url).send().await, Ok(r) if r.status().is_success());
                all &= ok;
            }
            // Each node healthy is not yet a cluster that can place a replicated stream ("no
            // suitable peers for placement"): the JetStream meta group must have a leader that
            // sees every other running node as a current peer.
            if all && self.meta_group_whole(&client).await {
                return true;
            }
            tokio::time::sleep(READY_POLL).await;
        }
        false
    }

    /// Whether some running node reports a JetStream meta leader with every other running
    /// node among its current peers.
    async fn meta_group_whole(&self, client: &reqwest::Client) -> bool {
        let running = self.nodes.iter().filter(|n| n.child.is_some()).count();
        for n in self.nodes.iter().filter(|n| n.child.is_some()) {
            let url = format!("http://127.0.0.1:{}/jsz", n.ports.monitor);
            let Ok(r) = client.get(&url).send().await else {
                continue;
            };
            let Ok(v) = r.json::<serde_json::Value>().await else {
                continue;
            };
            let meta = &v["meta_cluster"];
            let led = meta["leader"].as_str().is_some_and(|l| !l.is_empty());
            let current = meta["replicas"].as_array().map_or(0, |peers| {
                peers
                    .iter()
                    .filter(|p| p["current"].as_bool() == Some(true))
                    .count()
            });
            if led && current + 1 >= running {
                return true;
            }
        }
        false
    }

    /// The name of the node that leads the JetStream stream `stream`, from the monitoring
    /// endpoint of any running node (`None` while there is no leader).
    pub async fn stream_leader(&self, stream: &str) -> Option<String> {
        let client = reqwest::Client::new();
        for n in self.nodes.iter().filter(|n| n.child.is_some()) {
            let url = format!(
                "http://127.0.0.1:{}/jsz?streams=true&accounts=true",
                n.ports.monitor
            );
            let Ok(r) = client.get(&url).send().await else {
                continue;
            };
            let Ok(v) = r.json::<serde_json::Value>().await else {
                continue;
            };
            let accounts = v["account_details"].as_array().cloned().unwrap_or_default();
            for a in accounts {
                for s in a["stream_detail"].as_array().cloned().unwrap_or_default() {
                    if s["name"] == stream
                        && let Some(l) = s["cluster"]["leader"].as_str()
                    {
                        return Some(l.to_string());
                    }
                }
            }
        }
        None
    }

    /// The index of node `name` (`n1` → 1).
    pub fn index_of(name: &str) -> Option<usize> {
        name.strip_prefix('n')?.parse().ok()
    }

    /// Every node's log, for a failure message.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| std::fs::read_to_string(&n.log).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    /// The directory holding the configs, logs and stores.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The configuration of node `i` of a cluster on `ports`, storing under `dir/n{i}`.
/// Clients listen on `client_host`; routes and monitoring stay on loopback.
fn node_config(i: usize, ports: &[NodePorts], dir: &Path, client_host: &str) -> String {
    let me = ports[i];
    let routes = ports
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, p)| format!("\"nats://127.0.0.1:{}\"", p.cluster))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "server_name: n{i}\n\
         listen: {client_host}:{client}\n\
         http: 127.0.0.1:{monitor}\n\
         jetstream {{ store_dir: \"{store}\" }}\n\
         cluster {{\n  name: faultline\n  listen: 127.0.0.1:{cluster}\n  routes: [{routes}]\n}}\n",
        client = me.client,
        monitor = me.monitor,
        cluster = me.cluster,
        store = dir.join(format!("n{i}")).display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn three_nodes_start_and_a_killed_node_comes_back() {
        let Some(mut c) = NatsCluster::start().await else {
            return;
        };
        assert_eq!(c.urls().len(), NODES);
        c.kill(1);
        assert!(c.wait_ready().await, "two nodes stay healthy");
        c.restart(1);
        assert!(c.wait_ready().await, "the node rejoins: {}", c.logs());
    }
}
