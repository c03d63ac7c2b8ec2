//! ShopLab's product-manager demo (Tauri 2): a live storefront over the workspace's own data
//! and finished runs. Thin: commands call the engine's [`shoplab_engine::Storefront`] and
//! convert its results into the DTOs in [`dto`]; only this crate knows IPC and JSON shapes.

pub mod commands;
pub mod convert;
pub mod dto;
pub mod error;
pub mod state;

use tauri::{Builder, Runtime};

include!("command_names.rs");

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

#[cfg(test)]
mod tests {
    use super::COMMANDS;

    /// The capability allows exactly the app's commands (the build script declares the same
    /// list: it includes `command_names.rs`).
    #[test]
    fn capabilities_list_exactly_the_commands() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let cap: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("capabilities/default.json")).unwrap(),
        )
        .unwrap();
        let mut allowed: Vec<String> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        let mut commands: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
        allowed.sort();
        commands.sort();
        assert_eq!(allowed, commands);
    }
}
