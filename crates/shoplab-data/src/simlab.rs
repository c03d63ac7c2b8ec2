//! The simulation lab's tables: stored what-if simulations (`sims`, `sim_metrics`,
//! `sim_categories`), stored
//! calibrations (`calibrations`, `calibration_categories`, `calibration_items`), and the
//! sessions of views and purchases a calibration is fitted to. Plain rows only: the
//! simulator's types are the engine's to convert.

use duckdb::{OptionalExt, params};

use crate::error::Result;
use crate::workspace::Workspace;

/// A simulation's row of `sims` (its id and time stamp are given when it is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct SimRow<'a> {
    pub name: &'a str,
    /// The scenario's TOML text.
    pub scenario: &'a str,
    pub seeds: i64,
    pub days: u32,
    /// Wall time of the run.
    pub seconds: f64,
}

/// One value of `sim_metrics`: a policy's metric on one day of one replicate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimMetricRow<'a> {
    pub policy: &'a str,
    pub replicate: i64,
    pub day: i64,
    pub metric: &'a str,
    pub value: f64,
}

/// One row of `sim_categories`: a policy's totals over one replicate in one category.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCategoryRow {
    pub policy: String,
    pub replicate: i64,
    pub category: String,
    pub sessions: i64,
    pub impressions: i64,
    pub purchases: i64,
    pub revenue: f64,
    pub margin: f64,
}

/// Stores a simulation as the next `sim_id`, its row of `sims`, its `metrics` and its
/// totals by category, in one transaction; returns its id.
pub fn store_simulation<'a>(
    ws: &Workspace,
    sim: &SimRow<'_>,
    metrics: impl IntoIterator<Item = SimMetricRow<'a>>,
    categories: &[SimCategoryRow],
) -> Result<i64> {
    ws.transaction(|conn| {
        let id: i64 = conn.query_row("SELECT coalesce(max(sim_id), 0) + 1 FROM sims", [], |r| {
            r.get(0)
        })?;
        conn.execute(
            "INSERT INTO sims VALUES (?, ?, ?, ?, ?, ?, CAST(now() AS TIMESTAMP))",
            params![id, sim.name, sim.scenario, sim.seeds, sim.days, sim.seconds],
        )?;
        let mut app = conn.appender("sim_metrics")?;
        for m in metrics {
            app.append_row(params![id, m.policy, m.replicate, m.day, m.metric, m.value])?;
        }
        app.flush()?;
        let mut app = conn.appender("sim_categories")?;
        for c in categories {
            app.append_row(params![
                id,
                c.policy,
                c.replicate,
                c.category,
                c.sessions,
                c.impressions,
                c.purchases,
                c.revenue,
                c.margin
            ])?;
        }
        app.flush()?;
        Ok(id)
    })
}

/// A calibration's row of `calibrations` (its time stamp is given when it is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationRow {
    pub calibration_id: i64,
    /// The trained run whose vectors gave the affinities.
    pub run_id: Option<i64>,
    /// The fit report, as JSON.
    pub report: String,
    /// The whole environment, as JSON (what a scenario's `world.calibration` loads).
    pub environment: String,
}

/// A category's fit, a row of `calibration_categories`.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationCategoryRow {
    pub category: String,
    pub elasticity: f64,
    pub elasticity_raw: f64,
    /// `None` when the standard error is not finite.
    pub elasticity_se: Option<f64>,
    pub views: i64,
    pub purchases: i64,
    pub price_sd: f64,
    pub session_share: f64,
}

/// An item's fit, a row of `calibration_items`.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationItemRow {
    pub item_id: String,
    pub category: String,
    pub reference_price: f64,
    pub list_price: f64,
    pub cost: f64,
    pub appeal: f64,
    pub views: i64,
    pub purchases: i64,
}

/// The id the next stored calibration gets.
pub fn next_calibration_id(ws: &Workspace) -> Result<i64> {
    Ok(ws.connection().query_row(
        "SELECT coalesce(max(calibration_id), 0) + 1 FROM calibrations",
        [],
        |r| r.get(0),
    )?)
}

