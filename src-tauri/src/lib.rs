//! ShopLab's product-manager demo (Tauri 2): a live storefront over the workspace's own data
//! and finished runs. Thin: commands call the engine's [`shoplab_engine::Storefront`] and
//! convert its results into the DTOs in [`dto`]; only this crate knows IPC and JSON shapes.

pub mod commands;
pub mod convert;
pub mod dto;
pub mod error;
pub mod state;

use tauri::{Builder, Runtime};

/// The app's commands, exactly those the capability allows (`capabilities/default.json`).
pub const COMMANDS: &[&str] = &[
    "open_workspace",
    "choose_workspace",
    "shoppers",
    "shopper_history",
    "category_page",
    "product_page",
    "storefront_slates",
    "compare_runs",
    "price_panel",
    "control_room_start",
    "control_room_stop",
];

/// Registers the demo's state and commands on `builder` (a real builder, or
/// `tauri::test::mock_builder()`).
pub fn run_app<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .manage(state::DemoState::default())
        .invoke_handler(tauri::generate_handler![
            commands::open_workspace,
            commands::choose_workspace,
            commands::shoppers,
            commands::shopper_history,
            commands::category_page,
            commands::product_page,
            commands::storefront_slates,
            commands::compare_runs,
            commands::price_panel,
            commands::control::control_room_start,
            commands::control::control_room_stop,
        ])
}
