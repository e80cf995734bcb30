//! Topology imports: turn another tool's inventory into a faultline topology.
//!
//! - [`nagios`]: a main `nagios.cfg` (its `cfg_file` / `cfg_dir` followed) or object files →
//!   devices (hosts with their address, hostgroups as tags), parent relations as requirements
//!   (several parents become one `any` group). Templates (`register 0`, `use`) are resolved and
//!   never become devices. Names ids do not allow are mapped by [`faultline_model::ids`]'
//!   rule; the original name stays in the comment above the device.
//! - [`netbox`]: saved NetBox/Nautobot API pages (devices, interfaces, cables) → devices,
//!   links (cables between two interfaces) and `any` groups (virtual chassis).

pub mod nagios;
pub mod netbox;
mod objects;