/// Stores a calibration, its categories and its items, in one transaction.
pub fn store_calibration(
    ws: &Workspace,
    cal: &CalibrationRow,
    categories: &[CalibrationCategoryRow],
    items: &[CalibrationItemRow],
) -> Result<()> {
    let id = cal.calibration_id;
    ws.transaction(|conn| {
        conn.execute(
            "INSERT INTO calibrations VALUES (?, CAST(now() AS TIMESTAMP), ?, ?, ?)",
            params![id, cal.run_id, cal.report, cal.environment],
        )?;
        let mut app = conn.appender("calibration_categories")?;
        for c in categories {
            app.append_row(params![
                id,
                c.category,
                c.elasticity,
                c.elasticity_raw,
                c.elasticity_se,
                c.views,
                c.purchases,
                c.price_sd,
                c.session_share
            ])?;
        }
        app.flush()?;
        drop(app);
        let mut app = conn.appender("calibration_items")?;
        for i in items {
            app.append_row(params![
                id,
                i.item_id,
                i.category,
                i.reference_price,
                i.list_price,
                i.cost,
                i.appeal,
                i.views,
                i.purchases
            ])?;
        }
        app.flush()
    })
}

/// The fit report (JSON) of a stored calibration; `None` when there is no such calibration.
pub fn calibration_report(ws: &Workspace, calibration_id: i64) -> Result<Option<String>> {
    Ok(ws
        .connection()
        .query_row(
            "SELECT report FROM calibrations WHERE calibration_id = ?",
            [calibration_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// The environment (JSON) of a stored calibration; `None` when there is no such calibration.
pub fn calibration_environment(ws: &Workspace, calibration_id: i64) -> Result<Option<String>> {
    Ok(ws
        .connection()
        .query_row(
            "SELECT environment FROM calibrations WHERE calibration_id = ?",
            [calibration_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// One item shown in one session of the choice log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRow {
    pub session: String,
    pub user_id: String,
    /// Days since the log's first day.
    pub day: i32,
    /// The weekday of the log's first day, 0 for Monday.
    pub first_weekday: i32,
    pub item_id: String,
    /// The session's median view price of the item, else its purchase price, else its
    /// list price.
    pub price: f64,
    pub bought: bool,
    /// The item's category (`items`, else its events'; empty when neither has one).
    pub category: String,
    pub list_price: Option<f64>,
    pub cost: Option<f64>,
}

/// One (session, item) of the calibration's sessions as [`crate::dialect::choice_sessions`]
/// computes them (here or on a cluster), before the catalog is joined.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceSession {
    pub session: String,
    pub user_id: String,
    pub day: i32,
    pub first_weekday: i32,
    pub item_id: String,
    pub view_price: Option<f64>,
    pub buy_price: Option<f64>,
    pub bought: bool,
    /// The item's category in the events.
    pub category: Option<String>,
}

/// The temp table the sessions are staged in before the catalog is joined.
const CHOICE_SRC: &str = "_shoplab_choice_src";

/// The workspace's sessions of views and purchases (a session is `session_id`, else the
/// user's day), each item once per session with a positive price; in session and item order.
pub fn choice_rows(ws: &Workspace) -> Result<Vec<ChoiceRow>> {
    let (sql, _) = crate::dialect::choice_sessions();
    ws.connection().execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.{CHOICE_SRC}; CREATE TEMP TABLE {CHOICE_SRC} AS {sql}"
    ))?;
    with_catalog(ws)
}

/// [`choice_rows`] from sessions computed elsewhere (a cluster), the workspace's catalog
/// joined here.
pub fn choice_rows_from(ws: &Workspace, sessions: &[ChoiceSession]) -> Result<Vec<ChoiceRow>> {
    let c = ws.connection();
    c.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.{CHOICE_SRC};
         CREATE TEMP TABLE {CHOICE_SRC} (session VARCHAR, user_id VARCHAR, day INTEGER,
             first_weekday INTEGER, item_id VARCHAR, view_price DOUBLE, buy_price DOUBLE,
             bought BOOLEAN, category VARCHAR)"
    ))?;
    {
        let mut app = c.appender(CHOICE_SRC)?;
        for s in sessions {
            app.append_row(params![
                s.session,
                s.user_id,
                s.day,
                s.first_weekday,
                s.item_id,
                s.view_price,
                s.buy_price,
                s.bought,
                s.category
            ])?;
        }
        app.flush()?;
    }
    with_catalog(ws)
}

/// The staged sessions with the catalog's list price, cost and category.
fn with_catalog(ws: &Workspace) -> Result<Vec<ChoiceRow>> {
    let sql = format!(
        "SELECT v.session, v.user_id, v.day, v.first_weekday, v.item_id,
                coalesce(v.view_price, v.buy_price, i.price), v.bought,
                coalesce(i.category, v.category, ''), i.price, i.cost
         FROM {CHOICE_SRC} v LEFT JOIN items i USING (item_id)
         WHERE coalesce(v.view_price, v.buy_price, i.price) > 0
         ORDER BY v.session, v.item_id"
    );
    let conn = ws.connection();
    let rows = (|| -> Result<Vec<ChoiceRow>> {
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ChoiceRow {
                    session: r.get(0)?,
                    user_id: r.get(1)?,
                    day: r.get(2)?,
                    first_weekday: r.get(3)?,
                    item_id: r.get(4)?,
                    price: r.get(5)?,
                    bought: r.get(6)?,
                    category: r.get(7)?,
                    list_price: r.get(8)?,
                    cost: r.get(9)?,
                })
            })
            .and_then(|rows| rows.collect())?;
        Ok(rows)
    })();
    let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{CHOICE_SRC}"));
    rows
}

