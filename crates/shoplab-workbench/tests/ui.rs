//! The workbench driven as a person would: first-run screen, open a workspace, see its
//! tables and profile. The worker thread does the DuckDB work; the harness keeps stepping.

mod support;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use shoplab_workbench::{Start, Tab, WorkbenchApp};

fn harness(start: Start) -> Harness<'static, WorkbenchApp> {
    let app = WorkbenchApp::for_test(egui::Context::default(), start);
    Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .renderer(support::SoftRenderer::default())
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
    let built = shoplab_engine::demo::build_demo(
        &ws,
        &shoplab_engine::demo::WorldConfig::demo(),
        shoplab_engine::demo::Contents::Data,
    )
    .unwrap();

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
    // The activity and price histograms: every user in a bin, eight categories of prices.
    let d = h.state().data.distributions.as_ref().unwrap();
    let users: u64 = d.events_per_user.iter().map(|b| b.1).sum();
    assert_eq!(users, built.profile.users);
    assert_eq!(d.prices.len(), 8);
    h.get_by_label("Activity: users and items by number of events");
    h.snapshot("data_view");

    // A table's name shows its first rows in the SQL console.
    h.get_by_label("split_interactions").click();
    settle(&mut h);
    let r = h.state().data.result.as_ref().unwrap();
    assert_eq!(r.rows.len(), 200);
    assert_eq!(r.columns[0], "split");

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
    h.get_by_label(&format!("Error: {err}"));
    h.get_by_label("Welcome to ShopLab");
}

fn demo_workspace(dir: &std::path::Path) -> std::path::PathBuf {
    let ws = dir.join("demo.duckdb");
    shoplab_engine::demo::build_demo(
        &ws,
        &shoplab_engine::demo::WorldConfig::demo(),
        shoplab_engine::demo::Contents::Data,
    )
    .unwrap();
    ws
}

/// Models: configure a short BPR run, start it from its button, watch the curve fill in,
/// then compare it in the Compare view.
#[test]
fn start_a_training_run_and_see_its_curve() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    settle(&mut h);
    h.state_mut().set_tab(Tab::Models);
    settle(&mut h);
    h.get_by_label("Recommender");
    h.get_by_label("No runs yet: start one above.");
    {
        let form = &mut h.state_mut().models.form;
        form.model = "bpr".into();
        form.split = "main".into();
        form.epochs = 3;
        form.device = "cpu".into();
    }
    h.run_steps(2);
    h.get_by_label("Start").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let live = &h.state().models.live;
    assert_eq!(live.status, "finished");
    assert_eq!(live.points.len(), 3, "{live:?}");
    assert!(live.points.iter().all(|p| p.1.is_finite() && p.2.is_some()));
    h.get_by_label("Run 1: finished");
    h.get_by_label("train loss per epoch");
    assert_eq!(h.state().models.runs.len(), 1);
    // The runs table shows the training seconds, which vary: a few hundred pixels may.
    h.snapshot_options(
        "models_view",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(2_000),
    );

    h.state_mut().set_tab(Tab::Compare);
    settle(&mut h);
    h.state_mut().select_runs(&[1]);
    settle(&mut h);
    let curves = &h.state().compare.curves;
    assert_eq!(curves.len(), 1);
    assert_eq!(curves[0].epochs.len(), 3);
    let ndcg = curves[0].metric.expect("per-user ndcg@10");
    assert!(ndcg.low <= ndcg.mean && ndcg.mean <= ndcg.high && ndcg.mean > 0.0);
    h.get_by_label("validation ndcg@10 per epoch");
}

