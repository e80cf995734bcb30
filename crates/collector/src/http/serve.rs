//! The API's HTTP/1.1 server, bounded so that slow or idle clients cannot starve it: at most
//! `[api] max_connections` are served at once (the rest wait in the kernel's accept queue,
//! holding no file descriptor of ours), a client must send a request's headers within
//! `header_timeout_ms`, and a connection silent for `idle_timeout_s` is closed. At shutdown,
//! requests in progress finish. With `[api.tls]`, each connection first completes a TLS
//! handshake (within `header_timeout_ms`); a client speaking plain HTTP gets no answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::config::ApiConfig;

/// Pause after a failed `accept` (EMFILE, ENFILE, ENOMEM): the cause lasts until a connection
/// closes, and retrying at once would spin a core.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// At most one log line per this period about failing accepts (with the count since).
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// The server's bounds, from `[api]`, and its TLS configuration (`[api.tls]`).
#[derive(Clone)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub tls: Option<TlsAcceptor>,
}

impl Limits {
    pub(crate) fn new(
        cfg: &ApiConfig,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> Limits {
        Limits {
            max_connections: cfg.max_connections.get() as usize,
            header_timeout: cfg.header_timeout_ms.get(),
            idle_timeout: cfg.idle_timeout_s.get(),
            tls: tls.map(TlsAcceptor::from),
        }
    }
}

/// Serve `router` on `listener` until `shutdown`, then let the connections finish.
pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = JoinSet::new();
    let mut accept_errors = AcceptErrors::default();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_errors.record(&e);
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        connections.spawn(connection(
            stream,
            router.clone(),
            limits.clone(),
            shutdown.clone(),
            permit,
        ));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Rate-limited logging of failed accepts.
#[derive(Default)]
struct AcceptErrors {
    last_logged: Option<Instant>,
    since: u64,
}

impl AcceptErrors {
    fn record(&mut self, e: &std::io::Error) {
        self.since += 1;
        if self
            .last_logged
            .is_none_or(|t| t.elapsed() >= ACCEPT_ERROR_LOG_EVERY)
        {
            warn!(error = %e, failed = self.since, "HTTP API cannot accept connections");
            self.last_logged = Some(Instant::now());
            self.since = 0;
        }
    }
}

/// One connection, holding its slot until it ends.
async fn connection(
    stream: TcpStream,
    router: axum::Router,
    limits: Limits,
    shutdown: CancellationToken,
    _slot: OwnedSemaphorePermit,
) {
    let activity = Activity::new();
    let watched = Watched {
        stream,
        activity: activity.clone(),
    };
    match &limits.tls {
        None => http(watched, activity, router, &limits, shutdown).await,
        Some(acceptor) => {
            let handshake = acceptor.accept(watched);
            match tokio::time::timeout(limits.header_timeout, handshake).await {
                Ok(Ok(tls)) => http(tls, activity, router, &limits, shutdown).await,
                Ok(Err(e)) => debug!(error = %e, "HTTP API: TLS handshake failed"),
                Err(_) => debug!("HTTP API: TLS handshake timed out"),
            }
        }
    }
}

/// Serve HTTP/1.1 on `io` (plain or TLS) until the client leaves, idles out or we stop.
async fn http<I>(
    io: I,
    activity: Activity,
    router: axum::Router,
    limits: &Limits,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(io, TowerToHyperService::new(router));
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let quiet_since = activity.last();
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    debug!(error = %e, "HTTP API connection ended");
                }
                return;
            }
            _ = shutdown.cancelled(), if !stopping => {
                conn.as_mut().graceful_shutdown();
                stopping = true;
            }
            _ = tokio::time::sleep_until(activity.deadline(quiet_since, limits.idle_timeout)) => {
                if activity.last() == quiet_since {
                    debug!("HTTP API connection idle; closing it");
                    return;
                }
            }
        }
    }
}

/// When a connection last moved bytes, in milliseconds since it was accepted.
#[derive(Clone)]
struct Activity {
    epoch: tokio::time::Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            epoch: tokio::time::Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> u64 {
        self.last_ms.load(Ordering::Relaxed)
    }

    fn deadline(&self, last_ms: u64, idle: Duration) -> tokio::time::Instant {
        self.epoch + Duration::from_millis(last_ms) + idle
    }
}

/// The TCP stream, recording each read or write that moves bytes.
struct Watched {
    stream: TcpStream,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
