//! `GET /api/v1/events`: Server-Sent Events for live views. One `hello` on connect, then a
//! `change` whenever the engine task counted a round that changed a state or an incident
//! (a `watch` channel: changes in quick succession coalesce into one event). The stream ends at
//! shutdown, so that a graceful stop does not wait on open browsers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use faultline_api as api;
use futures::Stream;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::Shared;

/// A comment line at least this often: shorter than the shortest `[api] idle_timeout_s` a
/// deployment is likely to set, so that the server's idle timer does not close the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

fn event(name: &str, seq: u64) -> Event {
    let data = serde_json::to_string(&api::ChangeEvent { seq }).unwrap_or_default();
    Event::default().event(name).data(data)
}

pub(crate) async fn events(
    State(s): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut rx = s.changes.subscribe();
    let first = *rx.borrow_and_update();
    let stop = s.stopping.clone();
    let hello = futures::stream::once(async move { Ok(event(api::EVENT_HELLO, first)) });
    let changes = futures::stream::unfold((rx, stop), next_change);
    Sse::new(futures::StreamExt::chain(hello, changes))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

type Waiting = (watch::Receiver<u64>, CancellationToken);

async fn next_change((mut rx, stop): Waiting) -> Option<(Result<Event, Infallible>, Waiting)> {
    tokio::select! {
        _ = stop.cancelled() => None,
        changed = rx.changed() => {
            changed.ok()?;
            let seq = *rx.borrow_and_update();
            Some((Ok(event(api::EVENT_CHANGE, seq)), (rx, stop)))
        }
    }
}