/// Simulate: a small scenario in real time; each policy's days arrive, the revenue plot and
/// the summary with the oracle's regret appear.
#[test]
fn run_a_small_scenario_and_see_the_revenue_plot() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    settle(&mut h);
    h.state_mut().set_tab(Tab::Simulate);
    {
        let sim = &mut h.state_mut().sim;
        sim.text = r#"
name = "two prices"
days = 6
sessions_per_day = 300
world = { seed = 3, users = 300, items = 80, categories = 4 }

[[policies]]
name = "list"
recommend = "popularity"
pricing = { kind = "list" }

[[policies]]
name = "thompson"
recommend = "popularity"
pricing = { kind = "thompson", grid = [0.9, 1.0, 1.1] }
"#
        .into();
        sim.seeds = 3;
        sim.realtime = true;
        sim.days_per_second = 100.0;
    }
    h.run_steps(2);
    // An event added on the timeline editor lands in the scenario text.
    h.get_by_label("events on the timeline (0)").click();
    h.run_steps(2);
    h.get_by_label("+ promo").click();
    h.run_steps(2);
    let text = h.state().sim.text.clone();
    assert!(
        text.contains("[[events]]") && text.contains("promo = 0.1"),
        "{text}"
    );
    h.get_by_label("events on the timeline (1)");
    h.get_by_label("Run").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let sim = &h.state().sim;
    assert_eq!(sim.order, vec!["list", "thompson", "oracle"]);
    assert!(sim.days.values().all(|d| d.len() == 6));
    let report = sim.report.as_ref().unwrap();
    assert_eq!(report.sim_id, 1);
    // Each item's price per day, the promo's 10% off included: 90% of the list price for
    // "list", 90% of a grid multiple for Thompson.
    assert_eq!(sim.items.len(), 80);
    let list_price = sim.items[0].2 as f32;
    for d in &sim.days["list"] {
        assert_eq!(d.prices.len(), 80);
        assert!((d.prices[0] - 0.9 * list_price).abs() < 1e-3);
    }
    for d in &sim.days["thompson"] {
        let m = d.prices[0] / (0.9 * list_price);
        assert!(
            [0.9f32, 1.0, 1.1].iter().any(|g| (m - g).abs() < 1e-4),
            "{m}"
        );
    }
    h.get_by_label("price of item");
    h.get_by_label("revenue per day");
    h.get_by_label("Simulation 1: two prices (3 replicates)");
    h.get_by_label("regret vs oracle");
    // Regret per day, and the learner's predicted conversion scored against the realized
    // one day by day (the list price predicts nothing).
    h.get_by_label("regret per day (oracle's margin less the policy's)");
    h.get_by_label("predicted vs realized conversion: squared error (points²)");
    let sim = &h.state().sim;
    assert!(
        sim.days["thompson"]
            .iter()
            .all(|d| d.squared_error.is_some())
    );
    assert!(sim.days["list"].iter().all(|d| d.squared_error.is_none()));
    assert!(sim.days["list"].iter().all(|d| d.regret_ci.is_some()));
    h.snapshot("simulate_view");
}

/// The analyst sweeps the competitor's price: three values, each stored as a simulation;
/// conversion, revenue and margin against the value per policy, with bands.
#[test]
fn sweep_a_scenario_parameter_and_see_each_policy_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    settle(&mut h);
    h.state_mut().set_tab(Tab::Simulate);
    h.state_mut().sim.text = r#"
name = "cut"
days = 6
sessions_per_day = 300
world = { seed = 3, users = 300, items = 80, categories = 4 }

[[policies]]
name = "list"
recommend = "popularity"
pricing = { kind = "list" }

[[policies]]
name = "match"
recommend = "popularity"
pricing = { kind = "competitor-match", undercut = 0.02 }

