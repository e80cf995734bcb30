//! Topology from the network: walk LLDP-MIB (and CISCO-CDP-MIB where present) breadth-first
//! from seed addresses with faultline's SNMP client, turn the neighbour tables into devices
//! and cables in the project's schema, and compare declared cabling with what the network
//! shows.
//!
//! - [`walk::walk`]: the breadth-first walk (depth and size limits, progress callback); every
//!   announced device is kept, polled or not, with the reason.
//! - [`mib`]: the objects read and their pure decoding ([`mib::decode`]).
//! - [`links`]: local ports resolved through lldpLocPortTable and ifName, announced ports
//!   (interface name, local number, or a MAC with the name only in the description, as lldpd
//!   sends by default) resolved to the neighbour's own ifName when it was polled, else from
//!   what was announced; each end records which ([`links::PortSource`]).
//! - [`render`]: YAML output, new or merged into an existing topology, with comments of origin.
//! - [`drift::compare`]: declared vs seen links (missing, unexpected, moved).
//! - [`ids`] (from `faultline-model`): the rule that turns foreign names into topology ids.

pub mod drift;
pub mod links;
pub mod mib;
pub mod render;
pub mod walk;

/// The id rule, shared with the imports.
pub use faultline_model::ids;

pub use render::Discovered;
pub use walk::{Discovery, Node, NodeStatus, Progress, WalkOptions, walk};
