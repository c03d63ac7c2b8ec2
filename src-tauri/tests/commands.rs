//! Every command of the demo through Tauri's mock runtime, with the app's real config and
//! capabilities, on a real demo workspace with real runs: the product manager's journey
//! (pick a shopper, open a product, add it to the cart, switch the model, compare two runs,
//! read the price side, run the control room) and each error code. The journey's answers
//! are written as the browser tests' fixtures (`tests/ui/`), through the real DTOs, and
//! the browser tests then run on them, so the UI and the app cannot drift apart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use shoplab_demo::dto::{
    Comparison, ControlDone, DayPoint, HistoryStep, PricePanel, Product, ProductCard, ShopInfo,
    Shopper, Slates,
};
use shoplab_engine::demo::{Contents, WorldConfig, build_demo};
use tauri::ipc::{CallbackFn, InvokeBody, InvokeResponseBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

type Webview = tauri::WebviewWindow<MockRuntime>;
type Messages = Arc<Mutex<Vec<(u32, Value)>>>;

/// The mock app and what its channels sent.
struct App {
    _app: tauri::App<MockRuntime>,
    webview: Webview,
    sent: Messages,
}

fn app() -> App {
    let sent: Messages = Arc::default();
    let sink = sent.clone();
    let app = shoplab_demo::run_app(mock_builder())
        .channel_interceptor(move |_, callback, _, body| {
            if let InvokeResponseBody::Json(text) = body {
                let value = serde_json::from_str(text).unwrap();
                sink.lock().unwrap().push((callback.0, value));
            }
            true
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    App {
        _app: app,
        webview,
        sent,
    }
}

fn call(webview: &Webview, cmd: &str, args: &Value) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args.clone()),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

/// Calls commands and records each call as a browser-test fixture.
struct Recorder<'a> {
    app: &'a App,
    calls: Vec<Value>,
}

impl Recorder<'_> {
    /// Calls `cmd`; the fixture records `shown` as the arguments (what the UI sends).
    fn call_as<T: serde::de::DeserializeOwned>(
        &mut self,
        cmd: &str,
        args: Value,
        shown: Value,
    ) -> T {
        let answer =
            call(&self.app.webview, cmd, &args).unwrap_or_else(|e| panic!("{cmd} {args}: {e}"));
        self.calls
            .push(json!({ "cmd": cmd, "args": shown, "ok": answer }));
        serde_json::from_value(answer).unwrap()
    }

    fn call<T: serde::de::DeserializeOwned>(&mut self, cmd: &str, args: Value) -> T {
        self.call_as(cmd, args.clone(), args)
    }
}

fn code(r: Result<Value, Value>) -> String {
    let e = r.expect_err("an error");
    eprintln!("{e}");
    assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
    e["code"].as_str().unwrap().to_string()
}

