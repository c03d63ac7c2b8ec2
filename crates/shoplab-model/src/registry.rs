//! The run registry, in the workspace: runs, per-epoch metrics, final metrics and per-user
//! metrics. A run's tensors are files in its artifacts folder next to the workspace.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use shoplab_data::Workspace;
use shoplab_data::duckdb::{OptionalExt, params};

use crate::error::{ModelError, Result};
use crate::metrics::Evaluation;

/// A run as the registry has it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub split: String,
    pub model: String,
    /// The training configuration, JSON.
    pub params: String,
    pub device: String,
    /// running, finished, cancelled or failed.
    pub status: String,
    pub message: Option<String>,
    pub epochs_done: i64,
    /// Training time in seconds (evaluation excluded).
    pub seconds: f64,
    pub artifacts: PathBuf,
    pub created_at: String,
    /// Test metrics of a finished run.
    pub metrics: Vec<(String, f64)>,
    /// The researcher's tags and note (`shoplab tag`).
    pub tags: Vec<String>,
    pub note: Option<String>,
}

/// One epoch of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochRow {
    pub epoch: i64,
    pub loss: Option<f64>,
    pub metric: Option<String>,
    pub value: Option<f64>,
    pub seconds: f64,
}

/// The registry of one workspace.
pub struct Runs<'a> {
    ws: &'a Workspace,
}

impl<'a> Runs<'a> {
    pub fn new(ws: &'a Workspace) -> Self {
        Runs { ws }
    }

    /// The folder of a run's files: `<workspace>.runs/run-<id>`.
    pub fn artifacts_dir(ws_path: &Path, run_id: i64) -> PathBuf {
        let mut name = ws_path.file_name().unwrap_or_default().to_os_string();
        name.push(".runs");
        ws_path.with_file_name(name).join(format!("run-{run_id}"))
    }

    /// Where a run's files are: beside the workspace as it is now when they are there (a
    /// workspace moved or copied together with its `.runs` folder), else where they were
    /// written.
    fn located(&self, run_id: i64, stored: PathBuf) -> PathBuf {
        let here = Self::artifacts_dir(self.ws.path(), run_id);
        if here != stored && here.is_dir() {
            here
        } else {
            stored
        }
    }

    /// Registers a new run (status `running`) and creates its artifacts folder.
    pub fn create(
        &self,
        split: &str,
        model: &str,
        params: &str,
        device: &str,
    ) -> Result<(i64, PathBuf)> {
        let conn = self.ws.connection();
        let run_id: i64 =
            conn.query_row("SELECT coalesce(max(run_id), 0) + 1 FROM runs", [], |r| {
                r.get(0)
            })?;
        let dir = Self::artifacts_dir(self.ws.path(), run_id);
        std::fs::create_dir_all(&dir).map_err(|e| ModelError::io(dir.display().to_string(), e))?;
        conn.execute(
            "INSERT INTO runs (run_id, split, model, params, device, status, message, epochs_done, seconds, artifacts, created_at, finished_at) VALUES (?, ?, ?, ?, ?, 'running', NULL, 0, 0, ?, CAST(now() AS TIMESTAMP), NULL)",
            params![run_id, split, model, params, device, dir.to_string_lossy().to_string()],
        )?;
        Ok((run_id, dir))
    }

    /// Records a finished epoch: its row, and the run's epoch count and time, together.
    /// Epoch rows past the run's count (left by an interrupted process) are replaced.
    pub fn epoch(&self, run_id: i64, row: &EpochRow) -> Result<()> {
        let conn = self.ws.connection();
        conn.execute_batch("BEGIN TRANSACTION")?;
        let r = (|| -> Result<()> {
            conn.execute(
                "DELETE FROM run_epochs WHERE run_id = ? AND epoch >= ?",
                params![run_id, row.epoch],
            )?;
            conn.execute(
                "INSERT INTO run_epochs VALUES (?, ?, ?, ?, ?, ?)",
                params![
                    run_id,
                    row.epoch,
                    row.loss,
                    row.metric,
                    row.value,
                    row.seconds
                ],
            )?;
            conn.execute(
                "UPDATE runs SET epochs_done = ?, seconds = seconds + ? WHERE run_id = ?",
                params![row.epoch, row.seconds, run_id],
            )?;
            Ok(())
        })();
        match r {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(_) => conn.execute_batch("ROLLBACK")?,
        }
        r
    }

    /// Adds training time that no epoch row accounts for (a closed-form fit).
    pub fn add_seconds(&self, run_id: i64, seconds: f64) -> Result<()> {
        self.ws.connection().execute(
            "UPDATE runs SET seconds = seconds + ? WHERE run_id = ?",
            params![seconds, run_id],
        )?;
        Ok(())
    }

    /// Records how a run's session ended: `cancelled` (with the command that resumes it,
    /// `train` or `finetune`) after `epochs_done` epochs, or `failed` with the error; a
    /// finished run's status was set with its metrics.
    pub fn settle(
        &self,
        run_id: i64,
        ended: std::result::Result<(&str, usize), &ModelError>,
        command: &str,
    ) -> Result<()> {
        match ended {
            Ok(("cancelled", epochs_done)) => self.set_status(
                run_id,
                "cancelled",
                Some(&format!(
                    "cancelled after epoch {epochs_done}; `{command} --resume {run_id}` continues from its checkpoint"
                )),
            ),
            Ok(_) => Ok(()),
            Err(e) => self.set_status(run_id, "failed", Some(&e.to_string())),
        }
    }

