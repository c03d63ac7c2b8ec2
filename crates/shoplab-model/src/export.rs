//! A finished run's recommendations and embeddings as Parquet files, written by DuckDB
//! (`COPY … TO … (FORMAT parquet)`), for notebooks and other tools.

use std::path::Path;

use shoplab_data::Workspace;
use shoplab_data::duckdb::{self, params};

use crate::error::{ModelError, Result};
use crate::lab::load_run;
use crate::metrics::top_k;

/// Users scored per call to the model.
const USERS_PER_BATCH: usize = 256;

/// Writes the top `k` unseen items of every user of the run's split:
/// `user_id, rank (1-based), item_id, score`, ordered by user and rank. Returns the rows.
pub fn recommendations(ws: &Workspace, run_id: i64, k: usize, path: &Path) -> Result<usize> {
    if k == 0 {
        return Err(ModelError::Run(run_id, "k must be at least 1".into()));
    }
    let (ds, _, model) = load_run(ws, run_id)?;
    let conn = ws.connection();
    let table = "export_recommendations";
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {table} \
         (user_id VARCHAR, rank INTEGER, item_id VARCHAR, score FLOAT)"
    ))?;
    let written = (|| -> Result<usize> {
        let mut rows = 0;
        let mut app = conn.appender(table)?;
        let users: Vec<u32> = (0..ds.n_users() as u32).collect();
        let n_items = ds.n_items();
        for batch in users.chunks(USERS_PER_BATCH) {
            let scores = model.score_users(batch)?;
            for (b, &u) in batch.iter().enumerate() {
                let s = &scores[b * n_items..(b + 1) * n_items];
                for (rank, i) in top_k(s, &ds.seen[u as usize], k).into_iter().enumerate() {
                    app.append_row(params![
                        ds.users[u as usize],
                        rank as i32 + 1,
                        ds.items[i as usize],
                        s[i as usize]
                    ])?;
                    rows += 1;
                }
            }
        }
        app.flush()?;
        drop(app);
        ws.copy_to(
            &format!("SELECT * FROM {table} ORDER BY user_id, rank"),
            path,
        )?;
        Ok(rows)
    })();
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}"))?;
    written
}

/// Writes the user and item factors of a factorization run: `kind ('user' | 'item'),
/// id, vector FLOAT[]`. Returns the rows (users + items).
pub fn embeddings(ws: &Workspace, run_id: i64, path: &Path) -> Result<usize> {
    let (ds, cfg, model) = load_run(ws, run_id)?;
    let Some(e) = model.embeddings()? else {
        return Err(ModelError::Run(
            run_id,
            format!("model {} has no embeddings", cfg.model.name()),
        ));
    };
    let conn = ws.connection();
    let table = "export_embeddings";
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {table} (kind VARCHAR, id VARCHAR, vector FLOAT[])"
    ))?;
    let written = (|| -> Result<usize> {
        let mut app = conn.appender(table)?;
        for (kind, ids, values) in [("user", &ds.users, &e.users), ("item", &ds.items, &e.items)] {
            for (id, row) in ids.iter().zip(values.chunks(e.dim)) {
                let vector = duckdb::types::Value::List(
                    row.iter()
                        .map(|v| duckdb::types::Value::Float(*v))
                        .collect(),
                );
                app.append_row(params![kind, id, vector])?;
            }
        }
        app.flush()?;
        drop(app);
        ws.copy_to(
            &format!("SELECT * FROM {table} ORDER BY kind DESC, id"),
            path,
        )?;
        Ok(ds.n_users() + ds.n_items())
    })();
    conn.execute_batch(&format!("DROP TABLE IF EXISTS {table}"))?;
    written
}