[[events]]
day = 2
competitor_price = 0.85
"#
    .into();
    h.run_steps(2);
    h.get_by_label("sweep a parameter of the scenario").click();
    h.run_steps(4);
    {
        let sweep = &mut h.state_mut().sim.sweep;
        assert_eq!(sweep.path, "events.0.competitor_price");
        sweep.points = 3;
        sweep.seeds = 3;
    }
    h.get_by_label("Run the sweep").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let sweep = &h.state().sim.sweep;
    let r = sweep.report.as_ref().unwrap();
    assert!(r.complete);
    let values: Vec<f64> = r.points.iter().map(|p| p.value).collect();
    assert_eq!(values, vec![0.7, 0.85, 1.0]);
    assert_eq!(
        r.points.iter().map(|p| p.sim_id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    // Three figures, each with list, match and the oracle.
    assert_eq!(sweep.figures.len(), 3);
    assert!(sweep.figures.iter().all(|(_, f)| f.series.len() == 3));
    h.run_steps(4);
    h.snapshot("sim_sweep");

    // The sweep's values are stored simulations: open the first, overlay the last.
    h.get_by_label("sweep a parameter of the scenario").click();
    h.run_steps(4);
    h.get_by_label("past simulations: open, overlay").click();
    h.run_steps(4);
    h.get_by_label("List stored simulations").click();
    settle(&mut h);
    let sims = h.state().sim.past.sims.clone().unwrap();
    assert_eq!(
        sims.iter().map(|s| s.sim_id).collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    assert!(
        sims[2].name.ends_with("events.0.competitor_price=0.7"),
        "{}",
        sims[2].name
    );
    assert_eq!(sims[0].policies, vec!["list", "match", "oracle"]);
    h.get_by_label("Open 1").click();
    settle(&mut h);
    h.get_by_label("Overlay 3").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let sim = &h.state().sim;
    assert!(sim.text.contains("competitor_price = 0.7"), "{}", sim.text);
    assert_eq!(
        sim.order,
        vec![
            "list",
            "match",
            "oracle",
            "#3 list",
            "#3 match",
            "#3 oracle"
        ]
    );
    assert!(sim.days.values().all(|d| d.len() == 6));
    assert_eq!(sim.summary.len(), 6);
    // At list price, a competitor at 70% of our price leaves us less revenue than one at 100%.
    let revenue = |name: &str| {
        let s = &sim.summary.iter().find(|s| s.0 == name).unwrap().1;
        s.iter().find(|m| m.0 == "revenue").unwrap().1.mean
    };
    assert!(revenue("list") < revenue("#3 list"));
    h.get_by_label("past simulations: open, overlay").click();
    h.run_steps(4);
    h.snapshot("past_overlay");
}

/// Data: a file is recognized and previewed; its mapping is edited before importing; the
/// import runs as a job and its rejected rows can be browsed.
#[test]
fn preview_edit_the_mapping_import_and_browse_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    settle(&mut h);
    let file = dir.path().join("clicks.csv");
    std::fs::write(
        &file,
        "when,customer,sku,action,note\n\
         2024-03-01 10:00:00,u1,A1,view,x\n\
         not a time,u2,A2,view,y\n\
         2024-03-01 10:05:00,u1,A2,purchase,z\n",
    )
    .unwrap();
    h.state_mut().preview(file.clone());
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    h.get_by_label("Import clicks.csv");
    let preview = &h.state().data.preview.as_ref().unwrap().1;
    assert_eq!(
        preview.columns,
        ["when", "customer", "sku", "action", "note"]
    );
    assert_eq!(preview.sample.len(), 3);
    // Whatever was recognized, say what each column is.
    {
        let m = &mut h.state_mut().data.preview.as_mut().unwrap().1.mapping;
        let mut set = |name: &str, source: &str, parse: shoplab_engine::Parse| {
            let c = m.columns.entry(name.to_string()).or_default();
            c.source = Some(source.to_string());
            c.value = None;
            c.parse = parse;
        };
        use shoplab_engine::Parse;
        set("event_time", "when", Parse::Timestamp);
        set("user_id", "customer", Parse::Id);
        set("item_id", "sku", Parse::Id);
        set("event_type", "action", Parse::EventType);
    }
    h.run_steps(2);
    h.get_by_label("Import").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let r = h.state().view.last_import.as_ref().unwrap();
    assert_eq!((r.rows_read, r.rows_loaded, r.rows_rejected), (3, 2, 1));
    h.get_by_label("Rejected rows").click();
    settle(&mut h);
    let rejects = h.state().data.rejects.as_ref().unwrap();
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].line, Some(3));
    h.get_by_label("1 rejected rows");
    // The tables were refreshed: 137,623 demo events and the 2 loaded.
    let events = h
        .state()
        .view
        .tables
        .iter()
        .find(|t| t.table == "events")
        .unwrap()
        .rows;
    assert_eq!(events, 137_625);
}

