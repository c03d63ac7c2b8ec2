//! What the web UI receives. Built by hand from engine types, so the engine stays free of UI shapes.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TableRows {
    pub table: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeRows {
    pub event_type: String,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSummary {
    pub path: String,
    pub tables: Vec<TableRows>,
    pub users: u64,
    pub items: u64,
    pub events: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub by_type: Vec<EventTypeRows>,
    pub view_to_purchase: Option<f64>,
}
