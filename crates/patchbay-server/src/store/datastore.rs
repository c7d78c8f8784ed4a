//! The stored forms of datastores (`sql/datastores.rs`): destinations a sync job run
//! upserts its records into, one table per (datastore, resource) in the server's own
//! database.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The one datastore type: tables in the server's own database (SQLite or Postgres).
pub const PATCHBAY_DATABASE: &str = "patchbay_database";

/// The longest sanitised resource part of a table name (Postgres names are at most 63
/// bytes: `pbds_` + 32 + `_` + 12 hex digits = 50).
const NAME_PART: usize = 32;

/// A stored datastore.
#[derive(Debug, Clone, PartialEq)]
pub struct DatastoreRecord {
    /// The id.
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// A human label.
    pub label: Option<String>,
    /// Its type: always [`PATCHBAY_DATABASE`].
    pub datastore_type: String,
    /// Its record tables, by resource name.
    pub tables: Vec<DatastoreTable>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One record table of a datastore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreTable {
    /// The resource (the sync job entry's name) whose records it holds.
    pub resource: String,
    /// The table's name in the server's database ([`datastore_table_name`]).
    pub table_name: String,
    /// When it was created (on the first page delivered for the resource).
    pub created_at: DateTime<Utc>,
}

/// One page of a resource's records to upsert into a datastore.
#[derive(Debug, Clone, PartialEq)]
pub struct DatastorePage<'a> {
    /// The account the records are of.
    pub integrated_account_id: &'a str,
    /// The resource (the sync job entry's name).
    pub resource: &'a str,
    /// The run delivering them.
    pub sync_job_run_id: &'a str,
    /// The records: `(record id, sequence in the run, record)`. When an id occurs twice,
    /// the later record wins.
    pub records: Vec<(String, u64, &'a Value)>,
}

/// A record as a datastore table holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatastoreEntry {
    /// The account.
    pub integrated_account_id: String,
    /// The resource.
    pub resource: String,
    /// The record's `id`, as text.
    pub record_id: String,
    /// The record as last delivered.
    pub record: Value,
    /// The run that last delivered it.
    pub sync_job_run_id: String,
    /// Its sequence number in that run.
    pub sequence: u64,
    /// When it was last written.
    pub synced_at: DateTime<Utc>,
}

/// The name of the table holding `resource`'s records in the datastore `datastore_id`:
/// `pbds_<resource>_<hash>`, where `<resource>` is the resource lower-cased with every
/// run of characters other than `[a-z0-9]` turned into one `_` and cut to 32 bytes, and
/// `<hash>` the first 12 hex digits of SHA-256 over the datastore id and the resource as
/// given, so names that sanitise alike (`a/b`, `a-b`, `A_B`) or belong to another
/// datastore never share a table. Only `[a-z0-9_]`, at most 50 bytes: safe to write into
/// SQL unquoted on SQLite and Postgres.
pub fn datastore_table_name(datastore_id: &str, resource: &str) -> String {
    let mut part = String::with_capacity(NAME_PART);
    for c in resource.chars() {
        if part.len() == NAME_PART {
            break;
        }
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            part.push(c);
        } else if !part.is_empty() && !part.ends_with('_') {
            part.push('_');
        }
    }
    let part = part.trim_end_matches('_');
    let mut digest = Sha256::new();
    digest.update(datastore_id.as_bytes());
    digest.update([0]);
    digest.update(resource.as_bytes());
    let hash = hex::encode(&digest.finalize()[..6]);
    if part.is_empty() {
        format!("pbds_{hash}")
    } else {
        format!("pbds_{part}_{hash}")
    }
}

#[cfg(test)]
mod tests {
    use super::datastore_table_name;

    fn safe(name: &str) -> bool {
        name.len() <= 63
            && name.starts_with("pbds_")
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn table_names_are_sanitised_capped_and_never_collide() {
        let name = datastore_table_name("ds1", "ticketing/tickets");
        assert!(name.starts_with("pbds_ticketing_tickets_"), "{name}");
        assert_eq!(name.len(), "pbds_ticketing_tickets_".len() + 12);
        assert_eq!(name, datastore_table_name("ds1", "ticketing/tickets"));

        let hostile = [
            "x\"; DROP TABLE sync_job_runs; --",
            "Robert'); DROP TABLE students;--",
            "tickets` OR 1=1",
            "\u{0}\u{1}\n\t",
            "ÜberTicket€s",
            "",
            "___",
            &"a".repeat(500),
            "SELECT",
            "9lives",
        ];
        let mut names: Vec<String> = hostile
            .iter()
            .map(|r| datastore_table_name("ds1", r))
            .collect();
        for (resource, name) in hostile.iter().zip(&names) {
            assert!(safe(name), "{resource:?} → {name}");
        }
        assert_eq!(
            names[0],
            format!("pbds_x_drop_table_sync_job_runs_{}", &names[0][32..])
        );
        assert_eq!(names[7].len(), 50, "capped: {}", names[7]);
        // Names that sanitise alike, and another datastore's, differ.
        names.push(datastore_table_name("ds1", "ticketing-tickets"));
        names.push(datastore_table_name("ds1", "TICKETING_TICKETS"));
        names.push(datastore_table_name("ds1", "ticketing/tickets"));
        names.push(datastore_table_name("ds2", "ticketing/tickets"));
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}