/// Simulate: calibrate the shop on the workspace's sessions, point the scenario at the
/// calibration, run it in batch.
#[test]
fn calibrate_then_simulate_the_calibrated_shop() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    settle(&mut h);
    h.state_mut().set_tab(Tab::Simulate);
    {
        let sim = &mut h.state_mut().sim;
        sim.text = "name = \"mine\"\ndays = 5\n\n[[policies]]\nname = \"list\"\nrecommend = \"popularity\"\npricing = { kind = \"list\" }\n\n[[policies]]\nname = \"optimal\"\nrecommend = \"popularity\"\npricing = { kind = \"elasticity-optimal\" }\n".into();
        sim.seeds = 2;
        sim.realtime = false;
    }
    h.run_steps(2);
    h.get_by_label("calibrate the shop on this workspace's sessions")
        .click();
    h.run_steps(2);
    h.get_by_label("Calibrate").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let c = h.state().sim.calibration.as_ref().unwrap();
    assert_eq!(c.calibration.report.purchases, 1885);
    // Its demand curves: one row per category; a category's row draws its three plots.
    h.get_by_label("demand curves of the calibrated shop")
        .click();
    h.run_steps(2);
    h.get_by_label("Draw demand curves").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let demand = &h.state().sim.demand;
    assert_eq!(demand.report.as_ref().unwrap().curves.len(), 8);
    assert_eq!(demand.categories.len(), 8);
    let second = format!("category {}", demand.categories[1]);
    h.get_by_label(&second).click();
    h.run_steps(2);
    let demand = &h.state().sim.demand;
    assert_eq!(demand.shown, 1);
    assert_eq!(demand.figures.len(), 3);
    assert!(demand.figures[1].1.title.contains(&demand.categories[1]));
    let calibrate = "calibrate the shop on this workspace's sessions";
    h.get_by_label(calibrate).click();
    h.run_steps(4);
    h.snapshot("demand_curves");
    h.get_by_label("demand curves of the calibrated shop")
        .click();
    h.get_by_label(calibrate).click();
    h.run_steps(4);
    h.get_by_label("Use this calibration as the scenario's world")
        .click();
    h.run_steps(2);
    assert!(
        h.state().sim.text.contains("calibration = 1"),
        "{}",
        h.state().sim.text
    );
    // Plan an A/B test of the two policies on the calibrated shop.
    h.get_by_label("calibrate the shop on this workspace's sessions")
        .click();
    h.run_steps(4);
    h.get_by_label("plan an A/B test of two policies").click();
    h.run_steps(4);
    h.state_mut().sim.planner.replicates = 30;
    h.get_by_label("Plan the test").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let planner = &h.state().sim.planner;
    let plan = planner.plan.as_ref().unwrap();
    assert_eq!((plan.a.as_str(), plan.b.as_str()), ("list", "optimal"));
    assert_eq!((plan.tests, plan.curve.len()), (30, 5));
    // Half the log's 35,790 sessions in 30 days per arm and day.
    assert!((plan.curve[0].sessions_per_arm - 35790.0 / 60.0).abs() < 60.0);
    assert!(plan.effect < 0.0);
    assert_eq!(planner.figures.len(), 2);
    h.run_steps(4);
    h.snapshot("ab_plan");
    h.get_by_label("Run").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let sim = &h.state().sim;
    assert_eq!(sim.items.len(), 300);
    assert!(sim.days.values().all(|d| d.len() == 5));
    assert_eq!(sim.report.as_ref().unwrap().name, "mine");
}

