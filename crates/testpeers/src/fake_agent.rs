//! A UDP responder that answers every datagram with `reply(request)`: garbage, truncated or
//! oversized answers for the error paths of SNMP clients. Runs on its own thread until Drop.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the responder thread looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);
/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;

pub struct FakeAgent {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl FakeAgent {
    /// Bind 127.0.0.1 on a free port and answer with `reply`.
    pub fn start(reply: impl Fn(&[u8]) -> Vec<u8> + Send + 'static) -> FakeAgent {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind fake agent");
        sock.set_read_timeout(Some(STOP_POLL))
            .expect("fake agent read timeout");
        let addr = sock.local_addr().expect("fake agent address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = vec![0u8; MAX_DATAGRAM];
            while !stopped.load(Ordering::Relaxed) {
                if let Ok((n, from)) = sock.recv_from(&mut buf) {
                    let answer = reply(&buf[..n]);
                    let _ = sock.send_to(&answer, from);
                }
            }
        });
        FakeAgent {
            addr,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
