//! 64-bit hashes of events' rows, for finding rows repeated exactly: gathered from DuckDB's
//! vectors as a scan computes them ([`Gathered`]: a scalar function of ours,
//! `shoplab_keep_hash`, that DuckDB's threads call with each chunk's hashes, where a result
//! of 10M hashes handed over through Arrow took longer than the scan), then spread over
//! [`Buckets`] that find the repeated values without sorting the whole array.
// DuckDB hands a scalar function its vectors as raw memory (read through duckdb's own
// accessors, within the rows it says it passed).
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use duckdb::Connection;
use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::vscalar::{ScalarFunctionSignature, VScalar};
use duckdb::vtab::arrow::WritableVector;

/// 64-bit row hashes, spread by their top bits over buckets small enough to search in the
/// processor's cache (a hash function's output is uniform, so the buckets are even), each
/// searched on its own thread: the values seen more than once come out without sorting the
/// whole array.
pub(crate) struct Buckets(Vec<Vec<u64>>);

impl Buckets {
    /// The top bits that choose a bucket: 256 buckets.
    const BITS: u32 = 8;

    fn new() -> Self {
        Buckets(vec![Vec::new(); 1 << Self::BITS])
    }

    fn extend(&mut self, hashes: &[u64]) {
        for &h in hashes {
            self.0[(h >> (64 - Self::BITS)) as usize].push(h);
        }
    }

    /// Both's hashes.
    fn merge(mut self, mut other: Buckets) -> Buckets {
        for (mine, theirs) in self.0.iter_mut().zip(&mut other.0) {
            if mine.len() < theirs.len() {
                std::mem::swap(mine, theirs);
            }
            mine.append(theirs);
        }
        self
    }

    /// The values seen more than once, each once, in order.
    pub(crate) fn repeated(self) -> Vec<u64> {
        use rayon::prelude::*;
        let mut seen: Vec<u64> = self
            .0
            .into_par_iter()
            .flat_map_iter(|bucket| repeated_in(&bucket))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen
    }
}

/// The values of one bucket seen more than once (a value seen n times, n - 1 times): an
/// open-addressing table twice the bucket's size, small enough for the processor's cache,
/// indexed by the low bits (the top ones chose the bucket). Faster than sorting the bucket.
fn repeated_in(bucket: &[u64]) -> Vec<u64> {
    // 0 marks a free slot; the value 0 itself is counted aside.
    let mut table = vec![0u64; (bucket.len() * 2).next_power_of_two().max(2)];
    let mask = table.len() - 1;
    let mut seen = Vec::new();
    let mut zero = false;
    for &h in bucket {
        if h == 0 {
            if zero {
                seen.push(0);
            }
            zero = true;
            continue;
        }
        let mut i = h as usize & mask;
        loop {
            match table[i] {
                0 => {
                    table[i] = h;
                    break;
                }
                v if v == h => {
                    seen.push(h);
                    break;
                }
                _ => i = (i + 1) & mask,
            }
        }
    }
    seen
}

/// The hashes of one [`Gathered`], spread over buckets as DuckDB passes them, in shards:
/// each thread DuckDB calls from takes a shard no other thread holds.
struct Shards(Vec<Mutex<Buckets>>);

impl Shards {
    fn new() -> Self {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Shards((0..n).map(|_| Mutex::new(Buckets::new())).collect())
    }

    fn extend(&self, hashes: &[u64]) {
        let free = self.0.iter().find_map(|shard| shard.try_lock().ok());
        let mut shard = free.unwrap_or_else(|| lock(&self.0[0]));
        shard.extend(hashes);
    }

    fn into_buckets(self) -> Buckets {
        self.0
            .into_iter()
            .map(|shard| shard.into_inner().unwrap_or_else(PoisonError::into_inner))
            .reduce(Buckets::merge)
            .unwrap_or_else(Buckets::new)
    }
}

/// The shards of the scans gathering now, by the token their query passes to
/// `shoplab_keep_hash` (several may run at once, in one workspace or in several).
static GATHERING: LazyLock<Mutex<HashMap<u64, Arc<Shards>>>> = LazyLock::new(Default::default);

/// Tokens, one per [`Gathered`].
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The function's name in SQL.
const KEEP_HASH: &str = "shoplab_keep_hash";

/// `shoplab_keep_hash(token UBIGINT, hash UBIGINT) -> UBIGINT`: keeps each row's hash for
/// the [`Gathered`] of `token` and returns it (volatile: a query never leaves it out or
/// computes it once for all rows).
struct KeepHash;

impl VScalar for KeepHash {
    type State = ();