/// The researcher's journey: a sweep started from the Models view runs as a queue of tagged
/// runs; Compare groups them over seeds, ranks the parameters, brushes the parallel
/// coordinates to select runs, edits a run's tags and note and filters on the tag; each
/// plot exports its data.
#[test]
fn sweep_then_compare_runs_like_an_experiment_tracker() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    h.set_size(egui::vec2(1280.0, 1600.0));
    settle(&mut h);
    h.state_mut().set_tab(Tab::Models);
    settle(&mut h);
    h.get_by_label("Sweep").click();
    h.run_steps(2);
    {
        let m = &mut h.state_mut().models;
        m.form.model = "bpr".into();
        m.form.split = "main".into();
        m.form.epochs = 2;
        m.form.device = "cpu".into();
        m.sweep.axes = vec![("factors".into(), "4,32".into())];
        m.sweep.seeds = "1,2".into();
        m.sweep.tag = "grid-a".into();
    }
    h.run_steps(2);
    h.get_by_label("Start sweep").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let q = h.state().models.queue.as_ref().expect("a sweep ran");
    assert_eq!(q.sweep.trials.len(), 4);
    assert_eq!(q.done.len(), 4);
    assert!(
        q.done.iter().all(|(_, status)| status == "finished"),
        "{:?}",
        q.done
    );
    h.get_by_label_contains("all 4 trials done");
    let runs = &h.state().models.runs;
    assert_eq!(runs.len(), 4);
    assert!(runs.iter().all(|r| r.tags == vec!["grid-a".to_string()]));

    // Compare: every metric the runs have, grouped over seeds.
    h.state_mut().set_tab(Tab::Compare);
    settle(&mut h);
    h.get_by_label("select shown").click();
    settle(&mut h);
    assert_eq!(h.state().compare.selected.len(), 4);
    h.get_all_by_role(egui::accesskit::Role::ComboBox)
        .find(|n| n.value().as_deref() == Some("no grouping"))
        .expect("the grouping box")
        .click();
    h.run_steps(2);
    h.get_by_label("same config, any seed/fold").click();
    settle(&mut h);
    let d = h.state_mut().compare.derived().clone();
    for m in ["ndcg@10", "recall@10", "hit@10", "mrr@10"] {
        assert!(d.metrics.contains(&m.to_string()), "{:?}", d.metrics);
    }
    assert_eq!(d.param_names, vec!["factors", "seed"]);
    assert_eq!(d.groups.len(), 2);
    assert_eq!(
        (d.groups[0].label.as_str(), d.groups[0].n),
        ("factors=4", 2)
    );
    assert_eq!(d.groups[1].runs, vec![3, 4]);
    let (lo, hi) = d.groups[1].interval.expect("two seeds give an interval");
    assert!(lo <= d.groups[1].mean && d.groups[1].mean <= hi);
    assert_eq!(
        d.metric_figure.x_ticks,
        vec!["factors=4 (N=2)", "factors=32 (N=2)"]
    );
    assert_eq!(d.importance.len(), 2);
    assert!(d.importance.iter().all(|i| i.n == 4 && i.levels == 2));
    h.get_by_label("parameter importance for ndcg@10");
    h.get_by_label_contains("Spearman's rank correlation");
    // Parallel coordinates: factors, seed and the metric; brushing the top of the metric
    // axis selects the runs up there.
    assert_eq!(d.axes.len(), 3);
    assert_eq!(d.lines.len(), 4);
    let top: Vec<i64> = d
        .lines
        .iter()
        .filter(|l| l.1[2] >= 0.5)
        .map(|l| l.0)
        .collect();
    h.state_mut().brush(2, 0.5, 1.0);
    settle(&mut h);
    let selected: Vec<i64> = h.state().compare.selected.iter().copied().collect();
    assert_eq!(selected, top);
    assert!(!selected.is_empty() && selected.len() < 4);
    h.get_by_label("clear brushes").click();
    h.get_by_label("select shown").click();
    settle(&mut h);
    h.snapshot_options(
        "compare_view",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(4_000),
    );

    // Tags and a note, saved from the editor; the tag's button filters the table.
    h.state_mut().compare.editing = Some((3, "grid-a, best".into(), "32 factors".into()));
    h.run_steps(2);
    // Inside run 3 first: BPR's metric by user activity, the popularity of what it
    // recommends, and its item vectors on a map.
    h.get_by_label("Look inside run 3").click();
    settle(&mut h);
    let (inside, figs) = h.state().compare.inside.clone().expect("looked inside");
    assert_eq!(inside.run_id, 3);
    assert!(inside.ratings.is_none() && inside.classifier.is_none());
    let stems: Vec<&str> = figs.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        stems,
        ["run3-by-activity", "run3-popularity", "run3-item-map"]
    );
    let users: usize = inside.activity.iter().map(|b| b.users).sum();
    assert!(users > 0);
    // The demo catalog's 300 items, most of them with a category to colour by.
    assert_eq!(inside.map.len(), 300);
    let with_category = inside.map.iter().filter(|p| p.category.is_some()).count();
    assert!(with_category > 250, "{with_category}");
    h.get_by_label_contains("run 3: item vectors, first two principal components");
    h.get_by_label("Save tags and note").click();
    settle(&mut h);
    let run3 = h
        .state()
        .compare
        .runs
        .iter()
        .find(|r| r.run_id == 3)
        .unwrap()
        .clone();
    assert_eq!(run3.tags, vec!["grid-a", "best"]);
    assert_eq!(run3.note.as_deref(), Some("32 factors"));
    h.get_by_label("#best").click();
    settle(&mut h);
    assert_eq!(h.state_mut().compare.derived().shown.len(), 1);
    h.get_by_label_contains("1 runs shown of 4");

    // Every plot exports: the grouped bars as CSV, the parallel coordinates as SVG.
    let d = h.state_mut().compare.derived().clone();
    let csv = dir.path().join("groups.csv");
    shoplab_workbench::figure::save(&d.metric_figure, &csv).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("series,x,x_name,y,low,high\n"), "{text}");
    let svg = dir.path().join("parallel.svg");
    shoplab_workbench::figure::save(&d.parallel_figure, &svg).unwrap();
    assert!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .contains("parallel coordinates")
    );
}

