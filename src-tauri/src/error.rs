//! Errors as the web UI sees them: `{ code, message }`; the UI branches on `code` only.

use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Workspace(String),
    #[error("{0}")]
    NotFound(String),
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::Workspace(_) => "workspace",
            ApiError::NotFound(_) => "not_found",
        }
    }
}

impl From<shoplab_engine::EngineError> for ApiError {
    fn from(e: shoplab_engine::EngineError) -> Self {
        ApiError::Workspace(e.to_string())
    }
}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ApiError", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}