    fn invoke(
        _: &(),
        input: &mut DataChunkHandle,
        output: &mut dyn WritableVector,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let len = input.len();
        if len == 0 {
            return Ok(());
        }
        // DuckDB flattens a C function's arguments; both are never NULL (a constant and
        // `hash()`).
        let (token, hashes) = (input.flat_vector(0), input.flat_vector(1));
        // SAFETY: the vectors hold `len` values of the signature's types.
        let (token, hashes) = unsafe {
            (
                token.as_slice_with_len::<u64>(len)[0],
                hashes.as_slice_with_len::<u64>(len),
            )
        };
        let mut out = output.flat_vector();
        // SAFETY: the output holds `len` UBIGINTs.
        unsafe { out.as_mut_slice_with_len::<u64>(len) }.copy_from_slice(hashes);
        let shards = lock(&GATHERING).get(&token).cloned();
        match shards {
            Some(shards) => {
                shards.extend(hashes);
                Ok(())
            }
            None => Err(format!("{KEEP_HASH}: no rows are being gathered for {token}").into()),
        }
    }

    fn signatures() -> Vec<ScalarFunctionSignature> {
        let t = |id| LogicalTypeHandle::from(id);
        vec![ScalarFunctionSignature::exact(
            vec![t(LogicalTypeId::UBigint), t(LogicalTypeId::UBigint)],
            t(LogicalTypeId::UBigint),
        )]
    }

    fn volatile() -> bool {
        true
    }
}

/// Makes `shoplab_keep_hash` known to the database `conn` is connected to (its system
/// catalog, shared by every connection to it); once per database.
pub(crate) fn register(conn: &Connection) -> duckdb::Result<()> {
    let known: i64 = conn.query_row(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?",
        [KEEP_HASH],
        |r| r.get(0),
    )?;
    if known == 0 {
        conn.register_scalar_function::<KeepHash>(KEEP_HASH)?;
    }
    Ok(())
}

/// The hashes of the rows one query passes through `shoplab_keep_hash`: the call to put in
/// the query is [`Gathered::call`]; [`Gathered::finish`] takes the hashes. Dropped
/// unfinished (the query failed), it lets them go.
pub(crate) struct Gathered {
    token: u64,
}

impl Gathered {
    pub(crate) fn start() -> Self {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        lock(&GATHERING).insert(token, Arc::new(Shards::new()));
        Gathered { token }
    }

    /// The SQL of the hash of `columns` (a comma-separated list), kept as it is computed.
    pub(crate) fn call(&self, columns: &str) -> String {
        format!(
            "{KEEP_HASH}(CAST({} AS UBIGINT), hash({columns}))",
            self.token
        )
    }

    /// The hashes gathered.
    pub(crate) fn finish(self) -> Buckets {
        let shards = lock(&GATHERING).remove(&self.token);
        // The query is over: DuckDB holds no other reference.
        shards
            .and_then(|s| Arc::try_unwrap(s).ok())
            .map_or_else(Buckets::new, Shards::into_buckets)
    }
}

impl Drop for Gathered {
    fn drop(&mut self) {
        lock(&GATHERING).remove(&self.token);
    }
}

#[cfg(test)]
mod tests {
    use super::{Buckets, Gathered, register};
    use proptest::prelude::*;

    proptest! {
        /// The buckets find exactly the values a whole sort finds repeated, wherever in the
        /// 64 bits the values differ (0, the table's free mark, included).
        #[test]
        fn buckets_find_the_repeated_values(
            small in proptest::collection::vec(0u64..50, 0..300),
            shift in 0u32..58,
        ) {
            let hashes: Vec<u64> = small.iter().map(|v| v << shift).collect();
            let mut buckets = Buckets::new();
            for part in hashes.chunks(7) {
                buckets.extend(part);
            }
            let mut sorted = hashes.clone();
            sorted.sort_unstable();
            let mut expected: Vec<u64> =
                sorted.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
            expected.dedup();
            prop_assert_eq!(buckets.repeated(), expected);
        }
    }

    /// Hashes gathered as DuckDB computes a query are those it returns, the function
    /// returns the hash it keeps, and two gatherings at once keep their own rows.
    #[test]
    fn gathered_hashes_are_the_rows_hashes() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        register(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE t AS SELECT i % 1000 AS a, CAST(i % 7 AS VARCHAR) AS b FROM range(50000) r(i)",
        )
        .unwrap();
        let (one, two) = (Gathered::start(), Gathered::start());
        let (rows, unchanged): (i64, i64) = conn
            .query_row(
                &format!(
                    "SELECT count({}), count(*) FILTER (WHERE {} = hash(b)) FROM t",
                    one.call("a, b"),
                    two.call("b")
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((rows, unchanged), (50_000, 50_000));
        let read_back = |sql: &str| {
            let mut stmt = conn.prepare(sql).unwrap();
            let mut buckets = Buckets::new();
            let hashes: Vec<u64> = stmt
                .query_map([], |r| r.get::<_, u64>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            buckets.extend(&hashes);
            buckets.repeated()
        };
        let (one, two) = (one.finish().repeated(), two.finish().repeated());
        // (i mod 1000, i mod 7) takes 7,000 values, each 7 or 8 times.
        assert_eq!(one.len(), 7000);
        assert_eq!(one, read_back("SELECT hash(a, b) FROM t"));
        assert_eq!(two.len(), 7);
        assert_eq!(two, read_back("SELECT hash(b) FROM t"));
    }
}