/// A conversion run started from the Models view, then looked inside: its ROC curve (area
/// equal to the AUC it stored) and calibration by decile.
#[test]
fn a_conversion_run_and_its_roc_curve() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    settle(&mut h);
    h.state_mut().set_tab(Tab::Models);
    settle(&mut h);
    h.get_by_label("Conversion").click();
    h.run_steps(2);
    h.get_by_label("the event log's sessions, 80/10/10 by the seed");
    {
        let form = &mut h.state_mut().models.form;
        form.epochs = 3;
        form.device = "cpu".into();
    }
    h.get_by_label("Start").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    assert_eq!(h.state().models.live.status, "finished");
    let run = h.state().models.runs.last().unwrap().clone();
    assert_eq!(run.model, "conversion");
    let auc = run.metrics.iter().find(|m| m.0 == "auc").unwrap().1;

    h.state_mut().set_tab(Tab::Compare);
    settle(&mut h);
    // The metric list offers what a classifier has.
    let metrics = h.state_mut().compare.derived().metrics.clone();
    assert!(metrics.contains(&"auc".to_string()) && metrics.contains(&"logloss".to_string()));
    h.state_mut().compare.editing = Some((run.run_id, String::new(), String::new()));
    h.run_steps(2);
    h.get_by_label(&format!("Look inside run {}", run.run_id))
        .click();
    settle(&mut h);
    let (inside, figs) = h.state().compare.inside.clone().expect("looked inside");
    let c = inside.classifier.expect("a classifier");
    assert!((c.auc - auc).abs() < 1e-6, "{} vs {auc}", c.auc);
    assert_eq!(figs.len(), 2);
    h.get_by_label_contains(&format!("AUC {auc:.4}"));
    h.get_by_label("Close").click();
    h.state_mut().compare.selected.clear();
    h.run_steps(4);
    h.snapshot_options(
        "inside_roc",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(4_000),
    );
}

