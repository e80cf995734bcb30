//! One module per subcommand.
pub mod client;
pub mod cluster;
pub mod discover;
pub mod docs;
pub mod drift;
pub mod import;
pub mod outbox;
pub mod poll;
pub mod poller;
pub mod probe;
pub mod replay;
pub mod run;
pub mod store;
pub mod test_page;
pub mod topo;
pub mod traps;
pub mod walk_args;
