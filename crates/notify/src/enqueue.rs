//! Enqueueing: record each transition's incident and write one outbox entry per receiver it
//! concerns, in one durable transaction, then mirror the entries in the delivery queues.
//!
//! Routing rules: a new page only where the route filter selects the incident and it is not
//! suppressed; once paged at a receiver, its updates follow (folded into a pending one when
//! possible) and its resolve always goes there, suppressed or not (cf. alertmanager#2754).
//! An acknowledgement (and its withdrawal) goes where the incident was paged, as an entry of
//! its own; while acknowledged, updates are recorded but not sent (no re-notification).

use std::collections::HashMap;

use faultline_incident::{Incident, IncidentTransition, TransitionAction};
use faultline_observe::UnixMillis;
use faultline_observe::time::now_ms;
use faultline_store::{OutboxEntry, PagedRecord, StoreError, Txn};

use crate::notifier::Notifier;
use crate::queue::{QEntry, Queues};
use crate::receivers::{Configured, Labels};
use crate::stats::NotifyStats;
use crate::{NotifyError, Result};

/// One outbox write of a batch, to mirror in the queues afterwards.
struct Op {
    recv: usize,
    entry: OutboxEntry,
    /// Rewrites an entry the queues already hold (coalesced), rather than adding one.
    replaces: bool,
}

/// Plans and writes one batch inside a store transaction.
struct Planner<'t, 'a> {
    txn: &'t mut Txn<'a>,
    queues: &'t Queues,
    now: UnixMillis,
    ops: Vec<Op>,
    /// The latest op of this batch per (receiver, incident): updates fold into it.
    batch_tail: HashMap<(usize, String), usize>,
}

fn non_empty(labels: Labels) -> Option<Labels> {
    (!labels.is_empty()).then_some(labels)
}

/// The labels kept for an incident paged at receiver `c`, after `inc`'s latest change.
fn keep_labels(c: &Configured, inc: &Incident, pinned: Labels) -> Labels {
    c.receiver
        .identity_labels(inc, Some(&pinned))
        .unwrap_or(pinned)
}

impl Planner<'_, '_> {
    fn push(
        &mut self,
        recv: usize,
        name: &str,
        t: &IncidentTransition,
        labels: Option<Labels>,
    ) -> Result<(), StoreError> {
        let entry = self.txn.push_outbox(name, t, labels, self.now)?;
        self.batch_tail
            .insert((recv, t.incident.id.clone()), self.ops.len());
        self.ops.push(Op {
            recv,
            entry,
            replaces: false,
        });
        Ok(())
    }

    fn transition(
        &mut self,
        t: &IncidentTransition,
        receivers: &[Configured],
    ) -> Result<(), StoreError> {
        let inc = &t.incident;
        self.txn.upsert_incident(inc)?;
        for (i, c) in receivers.iter().enumerate() {
            let paged = self.txn.get_paged(&c.cfg.name, &inc.id)?;
            match (t.action, paged) {
                (TransitionAction::Resolve, Some(rec)) => {
                    self.txn.clear_paged(&c.cfg.name, &inc.id)?;
                    let labels = keep_labels(c, inc, rec.labels);
                    self.push(i, &c.cfg.name, t, non_empty(labels))?;
                }
                // Never paged here: nothing to resolve.
                (TransitionAction::Resolve, None) => {}
                (TransitionAction::Acknowledge | TransitionAction::Unacknowledge, Some(rec)) => {
                    let labels = keep_labels(c, inc, rec.labels.clone());
                    self.txn.set_paged(&PagedRecord {
                        incident: inc.clone(),
                        ..rec
                    })?;
                    self.push(i, &c.cfg.name, t, non_empty(labels))?;
                }
                (TransitionAction::Acknowledge | TransitionAction::Unacknowledge, None) => {}
                // Acknowledged: recorded, not paged again.
                (_, Some(mut rec)) if inc.acknowledged.is_some() => {
                    rec.incident = inc.clone();
                    rec.labels = keep_labels(c, inc, std::mem::take(&mut rec.labels));
                    self.txn.set_paged(&rec)?;
                }
                // Maintenance: no new page and no update; a resolve still follows.
                _ if inc.suppressed => {}
                (_, None) if c.cfg.matches(inc) => self.first_page(i, c, t)?,
                (_, None) => {}
                (_, Some(rec)) => self.update(i, c, t, rec)?,
            }
        }
        Ok(())
    }

