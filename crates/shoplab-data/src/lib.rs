//! ShopLab's data layer: the DuckDB workspace file, import of common e-commerce exports
//! (format recognized, atomic, idempotent, honest about rejects), the profile, and splits
//! readable as Polars DataFrames.
//!
//! Everything here is UI-free; front-ends reach it through `shoplab-engine`.

/// Every ShopLab program, and every test of a crate above this one, allocates with mimalloc,
/// and so does the DuckDB inside it: the `override` feature replaces `malloc` and `free`
/// themselves. Under glibc's allocator, DuckDB's 64 MiB CSV read buffers and candle's
/// tensors came back from the kernel as fresh, zeroed pages on every allocation (glibc maps
/// blocks over 32 MiB on their own and gives them back on `free`, and DuckDB's idle threads
/// call `malloc_trim`), where stock DuckDB's jemalloc reuses them. Measured on 2 cores
/// (bench/README.md, "Import"): the import of the 10M-row CSV 6.05 → 5.6 s, NeuMF on
/// MovieLens-100K 84 → 64 s, fine-tuning unchanged.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod canonical;
pub mod catalog;
pub mod datasets;
pub mod dialect;
pub mod error;
mod formats;
pub mod frame;
pub mod import;
mod interaction;
pub mod lake;
pub mod mapping;
pub mod profile;
pub mod quality;
mod row_hashes;
pub mod schema;
pub mod simlab;
pub mod source;
pub mod split;
pub mod store;
mod timestamps;
pub mod workspace;

pub use error::{DataError, Result};
pub use import::{ImportOptions, ImportReport, Reject, hash_file};
pub use mapping::{Mapping, Target, detect};
pub use profile::Profile;
pub use source::Source;
pub use split::{SplitSpec, SplitSummary, Strategy};
pub use workspace::{Migration, QueryWatch, TableCount, Workspace};

pub use duckdb;
pub use polars;

#[cfg(test)]
mod tests {
    /// `malloc` itself is mimalloc's (the `override` feature), so what DuckDB's C++ allocates
    /// comes from mimalloc too: a block of a CSV read buffer's size lies in mimalloc's heap.
    #[test]
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    fn malloc_is_mimalloc() {
        use std::ffi::c_void;
        unsafe extern "C" {
            fn malloc(size: usize) -> *mut c_void;
            fn free(p: *mut c_void);
            fn mi_is_in_heap_region(p: *const c_void) -> bool;
        }
        // SAFETY: the block is checked for NULL, asked about, and freed once.
        unsafe {
            let p = malloc(64 << 20);
            assert!(!p.is_null());
            assert!(mi_is_in_heap_region(p), "malloc is not mimalloc's");
            free(p);
        }
    }
}
