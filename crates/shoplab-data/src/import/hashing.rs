//! The BLAKE3 of an imported file (its identity for idempotence), computed on its own
//! thread while the import goes on.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crate::error::{DataError, Result};

/// BLAKE3 of the file's bytes, hex.
pub fn hash_file(path: &Path) -> Result<String> {
    digest_file(path, &AtomicBool::new(false))
}

/// The BLAKE3 of a file, hex, computed on its own thread while the import goes on.
pub(super) struct Hashing {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<String>>>,
    hash: Option<String>,
}

impl Hashing {
    pub(super) fn start(path: &Path) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (path, flag) = (path.to_path_buf(), stop.clone());
        let handle = std::thread::spawn(move || digest_file(&path, &flag));
        Hashing {
            stop,
            handle: Some(handle),
            hash: None,
        }
    }

    /// Waits for the hash.
    pub(super) fn wait(&mut self) -> Result<&str> {
        if let Some(handle) = self.handle.take() {
            let hash = handle.join().unwrap_or_else(|_| {
                Err(DataError::io(
                    "hashing the file",
                    std::io::Error::other("the hashing thread panicked"),
                ))
            })?;
            self.hash = Some(hash);
        }
        Ok(self.hash.as_deref().unwrap_or_default())
    }
}

impl Drop for Hashing {
    /// An import that ends early stops the hashing thread too.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Reads the file in large blocks and hashes it; `stop` ends it early (with an error).
fn digest_file(path: &Path, stop: &AtomicBool) -> Result<String> {
    use std::io::Read;
    let err = |e| DataError::io(path.display().to_string(), e);
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 4 << 20];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(DataError::Cancelled);
        }
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}