    pub fn set_status(&self, run_id: i64, status: &str, message: Option<&str>) -> Result<()> {
        self.ws.connection().execute(
            "UPDATE runs SET status = ?, message = ?,
                    finished_at = CASE WHEN ? = 'running' THEN NULL ELSE CAST(now() AS TIMESTAMP) END
             WHERE run_id = ?",
            params![status, message, status, run_id],
        )?;
        Ok(())
    }

    /// Stores the final metrics of `part` (means and per user) and marks the run finished,
    /// in one transaction.
    /// Stores a part's metrics (per-user values by `users[index]`) and marks the run finished.
    pub fn finish(&self, run_id: i64, part: &str, ev: &Evaluation, users: &[String]) -> Result<()> {
        let conn = self.ws.connection();
        conn.execute_batch("BEGIN TRANSACTION")?;
        let r = (|| -> Result<()> {
            conn.execute(
                "DELETE FROM run_metrics WHERE run_id = ? AND part = ?",
                params![run_id, part],
            )?;
            conn.execute(
                "DELETE FROM run_user_metrics WHERE run_id = ? AND part = ?",
                params![run_id, part],
            )?;
            for (m, v) in &ev.metrics {
                conn.execute(
                    "INSERT INTO run_metrics VALUES (?, ?, ?, ?)",
                    params![run_id, part, m, v],
                )?;
            }
            let mut app = conn.appender("run_user_metrics")?;
            for (u, m, v) in &ev.per_user {
                app.append_row(params![run_id, part, users[*u as usize], m, v])?;
            }
            app.flush()?;
            drop(app);
            self.set_status(run_id, "finished", None)
        })();
        match r {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(_) => conn.execute_batch("ROLLBACK")?,
        }
        r
    }

    pub fn list(&self) -> Result<Vec<RunSummary>> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .ws
                .connection()
                .prepare("SELECT run_id FROM runs ORDER BY run_id")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()?
        };
        ids.into_iter().map(|id| self.get(id)).collect()
    }

    pub fn get(&self, run_id: i64) -> Result<RunSummary> {
        let conn = self.ws.connection();
        let run = conn
            .query_row(
                "SELECT run_id, split, model, params, device, status, message, epochs_done, seconds,
                        artifacts, CAST(created_at AS VARCHAR), CAST(to_json(coalesce(tags, [])) AS VARCHAR),
                        note
                 FROM runs WHERE run_id = ?",
                [run_id],
                |r| {
                    Ok(RunSummary {
                        run_id: r.get(0)?,
                        split: r.get(1)?,
                        model: r.get(2)?,
                        params: r.get(3)?,
                        device: r.get(4)?,
                        status: r.get(5)?,
                        message: r.get(6)?,
                        epochs_done: r.get(7)?,
                        seconds: r.get(8)?,
                        artifacts: self.located(run_id, PathBuf::from(r.get::<_, String>(9)?)),
                        created_at: r.get(10)?,
                        metrics: Vec::new(),
                        tags: serde_json::from_str(&r.get::<_, String>(11)?).unwrap_or_default(),
                        note: r.get(12)?,
                    })
                },
            )
            .optional()?
            .ok_or(ModelError::NoSuchRun(run_id))?;
        let mut stmt = conn.prepare(
            "SELECT metric, value FROM run_metrics WHERE run_id = ? AND part = 'test' ORDER BY rowid",
        )?;
        let metrics = stmt
            .query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RunSummary { metrics, ..run })
    }

    /// Replaces run `run_id`'s tags: each trimmed, 1–40 characters without commas, kept once
    /// in the order given.
    pub fn set_tags(&self, run_id: i64, tags: &[String]) -> Result<Vec<String>> {
        self.get(run_id)?;
        let mut kept: Vec<String> = Vec::new();
        for t in tags {
            let t = t.trim();
            if t.is_empty() || t.chars().count() > 40 || t.contains(',') {
                return Err(ModelError::Config {
                    model: format!("run {run_id}"),
                    message: format!("a tag is 1–40 characters without commas (got {t:?})"),
                });
            }
            if !kept.iter().any(|k| k == t) {
                kept.push(t.to_string());
            }
        }
        let json =
            serde_json::to_string(&kept).map_err(|e| ModelError::Run(run_id, e.to_string()))?;
        self.ws.connection().execute(
            "UPDATE runs SET tags = from_json(CAST(? AS JSON), '[\"VARCHAR\"]') WHERE run_id = ?",
            params![json, run_id],
        )?;
        Ok(kept)
    }

    /// Sets (or with `None`, clears) run `run_id`'s note.
    pub fn set_note(&self, run_id: i64, note: Option<&str>) -> Result<()> {
        self.get(run_id)?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        self.ws.connection().execute(
            "UPDATE runs SET note = ? WHERE run_id = ?",
            params![note, run_id],
        )?;
        Ok(())
    }

    pub fn epochs(&self, run_id: i64) -> Result<Vec<EpochRow>> {
        let mut stmt = self.ws.connection().prepare(
            "SELECT epoch, loss, metric, value, seconds FROM run_epochs WHERE run_id = ? ORDER BY epoch",
        )?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok(EpochRow {
                    epoch: r.get(0)?,
                    loss: r.get(1)?,
                    metric: r.get(2)?,
                    value: r.get(3)?,
                    seconds: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Per-user test values of one metric.
    pub fn user_values(&self, run_id: i64, metric: &str) -> Result<HashMap<String, f64>> {
        let mut stmt = self.ws.connection().prepare(
            "SELECT user_id, value FROM run_user_metrics WHERE run_id = ? AND part = 'test' AND metric = ?",
        )?;
        let rows = stmt
            .query_map(params![run_id, metric], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(rows)
    }
}
