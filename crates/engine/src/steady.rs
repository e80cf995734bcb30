//! A device's `Steady` (made by thinning, `thin.rs`): every polled signal of the device and
//! its interfaces was seen again, unchanged. It does what the repetitions it stands for would
//! have done: each signal the engine holds for the device counts as seen at its instant, and
//! the device and its links are fed again. Reachability is not among them (another poller,
//! judged key by key).

use faultline_observe::UnixMillis;

use crate::ids::{DeviceIdx, LinkIdx, Timed};
use crate::signals::DeviceSignals;
use crate::{Engine, Output};

/// Count `v` as seen at `at` (never earlier than it was).
fn refresh<T>(v: &mut Timed<T>, at: UnixMillis) {
    v.at = v.at.max(at);
}

impl DeviceSignals {
    /// The polled signals (all but reachability) count as seen at `at`. Whether one that
    /// makes the device's own state (the agent's verdict, the HA report) was older.
    fn refresh_polled(&mut self, at: UnixMillis) -> bool {
        let own = [
            self.agent.as_ref().map(|v| v.at),
            self.ha.as_ref().map(|v| v.at),
        ];
        let older = own.into_iter().flatten().any(|seen| seen < at);
        for v in self.agent.iter_mut() {
            refresh(v, at);
        }
        for v in self.ha.iter_mut() {
            refresh(v, at);
        }
        for v in self.interfaces.values_mut() {
            refresh(v, at);
        }
        for v in self.traffic.values_mut() {
            refresh(v, at);
        }
        older
    }
}

impl Engine {
    /// Take a `Steady` of device `d` at `at`: its signals count as seen, and the components
    /// they make (the device, its links) are fed their raw states again, once each, as the
    /// repetitions would have (a sample for flap detection; staleness restarts). A component
    /// whose signal was taken itself at this instant is not fed twice.
    pub(crate) fn apply_steady(&mut self, d: DeviceIdx, at: UnixMillis, out: &mut Vec<Output>) {
        let c = d.comp(&self.graph);
        let dev = &mut self.state.signals.devices[d];
        let own = dev.refresh_polled(at);
        let ha = dev.ha.is_some();
        if self.state.readiness.refresh(d, at) || ha {
            // Readiness and the HA invariants judge these stamps at correlation.
            self.state.dirty = true;
        }
        // The device's link ends, by the interfaces it reported.
        let device = self.graph.id_of(c);
        let mut name = String::new();
        let ends: Vec<(LinkIdx, usize)> = self.state.signals.devices[d]
            .interfaces
            .keys()
            .filter_map(|interface| {
                name.clear();
                name.push_str(device);
                name.push(':');
                name.push_str(interface);
                self.link_end(d, &name)
            })
            .collect();
        for (l, end) in ends {
            let Some(v) = self.state.signals.links[l][end].as_mut() else {
                continue;
            };
            if v.at < at {
                refresh(v, at);
                let raw = self.state.signals.link_raw(l, self.freshness());
                self.feed(l.comp(&self.graph), raw, at, out);
            }
        }
        if own {
            let raw = self.state.signals.device_raw(d, self.freshness());
            self.feed(c, raw, at, out);
        }
    }
}
