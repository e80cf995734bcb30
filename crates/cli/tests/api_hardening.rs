//! The collector's API against hostile clients (issue #9 item 17), on the `faultline` binary
//! with the usual 1 024 open-file limit: half-sent and idle connections are closed, a flood of
//! them cannot starve the API, unknown `Host:` names (DNS rebinding) are refused, and changes
//! need a JSON content type or the API token (no cross-site `text/plain` POST).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_testpeers::ports::free_tcp_port;

/// Kills the collector even when an assertion fails.
struct Collector {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Collector {
    /// A collector on a one-device topology with `api` added to its `[api]` section, under
    /// `ulimit -n 1024`.
    fn start(api: &str) -> Collector {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.yaml"),
            "name: t\ndevices:\n  - {id: a, kind: switch}\n",
        )
        .unwrap();
        let port = free_tcp_port();
        let cfg = dir.path().join("faultline.toml");
        std::fs::write(
            &cfg,
            format!(
                "topology = \"t.yaml\"\n[icmp]\nenabled = false\n[store]\npath = \"fl.redb\"\n\
                 [api]\nlisten = \"127.0.0.1:{port}\"\n{api}\n"
            ),
        )
        .unwrap();
        let log = dir.path().join("run.log");
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n 1024 && exec {} run --config {}",
                env!("CARGO_BIN_EXE_faultline"),
                cfg.display()
            ))
            .env("FAULTLINE_LOG", "warn")
            .env("FL_TEST_API_TOKEN", "t0ken-for-tests")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn faultline run");
        let c = Collector {
            child,
            port,
            _dir: dir,
        };
        c.wait_up(&log);
        c
    }

    fn wait_up(&self, log: &Path) {
        let t = Instant::now();
        while self.code("GET", "/api/v1/status", &[]) != "200" {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the API never came up: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The status code of one request made with curl.
    fn code(&self, method: &str, path: &str, headers: &[&str]) -> String {
        let mut cmd = Command::new("curl");
        cmd.args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
        ])
        .args(["-X", method]);
        for h in headers {
            cmd.args(["-H", h]);
        }
        let out = cmd
            .arg(format!("http://127.0.0.1:{}{path}", self.port))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// How long until the server closes `stream` (EOF or reset), reading and discarding anything it
/// sends; `None` if it is still open after `limit`.
fn closed_after(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while t.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return Some(t.elapsed()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(t.elapsed()),
        }
    }
    None
}

#[test]
fn half_sent_and_idle_connections_are_closed() {
    let c = Collector::start("header_timeout_ms = 500\nidle_timeout_s = 1");
    let mut half = TcpStream::connect(c.addr()).unwrap();
    half.write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let closed = closed_after(half, Duration::from_secs(10));
    assert!(
        closed.is_some_and(|d| d < Duration::from_secs(3)),
        "a half-sent request held its connection: {closed:?}"
    );

    let mut idle = TcpStream::connect(c.addr()).unwrap();
    idle.write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let closed = closed_after(idle, Duration::from_secs(10));
    assert!(
        closed.is_some_and(|d| d < Duration::from_secs(4)),
        "an idle keep-alive connection stayed open: {closed:?}"
    );
}

/// Raise this process's open-file limit: the test itself holds 1 100 sockets.
fn allow_many_files() {
    let want: libc::rlim_t = 8_192;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by reference. Tests
    // run as root, which may raise the hard limit.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_max = lim.rlim_max.max(want);
        lim.rlim_cur = lim.rlim_cur.max(want);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

#[test]
fn eleven_hundred_half_sent_requests_do_not_starve_the_api() {
    allow_many_files();
    let c = Collector::start("header_timeout_ms = 1000");
    let mut held = Vec::new();
    for _ in 0..1_100 {
        let Ok(mut s) = TcpStream::connect_timeout(&c.addr(), Duration::from_secs(2)) else {
            continue;
        };
        let _ = s.write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        held.push(s);
    }
    assert!(held.len() >= 1_000, "only {} connected", held.len());
    let t = Instant::now();
    assert_eq!(
        c.code("GET", "/api/v1/status", &[]),
        "200",
        "the API was starved"
    );
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    drop(held);
}

#[test]
fn unknown_host_names_and_simple_posts_are_refused() {
    let c = Collector::start("hosts = [\"mon-1.test\"]\ntoken_env = \"FL_TEST_API_TOKEN\"");
    let status = "/api/v1/status";
    assert_eq!(c.code("GET", status, &["Host: evil.example:9180"]), "403");
    assert_eq!(
        c.code("GET", "/metrics", &["Host: rebind.evil.example"]),
        "403"
    );
    for host in ["127.0.0.1", "localhost:1", "mon-1.test:9180", "[::1]:9180"] {
        assert_eq!(
            c.code("GET", status, &[&format!("Host: {host}")]),
            "200",
            "{host}"
        );
    }
    // The lab's merged routes are guarded too; past the guard they answer 404 (no lab).
    let reset = "/api/v1/lab/reset";
    assert_eq!(c.code("POST", reset, &["Content-Type: text/plain"]), "415");
    assert_eq!(
        c.code(
            "POST",
            reset,
            &["Content-Type: application/x-www-form-urlencoded"]
        ),
        "415"
    );
    assert_eq!(
        c.code("POST", reset, &["Authorization: Bearer wrong"]),
        "415"
    );
    assert_eq!(
        c.code("POST", reset, &["Content-Type: application/json"]),
        "404"
    );
    assert_eq!(
        c.code("POST", reset, &["Authorization: Bearer t0ken-for-tests"]),
        "404"
    );
    assert_eq!(
        c.code(
            "POST",
            reset,
            &["Host: evil.example", "Content-Type: application/json"]
        ),
        "403"
    );
    // The CLI's lab command gets past the guard.
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "lab",
            "reset",
            "--api",
            &format!("http://127.0.0.1:{}", c.port),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not running the demo lab"), "{err}");
}
