//! # shoplab-spark — the workspace's steps on Apache Spark, through Spark Connect
//!
//! For logs that outgrow one machine: a data-parallel step runs on the team's cluster (any
//! Spark 4 server, reached at `sc://host:port`), and only its compact result comes back to
//! the desktop's workspace. The SQL is [`shoplab_data::dialect`]'s Spark side, written next
//! to the DuckDB query that computes the same figures locally.
//!
//! The client ([`spark_connect`]) is blocking: each call waits on its own runtime, so call
//! it from a plain thread, never from inside an async task.

mod import;
mod sessions;
mod split;

pub use import::Sample;

use shoplab_data::dialect::{self, Pair};
use shoplab_data::profile::{Profile, Quantiles, TypeCount};
use spark_connect::row::{Row, Value};
use spark_connect::{SparkError, SparkSession};

/// What can go wrong on the cluster.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("Spark Connect at {remote}: {source}")]
    Connect {
        remote: String,
        #[source]
        source: Box<SparkError>,
    },
    #[error("{what}: {source}")]
    Spark {
        what: String,
        #[source]
        source: Box<SparkError>,
    },
    #[error("{0}")]
    Data(String),
    /// The workspace refused what came back (or the sample).
    #[error(transparent)]
    Workspace(#[from] shoplab_data::DataError),
    #[error("cancelled")]
    Cancelled,
}

pub type Result<T> = std::result::Result<T, LakeError>;

/// The canonical event columns a lake's events need (what `shoplab export --lake` writes).
pub const EVENT_COLUMNS: [&str; 5] = ["event_time", "user_id", "item_id", "event_type", "value"];

/// The tag every operation of a [`Lake`] carries, for [`Canceller::cancel`].
const TAG: &str = "shoplab";

/// A shop's event log in a lake, read by a Spark Connect server as the relation `events`.
pub struct Lake {
    spark: SparkSession,
    remote: String,
    path: String,
}

/// Stops what a [`Lake`] is running on the cluster, from another thread.
#[derive(Clone)]
pub struct Canceller(SparkSession);

impl Canceller {
    pub fn cancel(&self) {
        // Nothing to stop, or the server gone: either way nothing runs any more.
        let _ = self.0.interrupt_tag(TAG);
    }
}

impl Lake {
    /// Connects to `remote` (`sc://host:port`), reading nothing yet (for an import).
    pub fn connect(remote: &str) -> Result<Self> {
        probe(remote)?;
        let spark = SparkSession::builder()
            .remote(remote)
            .get_or_create()
            .map_err(|source| LakeError::Connect {
                remote: remote.to_string(),
                source: Box::new(source),
            })?;
        spark.add_tag(TAG).map_err(|source| LakeError::Spark {
            what: "tagging the session".into(),
            source: Box::new(source),
        })?;
        Ok(Lake {
            spark,
            remote: remote.to_string(),
            path: String::new(),
        })
    }

