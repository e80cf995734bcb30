//! The trap task: SNMP traps and informs become observations, and each prompts a re-poll of its
//! device (polled state stays the truth).

use faultline_trap::{TrapConfig, TrapEvent, TrapReceiver};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Observations, RepollRequests};
use crate::config::TrapSettings;
use crate::plan::PollTarget;

/// Forwards decoded notifications from the trap receiver.
pub(crate) struct TrapTask {
    /// Kept for as long as the task runs: dropping it stops the receiver. It was bound with the
    /// collector's shutdown token, so at shutdown it closes its socket and `events` ends.
    receiver: TrapReceiver,
    /// Decoded notifications, with their observations and the device to re-poll.
    events: mpsc::Receiver<TrapEvent>,
    /// Where the observations go; the task ends when the engine task is gone.
    observations: Observations,
    /// Where re-poll requests go (dropped and counted when the queue is full).
    repoll: RepollRequests,
}

impl TrapTask {
    /// Bind the receiver; its sources are the devices with an IP address. A receiver that
    /// cannot bind is logged and the collector runs without traps.
    pub(crate) async fn bind(
        settings: &TrapSettings,
        targets: &[PollTarget],
        communities: Vec<faultline_trap::Secret>,
        observations: Observations,
        repoll: RepollRequests,
        shutdown: CancellationToken,
    ) -> Option<TrapTask> {
        let mut tc = TrapConfig::new(settings.listen);
        tc.sources = targets
            .iter()
            .filter_map(|t| t.ip.map(|ip| (ip, t.device.clone())))
            .collect();
        if communities.is_empty() {
            warn!("[traps] has no community: v1/v2c traps will be refused");
        }
        tc.communities = communities;
        match TrapReceiver::bind_with_shutdown(tc, shutdown).await {
            Ok((receiver, events)) => {
                info!(listen = %receiver.local_addr(), "trap receiver listening");
                Some(TrapTask {
                    receiver,
                    events,
                    observations,
                    repoll,
                })
            }
            Err(e) => {
                warn!(error = %e, "trap receiver disabled");
                None
            }
        }
    }

    pub(crate) async fn run(mut self) {
        while let Some(ev) = self.events.recv().await {
            if let Some(dev) = ev.repoll {
                self.repoll.request(vec![dev]);
            }
            if !ev.observations.is_empty() && self.observations.send(ev.observations).await.is_err()
            {
                break;
            }
        }
        drop(self.receiver);
    }
}
