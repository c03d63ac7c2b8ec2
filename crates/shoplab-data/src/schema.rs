//! The workspace schema. Migrations are append-only: each step runs once, in order,
//! and the applied version is kept in `shoplab_meta`.

/// Canonical event types, in funnel order (shown, clicked, viewed, kept, bought, then
/// what follows a purchase): a user's events of one second are read in this order.
/// Exports map their own names onto these.
pub const EVENT_TYPES: &[&str] = &[
    "impression",
    "click",
    "view",
    "favorite",
    "cart",
    "remove_from_cart",
    "purchase",
    "rating",
    "refund",
];

/// The session of an `events` row, as SQL: its `session_id`, else the user's day (exports
/// without sessions). Conversion runs and calibration group views and purchases by it.
pub const SESSION_KEY: &str =
    "coalesce(session_id, user_id || ':' || CAST(CAST(event_time AS DATE) AS VARCHAR))";

pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE IF NOT EXISTS imports(
    import_id INTEGER PRIMARY KEY,
    file VARCHAR NOT NULL,
    file_hash VARCHAR NOT NULL,
    file_bytes BIGINT NOT NULL,
    format VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    mapping VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    pseudonymized BOOLEAN NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS import_rejects(
    import_id INTEGER NOT NULL,
    line BIGINT,
    column_name VARCHAR,
    reason VARCHAR NOT NULL,
    raw VARCHAR
);
CREATE TABLE IF NOT EXISTS events(
    event_time TIMESTAMP NOT NULL,
    user_id VARCHAR NOT NULL,
    item_id VARCHAR,
    event_type VARCHAR NOT NULL,
    session_id VARCHAR,
    price DOUBLE,
    quantity DOUBLE,
    value DOUBLE,
    import_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS items(
    item_id VARCHAR PRIMARY KEY,
    title VARCHAR,
    description VARCHAR,
    category VARCHAR,
    brand VARCHAR,
    price DOUBLE,
    cost DOUBLE,
    attrs VARCHAR,
    import_id INTEGER
);
CREATE TABLE IF NOT EXISTS users(
    user_id VARCHAR PRIMARY KEY,
    attrs VARCHAR,
    import_id INTEGER
);
CREATE TABLE IF NOT EXISTS bandit_log(
    ts TIMESTAMP NOT NULL,
    user_id VARCHAR,
    action VARCHAR NOT NULL,
    position INTEGER,
    reward DOUBLE NOT NULL,
    propensity DOUBLE NOT NULL,
    policy VARCHAR,
    campaign VARCHAR,
    context VARCHAR,
    import_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS profiles(
    profile_id INTEGER PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    report VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS splits(
    name VARCHAR PRIMARY KEY,
    strategy VARCHAR NOT NULL,
    params VARCHAR NOT NULL,
    seed BIGINT,
    n_train BIGINT NOT NULL,
    n_valid BIGINT NOT NULL,
    n_test BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS split_interactions(
    split VARCHAR NOT NULL,
    part VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    value DOUBLE,
    event_time TIMESTAMP
);
"#,
    // 2: the item's category and brand as the event log had them, for category-level
    // analysis without a join, and to derive items without reading the file twice.
    r#"
ALTER TABLE events ADD COLUMN IF NOT EXISTS category VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS brand VARCHAR;
"#,
    // 3: the run registry of the model lab. A run's tensors live in its `artifacts` folder
    // (next to the workspace); everything needed to compare runs is in these tables.
    r#"
CREATE TABLE IF NOT EXISTS runs(
    run_id INTEGER PRIMARY KEY,
    split VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    params VARCHAR NOT NULL,
    device VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    message VARCHAR,
    epochs_done INTEGER NOT NULL,
    seconds DOUBLE NOT NULL,
    artifacts VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS run_epochs(
    run_id INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    loss DOUBLE,
    metric VARCHAR,
    value DOUBLE,
    seconds DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS run_metrics(
    run_id INTEGER NOT NULL,
    part VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    value DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS run_user_metrics(
    run_id INTEGER NOT NULL,
    part VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    value DOUBLE NOT NULL
);
"#,
    r#"
CREATE TABLE IF NOT EXISTS sims(
    sim_id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    scenario VARCHAR NOT NULL,
    seeds INTEGER NOT NULL,
    days INTEGER NOT NULL,
    seconds DOUBLE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS sim_metrics(
    sim_id INTEGER NOT NULL,
    policy VARCHAR NOT NULL,
    replicate INTEGER NOT NULL,
    day INTEGER NOT NULL,
    metric VARCHAR NOT NULL,
    value DOUBLE NOT NULL
);
"#,
    // 5: the simulation environment fitted to the workspace's own sessions (`calibrate`):
    // the whole environment as JSON (what a scenario's `world.calibration` loads), and its
    // categories and items as tables, for notebooks.
    r#"
CREATE TABLE IF NOT EXISTS calibrations(
    calibration_id INTEGER PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    run_id INTEGER,
    report VARCHAR NOT NULL,
    environment VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS calibration_categories(
    calibration_id INTEGER NOT NULL,
    category VARCHAR NOT NULL,
    elasticity DOUBLE NOT NULL,
    elasticity_raw DOUBLE NOT NULL,
    elasticity_se DOUBLE,
    views BIGINT NOT NULL,
    purchases BIGINT NOT NULL,
    price_sd DOUBLE NOT NULL,
    session_share DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS calibration_items(
    calibration_id INTEGER NOT NULL,
    item_id VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    reference_price DOUBLE NOT NULL,
    list_price DOUBLE NOT NULL,
    cost DOUBLE NOT NULL,
    appeal DOUBLE NOT NULL,
    views BIGINT NOT NULL,
    purchases BIGINT NOT NULL
);
"#,
    // 6: text embeddings of items by an encoder (`shoplab embed --items`), one row per model
    // and item; the text they were made from is kept to tell when it changed.
    r#"
CREATE TABLE IF NOT EXISTS item_embeddings(
    model VARCHAR NOT NULL,
    item_id VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    vector FLOAT[] NOT NULL,
    created_at TIMESTAMP NOT NULL
);
"#,
    // 7: product reviews (`import --kind reviews`): the text fine-tuned encoders learn from.
    r#"
CREATE TABLE IF NOT EXISTS reviews(
    review_id BIGINT NOT NULL,
    item_id VARCHAR NOT NULL,
    user_id VARCHAR,
    review_time TIMESTAMP,
    rating DOUBLE,
    recommended DOUBLE,
    title VARCHAR,
    text VARCHAR NOT NULL,
    helpful DOUBLE,
    attrs VARCHAR,
    import_id INTEGER NOT NULL
);
"#,
    // 8: rows without a user (guest checkouts, anonymous sessions) are kept, not rejected;
    // each import counts its refunds, guest rows and suspicious values (`quality`).
    r#"
ALTER TABLE events ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_refund BIGINT;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_guest BIGINT;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_zero_price BIGINT;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_far_time BIGINT;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_repeated BIGINT;
"#,
    // 9: a researcher's tags and note on a run (`shoplab tag`), for filtering and grouping.
    r#"
ALTER TABLE runs ADD COLUMN IF NOT EXISTS tags VARCHAR[];
ALTER TABLE runs ADD COLUMN IF NOT EXISTS note VARCHAR;
"#,
    // 10: a simulation's results by category: each policy's totals over the horizon per
    // replicate and category (the price rules and promos act per category).
    r#"
CREATE TABLE IF NOT EXISTS sim_categories(
    sim_id INTEGER NOT NULL,
    policy VARCHAR NOT NULL,
    replicate INTEGER NOT NULL,
    category VARCHAR NOT NULL,
    sessions BIGINT NOT NULL,
    impressions BIGINT NOT NULL,
    purchases BIGINT NOT NULL,
    revenue DOUBLE NOT NULL,
    margin DOUBLE NOT NULL
);
"#,
    // 11: where a split or an import was computed when not in the workspace (a Spark cluster).
    r#"
ALTER TABLE splits ADD COLUMN IF NOT EXISTS computed_on VARCHAR;
ALTER TABLE imports ADD COLUMN IF NOT EXISTS computed_on VARCHAR;
"#,
];

/// Tables a user sees in the workspace, in display order.
pub const TABLES: &[&str] = &[
    "events",
    "items",
    "users",
    "bandit_log",
    "reviews",
    "imports",
    "import_rejects",
    "profiles",
    "splits",
    "split_interactions",
    "runs",
    "run_epochs",
    "run_metrics",
    "run_user_metrics",
    "sims",
    "sim_metrics",
    "sim_categories",
    "calibrations",
    "calibration_categories",
    "calibration_items",
    "item_embeddings",
];
