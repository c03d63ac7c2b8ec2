//! Data-layer tests on real public datasets (fetched by `datasets/fetch.sh`) and on bad input.

mod bad_input;
mod mapping_props;
mod real_data;
mod splits;

use std::path::PathBuf;

use shoplab_data::Workspace;

/// The dataset cache (`datasets/fetch.sh` fills it).
pub fn dataset(rel: &str) -> PathBuf {
    shoplab_data::datasets::path(rel).unwrap()
}

pub fn scalar(ws: &Workspace, sql: &str) -> i64 {
    ws.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

pub fn fscalar(ws: &Workspace, sql: &str) -> f64 {
    ws.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}
