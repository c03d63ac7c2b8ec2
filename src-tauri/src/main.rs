#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    shoplab_demo::run_app(tauri::Builder::default())
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running the ShopLab demo");
}