/// An analyst edits the policies and price rules through forms, never the TOML: adds a
/// policy, makes it a UCB1 learner, adds a .99-endings rule and a ceiling; the text follows,
/// its comments kept. The run obeys the rules, and its results come by category too.
#[test]
fn policies_and_price_rules_as_forms_then_results_by_category() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Start::Workspace(demo_workspace(dir.path())));
    settle(&mut h);
    h.state_mut().set_tab(Tab::Simulate);
    {
        let sim = &mut h.state_mut().sim;
        sim.text = r#"# Our baseline against a learner.
name = "forms"
days = 5
sessions_per_day = 300
world = { seed = 3, users = 300, items = 80, categories = 4 }

[[policies]]
name = "list"   # what we do today
recommend = "popularity"
pricing = { kind = "list" }

[[policies]]
name = "thompson"
recommend = "popularity"
pricing = { kind = "thompson", grid = [0.95, 1.0, 1.05] }
"#
        .into();
        sim.seeds = 2;
        sim.realtime = false;
    }
    h.run_steps(2);
    h.get_by_label("policies and price rules").click();
    h.run_steps(3);
    assert_eq!(h.get_all_by_label("pricing").count(), 2);
    h.get_by_label("+ policy").click();
    h.run_steps(3);
    // The new policy's pricing: UCB1 over the default grid.
    h.get_all_by_label("pricing").nth(2).unwrap().click();
    h.run_steps(3);
    h.get_by_label("ucb1").click();
    h.run_steps(3);
    h.get_by_label("+ charm .99 endings").click();
    h.run_steps(3);
    h.get_by_label("+ ceiling and max move").click();
    h.run_steps(3);
    let text = h.state().sim.text.clone();
    for part in [
        "# Our baseline against a learner.",
        "# what we do today",
        "name = \"policy 3\"",
        "kind = \"ucb1\"",
        "ending = 0.99",
        "ceiling = 1.2",
        "max_move = 0.05",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    assert_eq!(h.state().sim.form.problem, None);
    h.snapshot("policy_forms");
    h.get_by_label("Run").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let sim = &h.state().sim;
    assert_eq!(sim.order, vec!["list", "thompson", "policy 3", "oracle"]);
    // Every price the shoppers saw ends in .99 and stays within 120% of list.
    let list: Vec<f64> = sim.items.iter().map(|i| i.2).collect();
    for days in sim.days.values() {
        for d in days {
            for (p, l) in d.prices.iter().zip(&list) {
                let p = f64::from(*p);
                assert!(((p - p.floor()) - 0.99).abs() < 1e-3, "{p}");
                assert!(p <= 1.2 * l + 1.0, "{p} {l}");
            }
        }
    }
    // Results by category: the world's four, per policy, adding up to the shop's sessions.
    let cats = &sim.categories.results;
    assert_eq!(cats.len(), 4);
    assert!(cats.iter().all(|(_, c)| c.len() == 4));
    let report = sim.report.as_ref().unwrap();
    let sessions: f64 = report.runs[0]
        .replicates
        .iter()
        .map(|r| r.iter().map(|d| d.sessions as f64).sum::<f64>())
        .sum::<f64>()
        / 2.0;
    let by_cat: f64 = cats[0].1.iter().map(|c| c.sessions).sum();
    assert!((by_cat - sessions).abs() < 1e-6, "{by_cat} {sessions}");
    h.get_by_label("results by category");
    h.get_all_by_role(egui::accesskit::Role::ComboBox)
        .find(|n| n.value().as_deref() == Some("margin"))
        .expect("the metric of the categories")
        .scroll_to_me();
    h.run_steps(3);
    h.get_all_by_role(egui::accesskit::Role::ComboBox)
        .find(|n| n.value().as_deref() == Some("margin"))
        .expect("the metric of the categories")
        .click();
    h.run_steps(3);
    h.get_by_label("revenue").click();
    h.run_steps(3);
    assert_eq!(h.state().sim.categories.metric, 1);
    // The text edited by hand: the form reads it again.
    let edited = h
        .state()
        .sim
        .text
        .replace("grid = [0.95, 1.0, 1.05]", "grid = [0.8, 1.2]");
    h.state_mut().sim.text = edited;
    h.run_steps(3);
    assert!(
        h.get_all_by_value("0.8, 1.2").next().is_some(),
        "the form's grid"
    );
    h.snapshot("sim_by_category");
}

