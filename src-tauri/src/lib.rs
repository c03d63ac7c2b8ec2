//! ShopLab's product-manager demo (Tauri 2). Thin: commands convert engine results into
//! the DTOs in [`dto`]; only this crate knows about IPC and JSON shapes for the web UI.

pub mod commands;
pub mod dto;
pub mod error;

use tauri::{Builder, Runtime};

/// Registers the demo's commands on `builder` (a real builder, or `tauri::test::mock_builder()`).
pub fn run_app<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![commands::workspace_summary])
}
