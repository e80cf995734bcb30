//! One module per subcommand.
pub mod client;
pub mod docs;
pub mod outbox;
pub mod poll;
pub mod probe;
pub mod replay;
pub mod run;
pub mod store;
pub mod test_page;
pub mod topo;
pub mod traps;