/// A stored calibration's categories, by category code.
pub fn calibration_categories(
    ws: &Workspace,
    calibration_id: i64,
) -> Result<Vec<CalibrationCategoryRow>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT category, elasticity, elasticity_raw, elasticity_se, views, purchases, price_sd,
                session_share
         FROM calibration_categories WHERE calibration_id = ? ORDER BY category",
    )?;
    let rows = stmt.query_map([calibration_id], |r| {
        Ok(CalibrationCategoryRow {
            category: r.get(0)?,
            elasticity: r.get(1)?,
            elasticity_raw: r.get(2)?,
            elasticity_se: r.get(3)?,
            views: r.get(4)?,
            purchases: r.get(5)?,
            price_sd: r.get(6)?,
            session_share: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// A stored calibration's items (all of them, or those of `category`), by item id.
pub fn calibration_items(
    ws: &Workspace,
    calibration_id: i64,
    category: Option<&str>,
) -> Result<Vec<CalibrationItemRow>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT item_id, category, reference_price, list_price, cost, appeal, views, purchases
         FROM calibration_items
         WHERE calibration_id = ? AND (CAST(? AS VARCHAR) IS NULL OR category = ?)
         ORDER BY item_id",
    )?;
    let rows = stmt.query_map(params![calibration_id, category, category], |r| {
        Ok(CalibrationItemRow {
            item_id: r.get(0)?,
            category: r.get(1)?,
            reference_price: r.get(2)?,
            list_price: r.get(3)?,
            cost: r.get(4)?,
            appeal: r.get(5)?,
            views: r.get(6)?,
            purchases: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The prices viewed in the log, as multiples of a calibration's list price, per item or
/// per category.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenPrices {
    /// The item id or the category code.
    pub key: String,
    pub views: i64,
    pub min: f64,
    pub max: f64,
    /// The 5th and 95th percentiles.
    pub p05: f64,
    pub p95: f64,
}

/// The positive view prices of calibration `calibration_id`'s items, divided by each item's
/// list price: per item (`by_category` false) or per category.
pub fn seen_prices(
    ws: &Workspace,
    calibration_id: i64,
    by_category: bool,
) -> Result<Vec<SeenPrices>> {
    let key = if by_category {
        "c.category"
    } else {
        "c.item_id"
    };
    let sql = format!(
        "SELECT {key}, count(*), min(e.price / c.list_price), max(e.price / c.list_price),
                quantile_cont(e.price / c.list_price, 0.05),
                quantile_cont(e.price / c.list_price, 0.95)
         FROM events e JOIN calibration_items c USING (item_id)
         WHERE c.calibration_id = ? AND e.event_type = 'view' AND e.price > 0
               AND c.list_price > 0
         GROUP BY {key} ORDER BY {key}"
    );
    let conn = ws.connection();
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([calibration_id], |r| {
        Ok(SeenPrices {
            key: r.get(0)?,
            views: r.get(1)?,
            min: r.get(2)?,
            max: r.get(3)?,
            p05: r.get(4)?,
            p95: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// A stored simulation, as listed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredSim {
    pub sim_id: i64,
    pub name: String,
    pub seeds: i64,
    pub days: i64,
    pub seconds: f64,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub created_at: String,
    /// Its policies, in the order they were stored.
    pub policies: Vec<String>,
}

/// The stored simulations, newest first.
pub fn simulations(ws: &Workspace) -> Result<Vec<StoredSim>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT s.sim_id, s.name, s.seeds, s.days, s.seconds,
                strftime(s.created_at, '%Y-%m-%d %H:%M:%S'),
                coalesce((SELECT list(policy ORDER BY first) FROM
                    (SELECT policy, min(rowid) AS first FROM sim_metrics m
                     WHERE m.sim_id = s.sim_id GROUP BY policy)), [])
         FROM sims s ORDER BY s.sim_id DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        let policies: duckdb::types::Value = r.get(6)?;
        Ok(StoredSim {
            sim_id: r.get(0)?,
            name: r.get(1)?,
            seeds: r.get(2)?,
            days: r.get(3)?,
            seconds: r.get(4)?,
            created_at: r.get(5)?,
            policies: match policies {
                duckdb::types::Value::List(v) => v
                    .into_iter()
                    .filter_map(|x| match x {
                        duckdb::types::Value::Text(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// A stored simulation's name and scenario text; `None` when there is no such simulation.
pub fn simulation_scenario(ws: &Workspace, sim_id: i64) -> Result<Option<(String, String)>> {
    Ok(ws
        .connection()
        .query_row(
            "SELECT name, scenario FROM sims WHERE sim_id = ?",
            [sim_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// A stored value of a simulation, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SimValue {
    pub policy: String,
    pub replicate: i64,
    pub day: i64,
    pub metric: String,
    pub value: f64,
}

/// Every stored value of a simulation, in policy order of storage, then replicate and day.
pub fn simulation_metrics(ws: &Workspace, sim_id: i64) -> Result<Vec<SimValue>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT policy, replicate, day, metric, value FROM sim_metrics WHERE sim_id = ?
         ORDER BY min(rowid) OVER (PARTITION BY policy), replicate, day",
    )?;
    let rows = stmt.query_map([sim_id], |r| {
        Ok(SimValue {
            policy: r.get(0)?,
            replicate: r.get(1)?,
            day: r.get(2)?,
            metric: r.get(3)?,
            value: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// A simulation's totals by category, in policy order of storage, then replicate and the
/// categories' order of storage (empty for simulations stored before categories were).
pub fn simulation_categories(ws: &Workspace, sim_id: i64) -> Result<Vec<SimCategoryRow>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT policy, replicate, category, sessions, impressions, purchases, revenue, margin
         FROM sim_categories WHERE sim_id = ?
         ORDER BY min(rowid) OVER (PARTITION BY policy), replicate, rowid",
    )?;
    let rows = stmt.query_map([sim_id], |r| {
        Ok(SimCategoryRow {
            policy: r.get(0)?,
            replicate: r.get(1)?,
            category: r.get(2)?,
            sessions: r.get(3)?,
            impressions: r.get(4)?,
            purchases: r.get(5)?,
            revenue: r.get(6)?,
            margin: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
