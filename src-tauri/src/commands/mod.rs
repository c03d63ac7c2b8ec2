//! The demo's commands. Each is thin: one engine call on a blocking thread (the webview is
//! never blocked) and a DTO conversion ([`crate::convert`]). Errors are `{code, message}`.

pub mod control;

use std::path::PathBuf;
use std::time::Instant;

use shoplab_engine::storefront::Moment;
use shoplab_engine::{Session, Storefront};
use tauri::State;

use crate::convert;
use crate::dto::{
    CompareRequest, Comparison, HistoryStep, PricePanel, PriceRequest, Product, ProductCard,
    ShopInfo, Shopper, Slates, SlatesRequest,
};
use crate::error::ApiError;
use crate::state::DemoState;

type Answer<T> = Result<T, ApiError>;

/// Runs `f` on a blocking thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Answer<T> + Send + 'static) -> Answer<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new("internal", e.to_string()))?
}

/// Opens a workspace as the storefront (the bundled demo workspace, built on first use,
/// when `path` is absent).
#[tauri::command]
pub async fn open_workspace(path: Option<String>, state: State<'_, DemoState>) -> Answer<ShopInfo> {
    let store = blocking(move || {
        let path = match path {
            Some(p) => PathBuf::from(p),
            None => shoplab_engine::demo::ensure_demo()?,
        };
        Ok(Session::open(&path)?.storefront()?)
    })
    .await?;
    let store = state.set_store(store);
    // The runs load in the background while the UI draws the shop.
    let warm = store.clone();
    tauri::async_runtime::spawn_blocking(move || warm.warm());
    blocking(move || shop_info(&store)).await
}

fn shop_info(store: &Storefront) -> Answer<ShopInfo> {
    let session = store.session();
    let profile = match session.last_profile()? {
        Some(p) => p,
        None => session.profile()?,
    };
    Ok(ShopInfo {
        path: store.path().display().to_string(),
        migration: session.migration().map(|m| m.to_string()),
        users: profile.users,
        items: profile.items,
        events: profile.events,
        first_event: profile.first_event,
        last_event: profile.last_event,
        categories: convert::categories(store),
        runs: store.runs.iter().map(convert::badge).collect(),
        default_run: store.default_run(),
        similar_runs: store.similar_runs(),
        text_model: store.text_model.clone(),
        conversion_run: store.conversion_run,
        calibration: store.calibration,
        pricing_policies: convert::price_policies(),
        scenario_policies: convert::control_policies(),
    })
}

/// A native dialog to choose a workspace file; `None` when cancelled.
#[tauri::command]
pub async fn choose_workspace() -> Answer<Option<String>> {
    let file = rfd::AsyncFileDialog::new()
        .set_title("Open a ShopLab workspace")
        .add_filter("DuckDB workspace", &["duckdb", "db"])
        .pick_file()
        .await;
    Ok(file.map(|f| f.path().display().to_string()))
}

/// Shoppers whose id contains `search`, the biggest buyers first.
#[tauri::command]
pub async fn shoppers(
    search: Option<String>,
    limit: Option<usize>,
    state: State<'_, DemoState>,
) -> Answer<Vec<Shopper>> {
    let store = state.store()?;
    blocking(move || {
        let rows = store.shoppers(search.as_deref(), limit.unwrap_or(40).min(500))?;
        Ok(rows
            .into_iter()
            .map(|r| Shopper {
                user_id: r.user_id,
                views: r.views,
                carts: r.carts,
                purchases: r.purchases,
                last_seen: r.last_seen,
                top_category: r.top_category,
            })
            .collect())
    })
    .await
}

/// A shopper's last events, oldest first.
#[tauri::command]
pub async fn shopper_history(
    user_id: String,
    state: State<'_, DemoState>,
) -> Answer<Vec<HistoryStep>> {
    let store = state.store()?;
    blocking(move || Ok(convert::history(&store, store.history(&user_id)?))).await
}

/// A category's products, the most popular first.
#[tauri::command]
pub async fn category_page(
    category: String,
    limit: Option<usize>,
    state: State<'_, DemoState>,
) -> Answer<Vec<ProductCard>> {
    let store = state.store()?;
    blocking(move || {
        let found = store.category(&category, limit.unwrap_or(24).min(500))?;
        Ok(found
            .into_iter()
            .map(|p| convert::card(&store, p))
            .collect())
    })
    .await
}

/// A product page.
#[tauri::command]
pub async fn product_page(item_id: String, state: State<'_, DemoState>) -> Answer<Product> {
    let store = state.store()?;
    blocking(move || Ok(convert::product(&store, store.product(&item_id)?))).await
}

/// Every widget of the storefront re-scored for one moment. Latest wins: an answer to a
/// request older than the latest is the error `superseded`, and a stale request waiting
/// for a thread is dropped before it computes.
#[tauri::command]
pub async fn storefront_slates(req: SlatesRequest, state: State<'_, DemoState>) -> Answer<Slates> {
    let store = state.store()?;
    let generation = state.next_generation();
    let slates = blocking(move || {
        let started = Instant::now();
        let w = store.widgets(&Moment {
            run: req.run_id,
            similar_run: req.similar_run_id,
            history: &req.history,
            item: req.item_id.as_deref(),
            category: req.category.as_deref(),
            k: req.k,
        })?;
        let millis = started.elapsed().as_secs_f64() * 1e3;
        Ok(convert::slates(
            &store,
            generation,
            req.category.as_deref(),
            w,
            millis,
        ))
    });
    state.check_latest(generation)?;
    let slates = slates.await?;
    state.check_latest(generation)?;
    Ok(slates)
}

/// Two runs' slates for the same history, side by side.
#[tauri::command]
pub async fn compare_runs(req: CompareRequest, state: State<'_, DemoState>) -> Answer<Comparison> {
    let store = state.store()?;
    blocking(move || {
        let c = store.compare(req.run_a, req.run_b, &req.history, req.k)?;
        Ok(Comparison {
            overlap: c
                .overlap
                .iter()
                .map(|&p| store.products[p].item.item_id.clone())
                .collect(),
            jaccard: c.jaccard,
            a: convert::slate(&store, "compare_a", "Run A", c.a),
            b: convert::slate(&store, "compare_b", "Run B", c.b),
        })
    })
    .await
}

/// The price side of a product page.
#[tauri::command]
pub async fn price_panel(req: PriceRequest, state: State<'_, DemoState>) -> Answer<PricePanel> {
    let store = state.store()?;
    blocking(move || {
        let quote = store.price(&req.item_id, req.user_id.as_deref(), &req.policy)?;
        Ok(convert::price(&store, quote))
    })
    .await
}
