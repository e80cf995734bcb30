//! Free loopback ports for test peers.

use std::net::TcpListener;

/// A free TCP port on 127.0.0.1 (bound then released; the race is acceptable in tests, and the
/// peers that can lose it retry on another port).
pub fn free_tcp_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    l.local_addr().expect("local addr").port()
}
