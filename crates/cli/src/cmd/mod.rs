//! One module per subcommand.
pub mod topo;
pub mod probe;
pub mod traps;
pub mod poll;
pub mod outbox;
pub mod test_page;
pub mod live;