fn ids(slate: &shoplab_demo::dto::Slate) -> Vec<String> {
    slate
        .items
        .iter()
        .map(|i| i.product.item_id.clone())
        .collect()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn the_storefront_journey_over_ipc_then_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo.duckdb");
    let built = build_demo(&ws, &WorldConfig::demo(), Contents::Full).unwrap();
    assert_eq!(built.runs.len(), 6);
    let app = app();
    let mut rec = Recorder {
        app: &app,
        calls: Vec::new(),
    };

    // The demo opens on the workspace: categories, runs with their badges, the conversion
    // run and the calibration.
    let shop: ShopInfo = rec.call_as(
        "open_workspace",
        json!({ "path": ws }),
        json!({ "path": null }),
    );
    assert_eq!(shop.events, built.profile.events);
    assert_eq!(shop.items, built.profile.items);
    assert_eq!(
        shop.categories.iter().map(|c| c.items).sum::<u64>(),
        300 - 43
    );
    let models: Vec<&str> = shop.runs.iter().map(|r| r.model.as_str()).collect();
    for m in ["pop", "itemknn", "ease", "bpr", "sasrec"] {
        assert!(models.contains(&m), "{models:?}");
    }
    let best = &shop.runs[0];
    assert!(best.ndcg.unwrap() > 0.1, "{best:?}");
    assert!(
        best.ndcg_low.unwrap() < best.ndcg.unwrap() && best.ndcg.unwrap() < best.ndcg_high.unwrap()
    );
    assert_eq!(shop.default_run, Some(best.run_id));
    let pop = shop.runs.iter().find(|r| r.model == "pop").unwrap();
    assert_eq!(pop.reading, "ignored");
    assert_eq!(
        shop.runs.iter().find(|r| r.model == "bpr").unwrap().reading,
        "fold-in"
    );
    assert!(shop.conversion_run.is_some() && shop.calibration == built.calibration_id);
    let run = shop.default_run.unwrap();
    let similar = shop.similar_runs.first().copied();
    assert!(similar.is_some());

    // Pick the first shopper: their history, then every widget for it.
    let shoppers: Vec<Shopper> = rec.call("shoppers", json!({ "search": null, "limit": 40 }));
    assert_eq!(shoppers.len(), 40);
    assert!(shoppers[0].purchases >= shoppers[1].purchases && shoppers[0].purchases > 0);
    let shopper = shoppers[0].user_id.clone();
    // The search box: shoppers whose id contains the text.
    let part = &shopper[shopper.len() - 3..];
    let found: Vec<Shopper> = rec.call("shoppers", json!({ "search": part, "limit": 40 }));
    assert!(found.iter().any(|s| s.user_id == shopper));
    assert!(found.iter().all(|s| s.user_id.contains(part)));
    let steps: Vec<HistoryStep> = rec.call("shopper_history", json!({ "userId": shopper }));
    assert!(!steps.is_empty() && steps.len() <= 50);
    assert!(steps.iter().all(|s| s.time.is_some()));
    assert!(
        steps.windows(2).all(|w| w[0].time <= w[1].time),
        "oldest first"
    );
    let mut history: Vec<String> = steps.iter().map(|s| s.product.item_id.clone()).collect();
    let slates = |history: &[String], run: i64, item: Option<&str>, category: Option<&str>| {
        json!({ "req": {
            "runId": run, "similarRunId": similar, "history": history,
            "itemId": item, "category": category, "k": 8 } })
    };
    let home: Slates = rec.call("storefront_slates", slates(&history, run, None, None));
    assert_eq!(home.for_you.items.len(), 8);
    assert!(
        home.for_you
            .items
            .iter()
            .all(|i| !history.contains(&i.product.item_id))
    );
    assert_eq!(home.for_you.badge.as_ref().unwrap().run_id, run);
    assert!(home.similar.is_none() && home.also_bought.is_none());
    let coverage = home.for_you.coverage.unwrap();
    assert!(coverage > 0.0 && coverage <= 1.0);
    assert_eq!(home.popular.as_ref().unwrap().title, "Popular in the shop");

    // Open the first recommendation: a view joins the history; the product page's widgets.
    let item = home.for_you.items[0].product.item_id.clone();
    let product: Product = rec.call("product_page", json!({ "itemId": item }));
    assert_eq!(product.card.item_id, item);
    assert!(product.card.price.unwrap() > 0.0 && product.views > 0);
    let category = product.card.category.clone();
    history.push(item.clone());
    let page: Slates = rec.call(
        "storefront_slates",
        slates(&history, run, Some(&item), Some(&category)),
    );
    assert!(!ids(&page.for_you).contains(&item));
    let similar_items = page.similar.as_ref().unwrap();
    assert_eq!(similar_items.items.len(), 8);
    assert!(
        similar_items
            .items
            .iter()
            .all(|i| i.because.iter().all(|b| b.item_id == item))
    );
    let also = page.also_bought.as_ref().unwrap();
    assert_eq!(also.reason_kind, "count");
    assert!(also.items.iter().all(|i| i.score >= 1.0));
    let popular = page.popular.as_ref().unwrap();
    assert!(popular.items.iter().all(|i| i.product.category == category));
    let price: PricePanel = rec.call(
        "price_panel",
        json!({ "req": { "itemId": item, "userId": shopper, "policy": "list" } }),
    );
    assert_eq!(Some(price.list_price), product.card.price);
    assert_eq!(price.policy_price, price.list_price);
    let p = price.p_buy_list.unwrap();
    assert!(p > 0.0 && p < 0.5, "{p}");
    assert_eq!(price.curve.len(), 41);
    // Demand falls with the price, revenue per visit is price × P.
    assert!(price.curve.windows(2).all(|w| w[1].p_buy <= w[0].p_buy));
    for c in &price.curve {
        assert!((c.revenue - c.price * c.p_buy).abs() < 1e-9);
    }
    let e = price.elasticity.as_ref().unwrap();
    assert!(e.low < e.value && e.value < e.high && e.category == category);

    // Add to cart: the history grows and every widget re-scores.
    history.push(item.clone());
    let carted: Slates = rec.call(
        "storefront_slates",
        slates(&history, run, Some(&item), Some(&category)),
    );
    assert!(carted.generation > page.generation);
    // The best run is BPR, which folds the history in; switch to EASE, which reads it natively.
    assert_eq!(carted.for_you.badge.as_ref().unwrap().model, "bpr");
    assert_eq!(carted.for_you.reason_kind, "cosine");
    let ease = shop.runs.iter().find(|r| r.model == "ease").unwrap().run_id;
    let switched: Slates = rec.call(
        "storefront_slates",
        slates(&history, ease, Some(&item), Some(&category)),
    );
    assert_eq!(switched.for_you.badge.as_ref().unwrap().reading, "native");
    assert_eq!(switched.for_you.reason_kind, "weight");
    assert!(switched.for_you.items.iter().all(|i| !i.because.is_empty()));
    assert_ne!(ids(&switched.for_you), ids(&carted.for_you));
    let optimal: PricePanel = rec.call(
        "price_panel",
        json!({ "req": { "itemId": item, "userId": shopper, "policy": "revenue-optimal" } }),
    );
    let top = optimal
        .curve
        .iter()
        .map(|c| c.revenue)
        .fold(f64::MIN, f64::max);
    let at = optimal
        .curve
        .iter()
        .find(|c| c.price == optimal.policy_price)
        .unwrap();
    assert_eq!(at.revenue, top);

    // A category page.
    let cards: Vec<ProductCard> = rec.call(
        "category_page",
        json!({ "category": category, "limit": 24 }),
    );
    assert!(cards.iter().all(|c| c.category == category));
    assert!(cards.windows(2).all(|w| w[0].popularity >= w[1].popularity));

    // Compare two runs for the same moment.
    let other = shop.runs.iter().find(|r| r.run_id != ease).unwrap().run_id;
    let cmp: Comparison = rec.call(
        "compare_runs",
        json!({ "req": { "runA": ease, "runB": other, "history": history, "k": 8 } }),
    );
    assert_eq!(cmp.a.badge.as_ref().unwrap().run_id, ease);
    assert_eq!(cmp.b.badge.as_ref().unwrap().run_id, other);
    for o in &cmp.overlap {
        assert!(ids(&cmp.a).contains(o) && ids(&cmp.b).contains(o));
    }
    let union = 16 - cmp.overlap.len();
    assert!((cmp.jaccard - cmp.overlap.len() as f64 / union as f64).abs() < 1e-12);

    // The control room: each day of both policies streamed over the channel.
    let control =
        json!({ "policyA": "list", "policyB": "thompson", "days": 6, "seeds": 2, "speed": 200.0 });
    let done: ControlDone = rec.call_as(
        "control_room_start",
        json!({ "req": control, "onDay": "__CHANNEL__:77" }),
        json!({ "req": control }),
    );
    assert!(!done.stopped && done.days == 6 && done.sim_id > 0);
    let days: Vec<DayPoint> = app
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| *id == 77)
        .map(|(_, v)| serde_json::from_value(v.clone()).unwrap())
        .collect();
    assert_eq!(days.len(), 12);
    assert!(
        days.iter()
            .all(|d| d.conversion_low <= d.conversion && d.conversion <= d.conversion_high)
    );
    assert_eq!(
        days.iter()
            .filter(|d| d.policy == "Thompson sampling")
            .count(),
        6
    );
    rec.calls.last_mut().unwrap()["channel"] = json!({ "arg": "onDay", "messages": days });
    let stopped: bool = rec.call("control_room_stop", json!({}));
    assert!(!stopped, "nothing was running");

    // The fixtures, then the browser tests on them.
    let out = std::env::temp_dir().join(format!("shoplab-ui-fixtures-{}.json", std::process::id()));
    std::fs::write(
        &out,
        serde_json::to_string_pretty(&json!({ "calls": rec.calls })).unwrap(),
    )
    .unwrap();
    errors(&app, &ws);
    browser(&out);
}

