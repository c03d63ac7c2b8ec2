//! DuckDB results as Polars DataFrames, through the Arrow C data interface (no row-by-row copy).
#![allow(unsafe_code)]

use duckdb::arrow::array::{Array, RecordBatch, StructArray};
use duckdb::arrow::ffi::to_ffi;
use polars::prelude::DataFrame;

use crate::error::{DataError, Result};
use crate::workspace::Workspace;

impl Workspace {
    /// Runs `sql` and returns the result as one Polars DataFrame.
    pub fn query_frame(&self, sql: &str) -> Result<DataFrame> {
        let mut stmt = self.connection().prepare(sql)?;
        let arrow = stmt.query_arrow([])?;
        let schema = arrow.get_schema();
        let batches: Vec<RecordBatch> = arrow.collect();
        if batches.is_empty() {
            return batch_to_frame(RecordBatch::new_empty(schema));
        }
        let mut frame: Option<DataFrame> = None;
        for batch in batches {
            let df = batch_to_frame(batch)?;
            match &mut frame {
                None => frame = Some(df),
                Some(f) => {
                    f.vstack_mut(&df)?;
                }
            }
        }
        let mut frame = frame.expect("at least one batch");
        frame.rechunk_mut();
        Ok(frame)
    }
}

/// One Arrow record batch (arrow-rs, as DuckDB gives it) as a Polars DataFrame.
pub fn batch_to_frame(batch: RecordBatch) -> Result<DataFrame> {
    let data = StructArray::from(batch).to_data();
    let (array, schema) =
        to_ffi(&data).map_err(|e| DataError::Split(format!("arrow export: {e}")))?;
    // SAFETY: arrow-rs' FFI_ArrowArray / FFI_ArrowSchema and polars-arrow's ArrowArray /
    // ArrowSchema are both the `#[repr(C)]` structs of the Arrow C data interface; ownership
    // (and the release callback) moves with the value.
    let array: polars_arrow::ffi::ArrowArray = unsafe { std::mem::transmute(array) };
    let schema: polars_arrow::ffi::ArrowSchema = unsafe { std::mem::transmute(schema) };
    // SAFETY: the schema and array were just exported by arrow-rs and describe each other.
    let field = unsafe { polars_arrow::ffi::import_field_from_c(&schema) }?;
    let imported = unsafe { polars_arrow::ffi::import_array_from_c(array, field.dtype.clone()) }?;
    let structs = imported
        .as_any()
        .downcast_ref::<polars_arrow::array::StructArray>()
        .ok_or_else(|| DataError::Split("arrow import: not a struct array".into()))?
        .clone();
    Ok(DataFrame::try_from(structs)?)
}