    /// The first page of an incident at receiver `i`: a trigger, with its identity labels.
    fn first_page(
        &mut self,
        i: usize,
        c: &Configured,
        t: &IncidentTransition,
    ) -> Result<(), StoreError> {
        let labels = c.receiver.identity_labels(&t.incident, None);
        self.txn.set_paged(&PagedRecord {
            receiver: c.cfg.name.clone(),
            incident: t.incident.clone(),
            labels: labels.clone().unwrap_or_default(),
            since: self.now,
        })?;
        let mut first = t.clone();
        first.action = TransitionAction::Trigger;
        self.push(i, &c.cfg.name, &first, labels)
    }

    /// An update of an incident paged at receiver `i`: folded into the pending trigger/update
    /// at the tail of its queue unless that one is already on the wire, else a new update.
    fn update(
        &mut self,
        i: usize,
        c: &Configured,
        t: &IncidentTransition,
        mut rec: PagedRecord,
    ) -> Result<(), StoreError> {
        let inc = &t.incident;
        rec.incident = inc.clone();
        rec.labels = keep_labels(c, inc, std::mem::take(&mut rec.labels));
        self.txn.set_paged(&rec)?;
        let key = (i, inc.id.clone());
        let tail = match self.batch_tail.get(&key) {
            Some(&k) => Some((Some(k), self.ops[k].entry.clone())),
            None => self.queues.recv[i]
                .coalescible_tail(&inc.id)
                .map(|e| (None, e)),
        };
        match tail {
            Some((at, mut e))
                if matches!(
                    e.transition.action,
                    TransitionAction::Trigger | TransitionAction::Update
                ) =>
            {
                let action = e.transition.action;
                e.transition = t.clone();
                e.transition.action = action;
                // The kept labels only grow (services alerted about): the latest cover the
                // folded entry's too.
                e.labels = non_empty(rec.labels.clone());
                self.txn.put_outbox(&e)?;
                match at {
                    Some(k) => self.ops[k].entry = e,
                    None => {
                        self.batch_tail.insert(key, self.ops.len());
                        self.ops.push(Op {
                            recv: i,
                            entry: e,
                            replaces: true,
                        });
                    }
                }
                Ok(())
            }
            _ => {
                let mut up = t.clone();
                up.action = TransitionAction::Update;
                self.push(i, &c.cfg.name, &up, non_empty(rec.labels))
            }
        }
    }
}

impl Notifier {
    /// Record the transition's incident and enqueue the transition for every receiver it
    /// concerns, in one durable transaction. **Blocks** (fsync); see [`Self::enqueue_async`].
    pub fn enqueue(&self, t: &IncidentTransition) -> Result<()> {
        self.enqueue_many(std::slice::from_ref(t))
    }

    /// [`Self::enqueue`] for several transitions (in engine order) in one transaction: one fsync
    /// for an engine step that emitted many.
    pub fn enqueue_many(&self, ts: &[IncidentTransition]) -> Result<()> {
        self.enqueue_many_with(ts, |_| Ok(()))
    }

    /// [`Self::enqueue_many`] plus the caller's own writes in the same transaction, e.g.
    /// `|txn| txn.set_engine_seq(last)`: a crash can then never separate "enqueued" from
    /// "recorded as enqueued".
    pub fn enqueue_many_with(
        &self,
        ts: &[IncidentTransition],
        extra: impl FnOnce(&mut Txn<'_>) -> Result<(), StoreError>,
    ) -> Result<()> {
        let now = now_ms();
        let receivers = &self.inner.t.receivers.list;
        // The queue lock is held across the store transaction so that the coalescing decision
        // (based on what is on the wire) and the commit are one step for the delivery loop.
        let mut q = self.lock();
        let ops = self.inner.store.transact(|txn| {
            let mut p = Planner {
                txn,
                queues: &q,
                now,
                ops: Vec::new(),
                batch_tail: HashMap::new(),
            };
            for t in ts {
                p.transition(t, receivers)?;
            }
            let ops = p.ops;
            extra(txn)?;
            Ok(ops)
        })?;
        for op in ops {
            if op.replaces {
                q.recv[op.recv].replace(op.entry);
            } else {
                q.recv[op.recv].push(QEntry {
                    entry: op.entry,
                    ephemeral: false,
                });
                NotifyStats::add(&self.inner.stats.pending, 1);
            }
        }
        drop(q);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// [`Self::enqueue`] on tokio's blocking pool.
    pub async fn enqueue_async(&self, t: IncidentTransition) -> Result<()> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.enqueue(&t))
            .await
            .map_err(|e| NotifyError::Join(e.to_string()))?
    }
}
