//! One interaction as splits and split files hold it: the row type shared by the split
//! builder and the import's staging reader (a lower layer than both).

use crate::error::Result;

/// One interaction: user, item, value (rating), time in µs since the epoch.
pub(crate) struct Row {
    pub(crate) user: String,
    pub(crate) item: String,
    pub(crate) value: Option<f64>,
    pub(crate) time: Option<i64>,
}

impl Row {
    /// Rows of a query selecting user, item, value, time (µs since the epoch), in that order.
    pub(crate) fn read_all(stmt: &mut duckdb::Statement<'_>) -> Result<Vec<Row>> {
        Ok(stmt
            .query_map([], |r| {
                Ok(Row {
                    user: r.get(0)?,
                    item: r.get(1)?,
                    value: r.get(2)?,
                    time: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?)
    }
}
