//! The collector's API against hostile clients (issue #9 item 17), on the `faultline` binary
//! with the usual 1 024 open-file limit: half-sent and idle connections are closed, a flood of
//! them cannot starve the API, unknown `Host:` names (DNS rebinding) are refused, and changes
//! need a JSON content type or the API token (no cross-site `text/plain` POST). With
//! `[api.auth]` (issue #11): roles on the lab's routes, the CLI's token, `hash-password`, no
//! secret in logs or answers; a non-loopback listen without auth is refused.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_testpeers::ports::free_tcp_port;

/// The viewer token of the `[api.auth]` tests (from `FL_TEST_VIEWER_TOKEN`).
const VIEWER_TOKEN: &str = "v1ewer-t0ken-for-tests";

/// Kills the collector even when an assertion fails.
struct Collector {
    child: Child,
    port: u16,
    /// Talk HTTPS, trusting this CA (`[api.tls]`).
    ca: Option<std::path::PathBuf>,
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
        Self::start_logging(api, "warn")
    }

    /// [`Collector::start`] with `FAULTLINE_LOG=level`; the log is kept in `run.log`.
    fn start_logging(api: &str, level: &str) -> Collector {
        Self::start_with(api, level, None)
    }

    /// [`Collector::start_logging`], over HTTPS trusting `ca` when given.
    fn start_with(api: &str, level: &str, ca: Option<std::path::PathBuf>) -> Collector {
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
            .env("FAULTLINE_LOG", level)
            .env("FL_TEST_API_TOKEN", "t0ken-for-tests")
            .env("FL_TEST_VIEWER_TOKEN", VIEWER_TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn faultline run");
        let c = Collector {
            child,
            port,
            ca,
            _dir: dir,
        };
        c.wait_up(&log);
        c
    }

    fn wait_up(&self, log: &Path) {
        let t = Instant::now();
        while self.code("GET", "/-/healthy", &[]) != "200" {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the API never came up: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("run.log")).unwrap_or_default()
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The status code of one request made with curl; `headers` are `-H` values, except a
    /// `"-u", "user:password"` pair (basic auth).
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
        let mut headers = headers.iter();
        while let Some(h) = headers.next() {
            match *h {
                "-u" => cmd.args(["-u", headers.next().expect("-u user:password")]),
                h => cmd.args(["-H", h]),
            };
        }
        let scheme = match &self.ca {
            Some(ca) => {
                cmd.arg("--cacert").arg(ca);
                "https"
            }
            None => "http",
        };
        let out = cmd
            .arg(format!("{scheme}://127.0.0.1:{}{path}", self.port))
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
    // A form post is the console's: without our Origin and anti-forgery token, refused.
    assert_eq!(
        c.code(
            "POST",
            reset,
            &["Content-Type: application/x-www-form-urlencoded"]
        ),
        "403"
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

/// `faultline hash-password` with `password` on standard input.
fn hash_password(password: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "hash-password failed");
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(password));
    hash
}

#[test]
fn with_auth_roles_hold_on_the_labs_routes_and_no_secret_reaches_a_log_or_an_answer() {
    let password = "pa55-word-for-tests";
    let hash = hash_password(password);
    let c = Collector::start_logging(
        &format!(
            "[[api.auth.tokens]]\nname = \"deployer\"\nrole = \"operator\"\n\
             token_env = \"FL_TEST_API_TOKEN\"\n\
             [[api.auth.tokens]]\nname = \"grafana\"\nrole = \"viewer\"\n\
             token_env = \"FL_TEST_VIEWER_TOKEN\"\n\
             [[api.auth.users]]\nname = \"ops\"\nrole = \"operator\"\npassword_hash = \"{hash}\"\n"
        ),
        "debug",
    );
    let status = "/api/v1/status";
    let reset = "/api/v1/lab/reset";
    let operator = "Authorization: Bearer t0ken-for-tests";
    let viewer = format!("Authorization: Bearer {VIEWER_TOKEN}");
    let json = "Content-Type: application/json";
    assert_eq!(c.code("GET", status, &[]), "401");
    assert_eq!(
        c.code("GET", status, &["Authorization: Bearer wrong"]),
        "401"
    );
    assert_eq!(c.code("GET", status, &[&viewer]), "200");
    assert_eq!(c.code("POST", reset, &[&viewer, json]), "403");
    // Past the guard: 404, not running the lab.
    assert_eq!(c.code("POST", reset, &[operator]), "404");
    let ops = format!("ops:{password}");
    assert_eq!(c.code("GET", "/incidents", &["-u", &ops]), "200");
    assert_eq!(c.code("GET", status, &["-u", "ops:b4d-guess-xyz"]), "401");
    assert_eq!(c.code("GET", "/-/healthy", &[]), "200");
    assert_eq!(c.code("GET", "/metrics", &[]), "401");

    // The CLI: the token from the environment, else 401 (exit 1, the answer's message).
    let api = format!("http://127.0.0.1:{}", c.port);
    let cli = |token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_faultline"));
        cmd.args(["status", "--json", "--api", &api])
            .env_remove("FAULTLINE_API_TOKEN")
            .env_remove("FAULTLINE_API_TOKEN_FILE");
        if let Some(t) = token {
            cmd.env("FAULTLINE_API_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let without = cli(None);
    assert_eq!(without.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&without.stderr).contains("authentication required"));
    let with = cli(Some(VIEWER_TOKEN));
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let answer = String::from_utf8_lossy(&with.stdout).into_owned();

    let log = c.log();
    assert!(
        log.contains("wrong user name or password"),
        "the debug log was captured: {log}"
    );
    for secret in [
        "t0ken-for-tests",
        VIEWER_TOKEN,
        password,
        &hash,
        "b4d-guess-xyz",
    ] {
        assert!(!log.contains(secret), "`{secret}` in the log:\n{log}");
        assert!(!answer.contains(secret), "`{secret}` in the API's answer");
    }
}

#[test]
fn a_non_loopback_listen_without_auth_is_refused_unless_insecure_listen() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.yaml"),
        "name: t\ndevices:\n  - {id: a, kind: switch}\n",
    )
    .unwrap();
    let cfg = dir.path().join("faultline.toml");
    std::fs::write(
        &cfg,
        "topology = \"t.yaml\"\n[store]\npath = \"fl.redb\"\n[api]\nlisten = \"0.0.0.0:9180\"\n",
    )
    .unwrap();
    let check = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["run", "--check", "--config"])
            .arg(&cfg)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = check(&[]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("0.0.0.0:9180") && err.contains("--insecure-listen"),
        "{err}"
    );
    let refused = check(&["--listen", "[::]:0"]);
    assert_eq!(refused.status.code(), Some(1));
    let accepted = check(&["--insecure-listen"]);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    let loopback = check(&["--listen", "127.0.0.1:0"]);
    assert!(loopback.status.success());
}

