fn main() {
    let attrs = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(&[
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
        ]));
    tauri_build::try_build(attrs).expect("tauri build script");
}