    /// Connects to `remote` (`sc://host:port`) and reads the events at `path`: Parquet (a
    /// file, or a folder of them, hive-partitioned or not) or, for a path ending in `.csv`,
    /// CSV with a header. The path is the server's: on a cluster, a lake URI it can read.
    pub fn open(remote: &str, path: &str) -> Result<Self> {
        let mut lake = Lake::connect(remote)?;
        lake.path = path.to_string();
        let spark = &lake.spark;
        let reader = spark.read();
        let df = if path.to_ascii_lowercase().ends_with(".csv") {
            reader
                .option("header", "true")
                .option("inferSchema", "true")
                .csv(path)
        } else {
            reader.parquet(path)
        };
        let columns = df.columns().map_err(|source| LakeError::Spark {
            what: format!("reading {path}"),
            source: Box::new(source),
        })?;
        let missing: Vec<&str> = EVENT_COLUMNS
            .iter()
            .copied()
            .filter(|c| !columns.iter().any(|have| have == c))
            .collect();
        if !missing.is_empty() {
            return Err(LakeError::Data(format!(
                "{path}: no column {} (the events need {}; it has {})",
                missing.join(", "),
                EVENT_COLUMNS.join(", "),
                columns.join(", ")
            )));
        }
        // The workspace's types (a CSV's inferred numbers for ids become text); optional
        // columns a log may lack are NULL, as in the workspace.
        let typed = |c: &str| match c {
            "event_time" => None,
            "value" | "price" | "quantity" => Some("DOUBLE"),
            _ => Some("STRING"),
        };
        let select: Vec<String> = EVENT_COLUMNS
            .iter()
            .chain(&["session_id", "price", "quantity", "category"])
            .map(|c| {
                let present = columns.iter().any(|have| have == c);
                match (present, typed(c)) {
                    (true, None) => c.to_string(),
                    (true, Some(t)) => format!("CAST({c} AS {t}) AS {c}"),
                    (false, t) => format!("CAST(NULL AS {}) AS {c}", t.unwrap_or("TIMESTAMP")),
                }
            })
            .collect();
        df.create_or_replace_temp_view("lake_events")
            .map_err(|source| lake.failed("registering the events", source))?;
        lake.rows(
            "registering the events",
            &format!(
                "CREATE OR REPLACE TEMP VIEW events AS SELECT {} FROM lake_events",
                select.join(", ")
            ),
        )?;
        Ok(lake)
    }

    /// Where the lake is read, in words (what a stored profile records).
    pub fn origin(&self) -> String {
        format!("spark {} over {}", self.remote, self.path)
    }

    /// A handle that stops this lake's running query from another thread.
    pub fn canceller(&self) -> Canceller {
        Canceller(self.spark.clone())
    }

    fn failed(&self, what: &str, source: SparkError) -> LakeError {
        let cancelled = source
            .get_error_class()
            .is_some_and(|c| c == "OPERATION_CANCELED")
            || source.get_sql_state().is_some_and(|s| s == "HY008");
        if cancelled {
            LakeError::Cancelled
        } else {
            LakeError::Spark {
                what: what.to_string(),
                source: Box::new(source),
            }
        }
    }

    /// The rows of a query.
    fn rows(&self, name: &str, sql: &str) -> Result<Vec<Row>> {
        let df = self.spark.sql(sql).map_err(|e| self.failed(name, e))?;
        df.collect().map_err(|e| self.failed(name, e))
    }

    /// The one row of a pair's Spark query.
    fn row(&self, q: &Pair) -> Result<Row> {
        self.rows(q.name, q.spark)?
            .into_iter()
            .next()
            .ok_or_else(|| LakeError::Data(format!("{}: no row", q.name)))
    }

