//! Views of datastores (`/datastore`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{DatastoreRecord, DatastoreTable};

/// A destination sync job runs upsert their records into (`datastore_id` of
/// `POST /sync-job-run`): a table per resource in the server's own database.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Datastore)]
pub struct DatastoreView {
    /// The id.
    pub id: String,
    /// The environment it belongs to.
    pub environment_id: String,
    /// Always `patchbay_database`: tables in the server's own database.
    #[serde(rename = "type")]
    pub datastore_type: String,
    /// A human label.
    pub label: Option<String>,
    /// Its record tables, one per resource a run delivered into it, oldest first.
    pub tables: Vec<DatastoreTableView>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// One record table of a datastore: primary key `(integrated_account_id, resource,
/// record_id)`, columns `record` (JSON), `sync_job_run_id`, `sequence`, `synced_at`
/// (microseconds since the Unix epoch).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DatastoreTable)]
pub struct DatastoreTableView {
    /// The resource (the sync job entry's name) whose records it holds.
    pub resource: String,
    /// The table's name in the server's database (`pbds_<resource>_<hash>`).
    pub table_name: String,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl From<DatastoreTable> for DatastoreTableView {
    fn from(table: DatastoreTable) -> Self {
        Self {
            resource: table.resource,
            table_name: table.table_name,
            created_at: table.created_at,
        }
    }
}

impl From<DatastoreRecord> for DatastoreView {
    fn from(record: DatastoreRecord) -> Self {
        Self {
            id: record.id,
            environment_id: record.environment_id,
            datastore_type: record.datastore_type,
            label: record.label,
            tables: record.tables.into_iter().map(Into::into).collect(),
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}