#[test]
fn the_cli_talks_https_with_ca_file_and_a_token_file() {
    let Some(ca) = faultline_testpeers::tls::TestCa::new() else {
        return;
    };
    let c = Collector::start_with(
        &format!(
            "[[api.auth.tokens]]\nname = \"cli\"\nrole = \"viewer\"\n\
             token_env = \"FL_TEST_VIEWER_TOKEN\"\n\
             [api.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\n",
            ca.server_cert().display(),
            ca.server_key().display()
        ),
        "warn",
        Some(ca.ca_cert()),
    );
    let token_file = ca.dir().join("cli.token");
    std::fs::write(&token_file, format!("{VIEWER_TOKEN}\n")).unwrap();
    let status = |api: String, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["status", "--json", "--api", &api])
            .args(args)
            .env_remove("FAULTLINE_API_TOKEN")
            .env_remove("FAULTLINE_API_CA_FILE")
            .env_remove("FAULTLINE_API_TOKEN_FILE")
            .output()
            .unwrap()
    };
    let https = format!("https://127.0.0.1:{}", c.port);
    let ca_file = ca.ca_cert().display().to_string();
    let tf = token_file.display().to_string();
    let ok = status(https.clone(), &["--ca-file", &ca_file, "--token-file", &tf]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"topology\""));
    // Without the CA the certificate is not trusted: unreachable (exit 3).
    let untrusted = status(https.clone(), &["--token-file", &tf]);
    assert_eq!(untrusted.status.code(), Some(3));
    // Plain HTTP to the TLS port gets no answer.
    let plain = status(
        format!("http://127.0.0.1:{}", c.port),
        &["--token-file", &tf],
    );
    assert_eq!(plain.status.code(), Some(3));
}
