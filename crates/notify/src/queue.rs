//! In-memory delivery queues, mirroring the outbox: per receiver, per incident, in enqueue
//! order. An incident's next entry waits while the one before it is on the wire or backing off,
//! so a resolve never overtakes its trigger; different incidents never block each other. Token
//! buckets pace receivers that limit their rate.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use faultline_store::OutboxEntry;

/// One entry waiting for its receiver.
pub(crate) struct QEntry {
    pub entry: OutboxEntry,
    /// A re-post of a firing alert: not in the store, dropped on failure.
    pub ephemeral: bool,
}

/// One incident's entries at one receiver.
#[derive(Default)]
pub(crate) struct KeyQueue {
    pub entries: VecDeque<QEntry>,
    /// The head is on the wire.
    pub in_flight: bool,
    /// The head id under which this incident sits in the receiver's ready set.
    ready_id: Option<u64>,
}

/// One receiver's queues and back-off state.
pub(crate) struct RecvQueue {
    pub keys: HashMap<String, KeyQueue>,
    /// Incidents whose head can be sent now, by head outbox id (global enqueue order).
    ready: BTreeSet<(u64, String)>,
    pub in_flight: usize,
    /// Backed off until then (after a transient failure or an empty token bucket).
    pub not_before: Option<Instant>,
    /// Consecutive failed attempts (drives the backoff).
    pub failures: u32,
    /// When firing incidents are re-posted next (receivers with a resend interval).
    pub next_resend: Option<Instant>,
}

impl RecvQueue {
    pub fn new(now: Instant, resend: Option<Duration>) -> Self {
        RecvQueue {
            keys: HashMap::new(),
            ready: BTreeSet::new(),
            in_flight: 0,
            not_before: None,
            failures: 0,
            next_resend: resend.map(|r| now + r),
        }
    }

    /// Re-file `incident` in the ready set after its queue or in-flight flag changed.
    pub fn refresh(&mut self, incident: &str) {
        let Some(kq) = self.keys.get_mut(incident) else {
            return;
        };
        if let Some(old) = kq.ready_id.take() {
            self.ready.remove(&(old, incident.to_string()));
        }
        if kq.in_flight {
            return;
        }
        match kq.entries.front() {
            Some(head) => {
                kq.ready_id = Some(head.entry.id);
                self.ready.insert((head.entry.id, incident.to_string()));
            }
            None => {
                self.keys.remove(incident);
            }
        }
    }

    pub fn push(&mut self, q: QEntry) {
        let inc = q.entry.transition.incident.id.clone();
        self.keys
            .entry(inc.clone())
            .or_default()
            .entries
            .push_back(q);
        self.refresh(&inc);
    }

    /// The oldest ready incident, if any.
    pub fn first_ready(&self) -> Option<(u64, String)> {
        self.ready.first().cloned()
    }

    /// Put the head of `incident` on the wire; the entry to send.
    pub fn start(&mut self, ready: &(u64, String)) -> Option<&QEntry> {
        self.ready.remove(ready);
        let kq = self.keys.get_mut(&ready.1)?;
        kq.ready_id = None;
        let head = kq.entries.front()?;
        kq.in_flight = true;
        self.in_flight += 1;
        Some(head)
    }

    /// The stored entry at the tail of `incident`'s queue that a new update may be folded
    /// into: not one already on the wire, not a re-post.
    pub fn coalescible_tail(&self, incident: &str) -> Option<OutboxEntry> {
        let kq = self.keys.get(incident)?;
        let on_wire = kq.in_flight && kq.entries.len() == 1;
        kq.entries
            .back()
            .filter(|b| !on_wire && !b.ephemeral)
            .map(|b| b.entry.clone())
    }

    /// Replace the queued copy of a stored entry that was rewritten (coalesced).
    pub fn replace(&mut self, entry: OutboxEntry) {
        if let Some(slot) = self
            .keys
            .get_mut(&entry.transition.incident.id)
            .and_then(|kq| kq.entries.iter_mut().rev().find(|e| e.entry.id == entry.id))
        {
            slot.entry = entry;
        }
    }

    /// Anything queued for `incident`?
    pub fn has_queued(&self, incident: &str) -> bool {
        self.keys
            .get(incident)
            .is_some_and(|kq| !kq.entries.is_empty())
    }

    /// An attempt at `incident`'s head (`id`) finished: take the incident off the wire, drop
    /// the head if `gone`, else note the failure `error` on it.
    pub fn finish(
        &mut self,
        incident: &str,
        id: u64,
        ephemeral: bool,
        gone: bool,
        error: Option<&str>,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(kq) = self.keys.get_mut(incident) {
            kq.in_flight = false;
            if let Some(front) = kq.entries.front_mut()
                && front.entry.id == id
                && front.ephemeral == ephemeral
            {
                if gone {
                    kq.entries.pop_front();
                } else if let Some(error) = error {
                    front.entry.attempts += 1;
                    front.entry.last_error = Some(error.to_string());
                }
            }
        }
        self.refresh(incident);
    }

    /// Failed attempts so far of `incident`'s head if it is entry `id`.
    pub fn head_attempts(&self, incident: &str, id: u64) -> u32 {
        self.keys
            .get(incident)
            .and_then(|kq| kq.entries.front())
            .filter(|f| f.entry.id == id)
            .map_or(0, |f| f.entry.attempts)
    }

    /// Back off until at least `until`.
    pub fn back_off(&mut self, until: Instant) {
        self.not_before = Some(self.not_before.map_or(until, |nb| nb.max(until)));
    }

    /// Requests left unanswered at shutdown count as not delivered: take their incidents off
    /// the wire so that a later run sends them again. A re-post is not worth keeping.
    pub fn release_in_flight(&mut self) {
        self.in_flight = 0;
        let stuck: Vec<String> = self
            .keys
            .iter()
            .filter(|(_, kq)| kq.in_flight)
            .map(|(k, _)| k.clone())
            .collect();
        for inc in stuck {
            if let Some(kq) = self.keys.get_mut(&inc) {
                kq.in_flight = false;
                if kq.entries.front().is_some_and(|f| f.ephemeral) {
                    kq.entries.pop_front();
                }
            }
            self.refresh(&inc);
        }
    }
}

/// A token bucket: `per_minute` events, refilled continuously, bursting up to a minute's worth.
pub(crate) struct TokenBucket {
    tokens: f64,
    capacity: f64,
    per_sec: f64,
    at: Instant,
}

impl TokenBucket {
    pub fn new(per_minute: u32, now: Instant) -> Self {
        let capacity = f64::from(per_minute.max(1));
        TokenBucket {
            tokens: capacity,
            capacity,
            per_sec: capacity / 60.0,
            at: now,
        }
    }

    /// Take a token, or say when the next one will be there.
    pub fn take(&mut self, now: Instant) -> Result<(), Instant> {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.per_sec).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(now + Duration::from_secs_f64((1.0 - self.tokens) / self.per_sec))
        }
    }
}

/// All receivers' queues (indexed like the receivers) and the shared token buckets.
pub(crate) struct Queues {
    pub recv: Vec<RecvQueue>,
    pub buckets: HashMap<String, TokenBucket>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_a_minute_then_paces() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(120, t0);
        for _ in 0..120 {
            assert!(b.take(t0).is_ok());
        }
        let next = b.take(t0).expect_err("bucket must be empty");
        let wait = next.duration_since(t0).as_millis();
        assert!((490..=510).contains(&wait), "{wait}");
        assert!(b.take(t0 + Duration::from_millis(500)).is_ok());
    }
}