/// Data: the workspace's steps on a Spark cluster from the Data view's Spark panel: the
/// demo shop's events as a lake, a hashed split and the profile computed there.
#[test]
fn a_hashed_split_and_the_profile_computed_on_a_spark_cluster() {
    let remote = match std::env::var("SPARK_REMOTE") {
        Ok(r) if !r.is_empty() => r,
        _ => {
            assert!(
                std::env::var("SHOPLAB_REQUIRE_SPARK").as_deref() != Ok("1"),
                "SHOPLAB_REQUIRE_SPARK=1 but SPARK_REMOTE is not set"
            );
            eprintln!("SPARK_REMOTE is not set: no Spark server to send steps to");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let ws = demo_workspace(dir.path());
    // A fixed path: it shows in the snapshot.
    let lake = std::env::temp_dir().join("shoplab-ui-spark-lake");
    let _ = std::fs::remove_dir_all(&lake);
    shoplab_engine::Session::open(&ws)
        .unwrap()
        .export_lake(&lake, &["event_date".into()])
        .unwrap();
    let mut h = harness(Start::Workspace(ws));
    settle(&mut h);
    h.get_by_label("Spark cluster").click();
    h.run_steps(3);
    let events = lake.join("events").display().to_string();
    for (field, text) in [
        ("endpoint", remote.as_str()),
        ("events (the server's path)", &events),
    ] {
        h.get_by_label(field).focus();
        h.run_steps(2);
        h.get_by_label(field).type_text(text);
        h.run_steps(2);
    }
    assert_eq!(h.state().data.spark.remote, remote);
    assert_eq!(h.state().data.spark.data, events);
    h.get_by_label("Hashed split on Spark").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let split = h
        .state()
        .view
        .splits
        .iter()
        .find(|s| s.name == "hashed")
        .expect("the split made on Spark")
        .clone();
    assert!(
        split
            .computed_on
            .as_deref()
            .unwrap()
            .starts_with("spark sc://")
    );
    assert!(split.n_train > split.n_test && split.n_test > 0);
    let note = h.state().data.spark.note.clone().unwrap();
    assert!(note.starts_with("split hashed:"), "{note}");
    h.get_by_label(&note);
    h.get_by_label("Profile on Spark").click();
    settle(&mut h);
    assert_eq!(h.state().error(), None);
    let p = h.state().view.profile.as_ref().unwrap();
    assert_eq!(p.events, 137_623);
    assert!(p.computed_on.as_deref().unwrap().contains("over "));
    h.get_by_label(h.state().data.spark.note.as_deref().unwrap());
    h.snapshot("spark_panel");
    let _ = std::fs::remove_dir_all(&lake);
}
