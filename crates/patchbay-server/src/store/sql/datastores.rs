//! Datastores (`/datastore`) and their record tables.
//!
//! A datastore of type `patchbay_database` is a set of tables in this database, one per
//! resource a run delivers into it, named by [`datastore_table_name`] (never the
//! caller's text as written), created on first use (`CREATE TABLE IF NOT EXISTS`) and
//! listed in `datastore_tables`. Each table's primary key is `(integrated_account_id,
//! resource, record_id)`; a page of records is upserted in one transaction (`INSERT …
//! ON CONFLICT … DO UPDATE`, multi-row, chunked under SQLite's parameter limit). On
//! Postgres `record` is `JSONB`, on SQLite `TEXT` holding JSON (`json_extract` reads it).

use std::collections::HashMap;

use serde_json::Value;

use super::super::backend::{Arg, Batch, Row, Statement, args};
use super::super::datastore::{
    DatastoreEntry, DatastorePage, DatastoreRecord, DatastoreTable, PATCHBAY_DATABASE,
    datastore_table_name,
};
use super::super::error::{StorageError, StorageResult};
use super::super::model::{Page, PageRequest};
use super::super::time;
use super::scoped::Scoped;
use super::{Store, new_id};

const DATASTORES: Scoped = Scoped {
    table: "datastores",
    kind: "datastore",
    columns: "id, environment_id, label, type, created_at, updated_at",
};

const TABLES: &str = "datastore_tables";

/// Rows per upsert statement: 4 shared parameters and 3 per row stay under SQLite's
/// 32,766 (and Postgres's 65,535).
const ROWS_PER_STATEMENT: usize = 5_000;

/// The statuses of a run that has not ended.
const UNFINISHED: &str = "('created', 'running', 'rate_limited')";

fn datastore_from_row(row: &Row) -> StorageResult<DatastoreRecord> {
    Ok(DatastoreRecord {
        id: row.text("id")?,
        environment_id: row.text("environment_id")?,
        label: row.opt_text("label")?,
        datastore_type: row.text("type")?,
        tables: Vec::new(),
        created_at: time::column(DATASTORES.table, row.int("created_at")?)?,
        updated_at: time::column(DATASTORES.table, row.int("updated_at")?)?,
    })
}

fn table_from_row(row: &Row) -> StorageResult<(String, DatastoreTable)> {
    Ok((
        row.text("datastore_id")?,
        DatastoreTable {
            resource: row.text("resource")?,
            table_name: row.text("table_name")?,
            created_at: time::column(TABLES, row.int("created_at")?)?,
        },
    ))
}

/// `name` if it is one [`datastore_table_name`] makes; a stored name is written into SQL,
/// so it is checked again when read back.
fn checked_name(name: String) -> StorageResult<String> {
    let safe = name.starts_with("pbds_")
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if safe {
        Ok(name)
    } else {
        Err(StorageError::corrupt(
            TABLES,
            "`table_name` is not a datastore table name",
        ))
    }
}

