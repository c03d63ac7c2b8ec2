//! The workbench driven as a person would: first-run screen, open a workspace, see its
//! tables and profile. The worker thread does the DuckDB work; the harness keeps stepping.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use shoplab_workbench::{Start, WorkbenchApp};

fn harness(start: Start) -> Harness<'static, WorkbenchApp> {
    let app = WorkbenchApp::for_test(egui::Context::default(), start);
    Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_ui_state(|ui, app: &mut WorkbenchApp| app.show(ui), app)
}

/// Steps the UI until the worker has answered.
fn settle(h: &mut Harness<'static, WorkbenchApp>) {
    let start = Instant::now();
    loop {
        h.run_steps(2);
        if !h.state().is_busy() {
            h.run_steps(2);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "worker did not answer"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn first_run_screen_offers_the_demo() {
    let mut h = harness(Start::Remembered);
    h.run_steps(2);
    h.get_by_label("Welcome to ShopLab");
    h.get_by_label("Open the demo workspace");
    h.get_by_label("Open a workspace file…");
}

#[test]
fn open_a_workspace_and_see_tables_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo.duckdb");
    let built =
        shoplab_engine::demo::build_demo(&ws, &shoplab_engine::demo::WorldConfig::demo()).unwrap();

    let mut h = harness(Start::Workspace(ws.clone()));
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    h.get_by_label("Tables");
    h.get_by_label("Profile");
    h.get_by_label("Events by type");
    // The events count appears in the tables list and in the profile.
    let events = built.events.rows_loaded.to_string();
    assert!(
        h.query_all_by_label(&events).count() >= 2,
        "events count {events} not shown twice"
    );
    h.get_by_label("main"); // the split
    assert_eq!(
        h.state().view.profile.as_ref().unwrap().users,
        built.profile.users
    );

    // Import a file from the toolbar's worker path: a small catalog update.
    let extra = dir.path().join("more.csv");
    std::fs::write(
        &extra,
        "item_id,title,category,price\nnew-1,Travel mug,kitchen,12.50\n",
    )
    .unwrap();
    h.state_mut().import(extra);
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let report = h.state().view.last_import.as_ref().unwrap();
    assert_eq!((report.rows_loaded, report.rows_rejected), (1, 0));
    h.get_by_label("Last import");
}

#[test]
fn a_broken_workspace_shows_an_error_not_a_dead_app() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("notes.duckdb");
    std::fs::write(&bad, "not a database").unwrap();
    let mut h = harness(Start::Workspace(bad));
    settle(&mut h);
    let err = h.state().error().unwrap().to_string();
    assert!(err.contains("not a DuckDB workspace file"), "{err}");
    h.get_by_label(&err);
    h.get_by_label("Welcome to ShopLab");
}
