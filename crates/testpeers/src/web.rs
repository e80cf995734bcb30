//! A static web site served by `python3 -m http.server` inside a network namespace, and a tiny
//! HTTP/1.0 GET for readiness checks from the test's own namespace.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The interpreter: Debian's, not a pyenv shim that may lack modules.
const PYTHON: &str = "/usr/bin/python3";
/// Bound on the status line we read back.
const MAX_STATUS_LINE: usize = 512;

/// A running static web server, killed on Drop.
pub struct WebServer {
    pub addr: SocketAddr,
    child: Child,
}

impl WebServer {
    /// Serve `root` (read-only) on `addr` inside namespace `netns`, logging requests to
    /// `log`. `None` (after a loud notice; a panic under `CI`) when python3 is missing.
    pub fn start(netns: &str, addr: SocketAddr, root: &Path, log: &Path) -> Option<WebServer> {
        if !crate::have(PYTHON) {
            return None;
        }
        let out = std::fs::File::create(log).expect("web server log file");
        let err = out.try_clone().expect("web server log file");
        let child = Command::new("ip")
            .args(["netns", "exec", netns, PYTHON, "-m", "http.server"])
            .arg(addr.port().to_string())
            .arg("--bind")
            .arg(addr.ip().to_string())
            .arg("--directory")
            .arg(root)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn python3 -m http.server");
        Some(WebServer { addr, child })
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` over HTTP/1.0 from the current namespace: the status code, or `None` when
/// nothing answered within `timeout` (connect, send and first line each).
pub fn http_status(addr: SocketAddr, path: &str, timeout: Duration) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < MAX_STATUS_LINE && !head.ends_with(b"\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    // "HTTP/1.0 200 OK"
    String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