impl Store {
    /// Stores a datastore of type [`PATCHBAY_DATABASE`] (the caller checked the type);
    /// answers it as stored.
    ///
    /// # Errors
    ///
    /// A [`StorageError`] of the database.
    pub async fn create_datastore(
        &self,
        environment_id: &str,
        label: Option<String>,
    ) -> StorageResult<DatastoreRecord> {
        let now = time::now();
        let record = DatastoreRecord {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            label,
            datastore_type: PATCHBAY_DATABASE.to_owned(),
            tables: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.backend
            .execute(
                "INSERT INTO datastores (id, environment_id, label, type, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
                args![
                    &record.id,
                    environment_id,
                    record.label.clone(),
                    &record.datastore_type,
                    time::to_micros(now)
                ],
            )
            .await?;
        Ok(record)
    }

    /// A datastore of the environment, with its tables.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a datastore of another environment or none.
    pub async fn get_datastore(
        &self,
        environment_id: &str,
        id: &str,
    ) -> StorageResult<DatastoreRecord> {
        let mut record =
            datastore_from_row(&self.fetch_scoped(&DATASTORES, environment_id, id).await?)?;
        record.tables = self
            .fetch_map(
                TABLES,
                "SELECT datastore_id, resource, table_name, created_at FROM datastore_tables \
                 WHERE datastore_id = $1 ORDER BY created_at, resource",
                args![id],
                table_from_row,
            )
            .await?
            .into_iter()
            .map(|(_, table)| table)
            .collect();
        Ok(record)
    }

    /// A page of the environment's datastores, oldest first, with their tables.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](StorageError::InvalidInput) for a bad page request.
    pub async fn list_datastores(
        &self,
        environment_id: &str,
        page: &PageRequest,
    ) -> StorageResult<Page<DatastoreRecord>> {
        let mut page = self
            .list_scoped(
                &DATASTORES,
                environment_id,
                Vec::new(),
                page,
                datastore_from_row,
            )
            .await?;
        if page.result.is_empty() {
            return Ok(page);
        }
        let mut tables: HashMap<String, Vec<DatastoreTable>> = HashMap::new();
        for (datastore, table) in self
            .fetch_map(
                TABLES,
                "SELECT t.datastore_id, t.resource, t.table_name, t.created_at \
                 FROM datastore_tables t JOIN datastores d ON d.id = t.datastore_id \
                 WHERE d.environment_id = $1 ORDER BY t.created_at, t.resource",
                args![environment_id],
                table_from_row,
            )
            .await?
        {
            tables.entry(datastore).or_default().push(table);
        }
        for record in &mut page.result {
            record.tables = tables.remove(&record.id).unwrap_or_default();
        }
        Ok(page)
    }

    /// Sets a datastore's label (`None` removes it); answers it as stored.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a datastore of another environment or none.
    pub async fn update_datastore(
        &self,
        environment_id: &str,
        id: &str,
        label: Option<String>,
    ) -> StorageResult<DatastoreRecord> {
        self.change_scoped(
            &DATASTORES,
            id,
            "UPDATE datastores SET label = $1, updated_at = $2 WHERE id = $3 AND environment_id = $4",
            args![label, time::to_micros(time::now()), id, environment_id],
        )
        .await?;
        self.get_datastore(environment_id, id).await
    }

    /// Deletes a datastore and drops its tables (their records are gone). Finished runs
    /// that wrote into it keep their history, their `datastore_id` cleared.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for a datastore of another environment or
    /// none; [`Conflict`](StorageError::Conflict) while a run that is not finished
    /// (`created`, `running`, `rate_limited`) writes into it: stop it first.
    pub async fn delete_datastore(&self, environment_id: &str, id: &str) -> StorageResult<()> {
        let record = self.get_datastore(environment_id, id).await?;
        let mut statements = vec![Statement::must_change(
            format!(
                "DELETE FROM datastores WHERE id = $1 AND environment_id = $2 AND NOT EXISTS \
                 (SELECT 1 FROM sync_job_runs WHERE datastore_id = $1 AND status IN {UNFINISHED})"
            ),
            args![id, environment_id],
        )];
        for table in record.tables {
            let name = checked_name(table.table_name)?;
            statements.push(Statement::new(
                format!("DROP TABLE IF EXISTS {name}"),
                Vec::new(),
            ));
        }
        match self.backend.execute_atomically(statements).await? {
            Batch::Committed => Ok(()),
            Batch::RolledBack(_) => Err(StorageError::Conflict(format!(
                "datastore `{id}` is written into by sync job runs that are not finished; \
                 stop them (DELETE /sync-job-run/{{id}}) or wait until they end"
            ))),
        }
    }

    /// *System.* The table holding `resource`'s records in the datastore `datastore_id`
    /// of the environment, created (with its registration in `datastore_tables`) when it
    /// does not exist yet.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when the datastore is not in the environment;
    /// [`Conflict`](StorageError::Conflict) in the (2⁻⁴⁸-unlikely) case that the name is
    /// taken by another resource's table; a [`StorageError`] of the database.
    pub async fn datastore_table(
        &self,
        environment_id: &str,
        datastore_id: &str,
        resource: &str,
    ) -> StorageResult<String> {
        if let Some(name) = self.registered_table(datastore_id, resource).await? {
            return Ok(name);
        }
        // Checked here so a datastore of another environment is never written into.
        self.fetch_scoped(&DATASTORES, environment_id, datastore_id)
            .await?;
        let name = datastore_table_name(datastore_id, resource);
        let record = if self.backend.name() == "postgres" {
            "JSONB"
        } else {
            "TEXT"
        };
        let create = Statement::new(
            format!(
                "CREATE TABLE IF NOT EXISTS {name} (\
                 integrated_account_id TEXT NOT NULL, resource TEXT NOT NULL, \
                 record_id TEXT NOT NULL, record {record} NOT NULL, \
                 sync_job_run_id TEXT NOT NULL, sequence BIGINT NOT NULL, \
                 synced_at BIGINT NOT NULL, \
                 PRIMARY KEY (integrated_account_id, resource, record_id))"
            ),
            Vec::new(),
        );
        let register = Statement::new(
            "INSERT INTO datastore_tables (datastore_id, resource, table_name, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (datastore_id, resource) DO NOTHING",
            args![datastore_id, resource, &name, time::to_micros(time::now())],
        );
        let created = self
            .backend
            .execute_atomically(vec![create, register])
            .await;
        match (
            created,
            self.registered_table(datastore_id, resource).await?,
        ) {
            // Registered by this call or, racing it, by another process.
            (_, Some(registered)) => Ok(registered),
            (Err(e), None) => Err(e),
            (Ok(_), None) => Err(StorageError::Conflict(format!(
                "the datastore table `{name}` of `{resource}` could not be registered"
            ))),
        }
    }

    async fn registered_table(
        &self,
        datastore_id: &str,
        resource: &str,
    ) -> StorageResult<Option<String>> {
        let rows = self
            .backend
            .fetch(
                TABLES,
                "SELECT table_name FROM datastore_tables WHERE datastore_id = $1 AND resource = $2",
                args![datastore_id, resource],
            )
            .await?;
        rows.first()
            .map(|row| row.text("table_name").and_then(checked_name))
            .transpose()
    }

    /// *System.* Upserts `page` into the datastore table `table` (from
    /// [`datastore_table`](Self::datastore_table)) in one transaction: a record whose
    /// `(integrated_account_id, resource, record_id)` is stored already is replaced, with
    /// this run's id, sequence and time. Answers how many records were written.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](StorageError::InvalidInput) for a name that is not a datastore
    /// table's; a [`StorageError`] of the database (nothing of the page is written).
    pub async fn upsert_datastore_page(
        &self,
        table: &str,
        page: &DatastorePage<'_>,
    ) -> StorageResult<usize> {
        let table = checked_name(table.to_owned()).map_err(|_| {
            StorageError::InvalidInput(format!("`{table}` is not a datastore table"))
        })?;
        // One row per id (Postgres refuses to update a row twice in one statement).
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(page.records.len());
        for (index, (id, _, _)) in page.records.iter().enumerate() {
            last.insert(id.as_str(), index);
        }
        let rows: Vec<&(String, u64, &Value)> = page
            .records
            .iter()
            .enumerate()
            .filter(|(index, (id, _, _))| last.get(id.as_str()) == Some(index))
            .map(|(_, row)| row)
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        let cast = if self.backend.name() == "postgres" {
            ("CAST(", " AS JSONB)")
        } else {
            ("", "")
        };
        let synced_at = time::to_micros(time::now());
        let mut statements = Vec::with_capacity(rows.len().div_ceil(ROWS_PER_STATEMENT));
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut sql = format!(
                "INSERT INTO {table} (integrated_account_id, resource, record_id, record, \
                 sync_job_run_id, sequence, synced_at) VALUES "
            );
            let mut values: Vec<Arg> = args![
                page.integrated_account_id,
                page.resource,
                page.sync_job_run_id,
                synced_at
            ];
            values.reserve(chunk.len() * 3);
            for (at, (id, sequence, record)) in chunk.iter().enumerate() {
                let n = 5 + at * 3;
                if at > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "($1, $2, ${n}, {}${}{}, $3, ${}, $4)",
                    cast.0,
                    n + 1,
                    cast.1,
                    n + 2
                ));
                values.push(Arg::Text(id.clone()));
                values.push(Arg::Text(record.to_string()));
                values.push(Arg::Int(i64::try_from(*sequence).unwrap_or(i64::MAX)));
            }
            sql.push_str(
                " ON CONFLICT (integrated_account_id, resource, record_id) DO UPDATE SET \
                 record = excluded.record, sync_job_run_id = excluded.sync_job_run_id, \
                 sequence = excluded.sequence, synced_at = excluded.synced_at",
            );
            statements.push(Statement::new(sql, values));
        }
        self.backend.execute_atomically(statements).await?;
        Ok(rows.len())
    }

    /// The records of `resource` in the datastore `datastore_id` of the environment,
    /// ordered by account and record id (every account when `integrated_account_id` is
    /// `None`); empty when no run delivered the resource yet.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when the datastore is not in the environment.
    pub async fn datastore_records(
        &self,
        environment_id: &str,
        datastore_id: &str,
        resource: &str,
        integrated_account_id: Option<&str>,
    ) -> StorageResult<Vec<DatastoreEntry>> {
        self.fetch_scoped(&DATASTORES, environment_id, datastore_id)
            .await?;
        let Some(table) = self.registered_table(datastore_id, resource).await? else {
            return Ok(Vec::new());
        };
        let mut sql = format!(
            "SELECT integrated_account_id, resource, record_id, CAST(record AS TEXT) AS record, \
             sync_job_run_id, sequence, synced_at FROM {table} WHERE resource = $1"
        );
        let mut values = args![resource];
        if let Some(account) = integrated_account_id {
            sql.push_str(" AND integrated_account_id = $2");
            values.push(account.into());
        }
        sql.push_str(" ORDER BY integrated_account_id, record_id");
        self.fetch_map(TABLES, &sql, values, |row| {
            Ok(DatastoreEntry {
                integrated_account_id: row.text("integrated_account_id")?,
                resource: row.text("resource")?,
                record_id: row.text("record_id")?,
                record: serde_json::from_str(&row.text("record")?)
                    .map_err(|_| StorageError::corrupt(TABLES, "`record` is not JSON"))?,
                sync_job_run_id: row.text("sync_job_run_id")?,
                sequence: u64::try_from(row.int("sequence")?).unwrap_or_default(),
                synced_at: time::column(TABLES, row.int("synced_at")?)?,
            })
        })
        .await
    }
}
