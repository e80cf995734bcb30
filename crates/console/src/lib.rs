//! faultline's operator console: the pages the collector serves to browsers, rendered from the
//! API's types (and, for the map, the topology) into HTML and inline SVG.
//!
//! Every function here is pure: data in, markup out, no I/O and no clock (the instant "now" is
//! an input, for ages). The collector's HTTP layer gathers the data and serves the markup; the
//! tests render pages without a server.
//!
//! Everything that comes from the topology or the network (ids, names, evidence text) goes
//! through maud's escaping, in HTML and in SVG alike.
//!
//! ```
//! use faultline_console::{Ctx, incidents_page};
//! let page = incidents_page(&Ctx::new(0, "demo"), &[], &[]).into_string();
//! assert!(page.contains("No open incidents"));
//! ```

mod assets;
mod format;
mod incidents;
mod map;
mod pages;
mod shell;
mod tree;

pub use assets::{CONSOLE_CSS, CONSOLE_JS};
pub use incidents::{Delivery, IncidentView, incident_page, incidents_page};
pub use map::{MapError, MapOptions, map_page, map_svg};
pub use pages::{
    ComponentView, component_page, not_found_page, ready_page, services_page, why_page,
};
pub use shell::{Ctx, Forms};

pub use maud::Markup;
