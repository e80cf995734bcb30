//! The console's two static assets, embedded in the binary: no build step, no third-party code.

/// The stylesheet, served as `/assets/console.css`.
pub const CONSOLE_CSS: &str = include_str!("../assets/console.css");

/// The one script, served as `/assets/console.js`: live updates over Server-Sent Events. Every
/// page reads without it; with it, the page's `<main>` is refreshed when the collector's state
/// changes.
pub const CONSOLE_JS: &str = include_str!("../assets/console.js");
