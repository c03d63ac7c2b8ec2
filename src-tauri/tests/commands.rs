//! The demo's IPC, driven through Tauri's mock runtime with the app's real config and capabilities.

use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

fn invoke(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    args: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: "workspace_summary".into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<serde_json::Value>().unwrap())
}

#[test]
fn workspace_summary_over_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo.duckdb");
    let built =
        shoplab_engine::demo::build_demo(&ws, &shoplab_engine::demo::WorldConfig::demo()).unwrap();

    let app = shoplab_demo::run_app(mock_builder())
        .build(tauri::generate_context!("../tauri.conf.json"))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();

    let summary = invoke(&webview, serde_json::json!({ "path": ws })).unwrap();
    assert_eq!(summary["events"], built.profile.events);
    assert_eq!(summary["users"], built.profile.users);
    let tables = summary["tables"].as_array().unwrap();
    let events = tables.iter().find(|t| t["table"] == "events").unwrap();
    assert_eq!(events["rows"], built.events.rows_loaded);
    assert_eq!(summary["byType"][0]["eventType"], "view");
    assert!(summary["viewToPurchase"].as_f64().unwrap() > 0.0);

    // Errors arrive as { code, message }.
    let err = invoke(
        &webview,
        serde_json::json!({ "path": dir.path().join("missing.duckdb") }),
    )
    .unwrap_err();
    assert_eq!(err["code"], "not_found");
    assert!(err["message"].as_str().unwrap().contains("missing.duckdb"));
}
