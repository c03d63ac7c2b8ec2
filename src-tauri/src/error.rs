//! Errors as the web UI sees them: `{ code, message }`; the UI branches on `code` only.
//! Codes: `no_workspace`, `workspace_refused`, `not_found`, `bad_argument`,
//! `run_not_finished`, `split_changed`, `not_supported`, `superseded` (a newer re-score was
//! asked for), `busy` (the control room is running), `cancelled`, `internal`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A command that needs an open workspace, called before one was opened.
    pub fn no_workspace() -> Self {
        Self::new("no_workspace", "no workspace is open: open one first")
    }
}

impl From<shoplab_engine::EngineError> for ApiError {
    fn from(e: shoplab_engine::EngineError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<tauri::Error> for ApiError {
    fn from(e: tauri::Error) -> Self {
        Self::new("internal", e.to_string())
    }
}
