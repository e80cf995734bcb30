//! The redb tables of the store file and the keys of its counters.

use redb::TableDefinition;

pub(crate) const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const INCIDENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("incidents");
pub(crate) const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
pub(crate) const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
pub(crate) const DEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("dead_letters");
pub(crate) const PAGED: TableDefinition<&str, &[u8]> = TableDefinition::new("paged");

/// The tables keyed by a sequence number.
pub(crate) const SEQ_TABLES: [TableDefinition<u64, &[u8]>; 3] = [JOURNAL, OUTBOX, DEAD];
/// The tables keyed by a name.
pub(crate) const NAMED_TABLES: [TableDefinition<&str, &[u8]>; 3] = [INCIDENTS, SNAPSHOTS, PAGED];

pub(crate) const META_JOURNAL_NEXT: &str = "journal_next";
pub(crate) const META_OUTBOX_NEXT: &str = "outbox_next";
pub(crate) const META_ENGINE_SEQ: &str = "engine_seq";
/// Counts committed write transactions: a transaction whose commit failed with an I/O error
/// reached the file iff, once re-opened, this counter holds the value the transaction wrote.
pub(crate) const META_COMMITS: &str = "commits";

/// Separates receiver and incident id in the paged table's keys; a control character cannot
/// appear in either (ids come from the topology and config), so prefix ranges are exact.
pub(crate) const KEY_SEP: char = '\u{1f}';

pub(crate) fn paged_key(receiver: &str, incident: &str) -> String {
    format!("{receiver}{KEY_SEP}{incident}")
}