    /// The event log's profile computed on the cluster, step by step (`step` hears each
    /// step's name before it runs): counts, time range, by type, the funnel, events per user
    /// and per item, revenue. The catalog's and the value checks' figures are the local
    /// workspace's to add; [`Profile::computed_on`] says where these came from.
    pub fn profile(&self, step: &mut dyn FnMut(&str)) -> Result<Profile> {
        step(dialect::TOTALS.name);
        let t = self.row(&dialect::TOTALS)?;
        let events = long(&t, 0)?;
        let (users, items) = (long(&t, 1)?, long(&t, 2)?);
        step(dialect::BY_TYPE.name);
        let by_type = self
            .rows(dialect::BY_TYPE.name, dialect::BY_TYPE.spark)?
            .iter()
            .map(|r| {
                Ok(TypeCount {
                    event_type: text(r, 0)?.unwrap_or_default(),
                    events: long(r, 1)?,
                    users: long(r, 2)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        step(dialect::FUNNEL.name);
        let f = self.row(&dialect::FUNNEL)?;
        let pairs = long(&f, 0)?;
        let mut counts = [0u64; 6];
        for (k, c) in counts.iter_mut().enumerate() {
            *c = long(&f, k + 1)?;
        }
        let funnel = shoplab_data::profile::Funnel::of(counts);
        let mut per = Vec::new();
        for key in dialect::PER {
            step(&format!("events per {key}"));
            let (_, sql) = dialect::events_per(key);
            let r = self
                .rows(key, &sql)?
                .into_iter()
                .next()
                .ok_or_else(|| LakeError::Data(format!("events per {key}: no row")))?;
            per.push(quantiles(&r)?);
        }
        step(dialect::REVENUE.name);
        let money = self.row(&dialect::REVENUE)?;
        let events_per_item = per.pop().flatten();
        let events_per_user = per.pop().flatten();
        Ok(Profile {
            events,
            users,
            items,
            catalog_items: 0,
            sessions: long(&t, 3)?,
            bandit_rows: 0,
            first_event: text(&t, 4)?,
            last_event: text(&t, 5)?,
            days: double(&t, 6)?.unwrap_or(0.0),
            by_type,
            funnel,
            sparsity: shoplab_data::profile::sparsity(pairs, users, items),
            events_per_user,
            events_per_item,
            rating_mean: double(&t, 7)?,
            duplicate_events: 0,
            price_by_category: Vec::new(),
            revenue: double(&money, 0)?.unwrap_or(0.0),
            refunded: double(&money, 1)?.unwrap_or(0.0),
            checks: Default::default(),
            findings: Vec::new(),
            computed_on: Some(self.origin()),
        })
    }
}

fn value(r: &Row, k: usize) -> Result<&Value> {
    r.get(k)
        .ok_or_else(|| LakeError::Data(format!("column {k} missing from a result row")))
}

/// Whether anything listens at `remote`'s host and port, within 5 s: the client retries a
/// refused connection for minutes, where a wrong address should be said at once.
fn probe(remote: &str) -> Result<()> {
    use std::net::{TcpStream, ToSocketAddrs};
    let refused =
        |why: String| LakeError::Data(format!("no Spark Connect server at {remote}: {why}"));
    let rest = remote
        .strip_prefix("sc://")
        .ok_or_else(|| refused("the endpoint is written sc://host:port".into()))?;
    let authority = rest.split(['/', ';']).next().unwrap_or_default();
    let address = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:15002")
    };
    let addrs: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| refused(e.to_string()))?
        .collect();
    let timeout = std::time::Duration::from_secs(5);
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(refused(last.map_or("no address".into(), |e| e.to_string())))
}

/// A count (a whole number).
fn long(r: &Row, k: usize) -> Result<u64> {
    let v = value(r, k)?;
    v.as_i64()
        .map(|n| n.max(0) as u64)
        .ok_or_else(|| LakeError::Data(format!("column {k}: a count expected, got {v:?}")))
}

/// A number or NULL.
fn double(r: &Row, k: usize) -> Result<Option<f64>> {
    let v = value(r, k)?;
    if v.is_null() {
        return Ok(None);
    }
    match v {
        Value::Decimal { value, .. } => value
            .parse()
            .map(Some)
            .map_err(|_| LakeError::Data(format!("column {k}: a number expected, got {value}"))),
        other => other
            .as_f64()
            .or_else(|| other.as_i64().map(|n| n as f64))
            .map(Some)
            .ok_or_else(|| {
                LakeError::Data(format!("column {k}: a number expected, got {other:?}"))
            }),
    }
}

/// Text or NULL.
fn text(r: &Row, k: usize) -> Result<Option<String>> {
    let v = value(r, k)?;
    if v.is_null() {
        return Ok(None);
    }
    v.as_str()
        .map(|s| Some(s.to_string()))
        .ok_or_else(|| LakeError::Data(format!("column {k}: text expected, got {v:?}")))
}

/// [`dialect::events_per`]'s row as quantiles (`None` without events).
fn quantiles(r: &Row) -> Result<Option<Quantiles>> {
    let Some(min) = double(r, 0)? else {
        return Ok(None);
    };
    let at = |k| double(r, k).map(Option::unwrap_or_default);
    Ok(Some(Quantiles {
        min,
        p25: at(1)?,
        p50: at(2)?,
        p75: at(3)?,
        p90: at(4)?,
        p99: at(5)?,
        max: at(6)?,
        mean: at(7)?,
    }))
}
