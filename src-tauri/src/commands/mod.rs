//! The demo's commands: each is a thin call into the engine plus a DTO conversion.

use std::path::PathBuf;

use shoplab_engine::Session;

use crate::dto::{EventTypeRows, TableRows, WorkspaceSummary};
use crate::error::ApiError;

/// Counts of a workspace (the bundled demo one, built on first use, when `path` is absent).
#[tauri::command]
pub async fn workspace_summary(path: Option<String>) -> Result<WorkspaceSummary, ApiError> {
    tauri::async_runtime::spawn_blocking(move || summary(path.map(PathBuf::from)))
        .await
        .map_err(|e| ApiError::Workspace(e.to_string()))?
}

/// The blocking part of [`workspace_summary`].
pub fn summary(path: Option<PathBuf>) -> Result<WorkspaceSummary, ApiError> {
    let path = match path {
        Some(p) if !p.exists() => {
            return Err(ApiError::NotFound(format!(
                "no workspace at {}",
                p.display()
            )));
        }
        Some(p) => p,
        None => shoplab_engine::demo::ensure_demo()?,
    };
    let session = Session::open(&path)?;
    let tables = session
        .table_counts()?
        .into_iter()
        .map(|t| TableRows {
            table: t.table,
            rows: t.rows,
        })
        .collect();
    let profile = match session.last_profile()? {
        Some(p) => p,
        None => session.profile()?,
    };
    Ok(WorkspaceSummary {
        path: path.display().to_string(),
        tables,
        users: profile.users,
        items: profile.items,
        events: profile.events,
        first_event: profile.first_event,
        last_event: profile.last_event,
        by_type: profile
            .by_type
            .into_iter()
            .map(|t| EventTypeRows {
                event_type: t.event_type,
                events: t.events,
            })
            .collect(),
        view_to_purchase: profile.funnel.view_to_purchase,
    })
}
