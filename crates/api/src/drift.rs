//! Cabling drift: declared links against the links LLDP/CDP show (`faultline drift --json`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A link that is declared and not seen, or seen and not declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DriftLink {
    /// `a:if--b:if`.
    pub link: String,
    /// Why it is listed, in words.
    pub detail: String,
}

/// A declared link whose one end is now cabled elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MovedLink {
    /// The declared link, `a:if--b:if`.
    pub link: String,
    /// The end that stayed, `device:if`.
    pub end: String,
    /// The other end as declared.
    pub declared: String,
    /// The other end as seen now.
    pub seen: String,
}

/// Output of `faultline drift TOPOLOGY --json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DriftReport {
    /// Declared, seen from neither end although an end was polled.
    pub missing: Vec<DriftLink>,
    /// Seen, not declared (and not explained as a move).
    pub unexpected: Vec<DriftLink>,
    /// One end the same, the other on another port or device.
    pub moved: Vec<MovedLink>,
    /// Declared links neither of whose devices could be polled: not judged.
    pub unverified: Vec<DriftLink>,
}

impl DriftReport {
    /// True when anything differs (unverified links alone are not drift).
    pub fn drifted(&self) -> bool {
        !(self.missing.is_empty() && self.unexpected.is_empty() && self.moved.is_empty())
    }
}