/// Each error code, as the UI branches on it.
fn errors(app: &App, ws: &Path) {
    let fresh = self::app();
    assert_eq!(
        code(call(
            &fresh.webview,
            "shoppers",
            &json!({ "search": null, "limit": 5 })
        )),
        "no_workspace"
    );
    assert_eq!(
        code(call(
            &fresh.webview,
            "open_workspace",
            &json!({ "path": ws.with_extension("nope") })
        )),
        "no_workspace"
    );
    let text = ws.with_extension("txt");
    std::fs::write(&text, "not a workspace").unwrap();
    assert_eq!(
        code(call(
            &fresh.webview,
            "open_workspace",
            &json!({ "path": text })
        )),
        "workspace_refused"
    );

    let w = &app.webview;
    assert_eq!(
        code(call(
            w,
            "product_page",
            &json!({ "itemId": "no-such-item" })
        )),
        "not_found"
    );
    assert_eq!(
        code(call(
            w,
            "shopper_history",
            &json!({ "userId": "no-such-shopper" })
        )),
        "not_found"
    );
    assert_eq!(
        code(call(
            w,
            "category_page",
            &json!({ "category": "toys", "limit": 5 })
        )),
        "not_found"
    );
    let req = |run: i64, k: usize| json!({ "req": { "runId": run, "similarRunId": null, "history": [], "itemId": null, "category": null, "k": k } });
    assert_eq!(
        code(call(w, "storefront_slates", &req(999, 8))),
        "not_found"
    );
    assert_eq!(
        code(call(w, "storefront_slates", &req(1, 0))),
        "bad_argument"
    );
    assert_eq!(
        code(call(w, "storefront_slates", &req(6, 8))),
        "not_supported",
    );
    let price = json!({ "req": { "itemId": "1000027", "userId": null, "policy": "haggle" } });
    assert_eq!(code(call(w, "price_panel", &price)), "bad_argument");
    let same = json!({ "req": { "policyA": "list", "policyB": "list", "days": 5, "seeds": 1, "speed": 10.0 }, "onDay": "__CHANNEL__:5" });
    assert_eq!(code(call(w, "control_room_start", &same)), "bad_argument");

    // A run that did not finish, and a run whose split changed since it was trained, on a
    // copy of the workspace (the app holds the first one open).
    let copy = ws.with_file_name("copy.duckdb");
    std::fs::copy(ws, &copy).unwrap();
    copy_dir(
        &ws.with_extension("duckdb.runs"),
        &copy.with_extension("duckdb.runs"),
    );
    let ws = copy.as_path();
    let session = shoplab_engine::Session::open(ws).unwrap();
    let job = session
        .train_job(shoplab_engine::TrainConfig::new(
            "main",
            shoplab_engine::ModelKind::Bpr,
        ))
        .unwrap();
    job.cancel();
    let cancelled = job.join().unwrap().run_id;
    let split = |seed| shoplab_engine::SplitSpec {
        name: "alt".into(),
        strategy: shoplab_engine::Strategy::RandomRatio {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        },
        seed,
        event_types: None,
        min_value: None,
        k_core: None,
        cold_items: None,
    };
    session.create_split(&split(1)).unwrap();
    let stale = session
        .train_job(shoplab_engine::TrainConfig::new(
            "alt",
            shoplab_engine::ModelKind::Ease,
        ))
        .unwrap()
        .join()
        .unwrap()
        .run_id;
    session
        .create_split(&shoplab_engine::SplitSpec {
            k_core: Some(5),
            ..split(2)
        })
        .unwrap();
    drop(session);
    call(w, "open_workspace", &json!({ "path": ws })).unwrap();
    assert_eq!(
        code(call(w, "storefront_slates", &req(cancelled, 8))),
        "run_not_finished"
    );
    assert_eq!(
        code(call(w, "storefront_slates", &req(stale, 8))),
        "split_changed"
    );

    // The control room runs one what-if at a time; stop ends it early.
    let slow = json!({ "req": { "policyA": "list", "policyB": "elasticity-optimal", "days": 200, "seeds": 1, "speed": 20.0 }, "onDay": "__CHANNEL__:9" });
    let (done, second) = std::thread::scope(|s| {
        let running = s.spawn(|| call(w, "control_room_start", &slow));
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let second = call(w, "control_room_start", &slow);
        assert_eq!(call(w, "control_room_stop", &json!({})), Ok(json!(true)));
        (running.join().unwrap(), second)
    });
    assert_eq!(code(second), "busy");
    let done: ControlDone = serde_json::from_value(done.unwrap()).unwrap();
    assert!(done.stopped && done.days < 200, "{done:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The browser tests (`tests/ui/`, Playwright driving Chromium) on the journey's fixtures.
fn browser(fixtures: &Path) {
    let ui = repo().join("tests/ui");
    assert!(
        ui.join("node_modules/playwright-core").exists(),
        "tests/ui/node_modules is missing: `bash scripts/deps.sh` installs it (npm ci)"
    );
    let mut cmd = std::process::Command::new("node");
    cmd.arg("--test")
        .arg(&ui)
        .env("SHOPLAB_UI_FIXTURES", fixtures);
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        cmd.env("SHOPLAB_UI_SHOTS", Path::new(&target).join("ui-shots"));
    }
    let status = cmd.current_dir(repo()).status().expect("node runs");
    assert!(
        status.success(),
        "the browser tests failed on {}",
        fixtures.display()
    );
}
