//! The allocator's settings for the encoder's buffers.
//!
//! A step of the encoder allocates and frees buffers of megabytes (`tokens × 1536` floats
//! for the feed-forward layer). glibc's malloc hands memory of these sizes back to the kernel
//! when it is freed (a mapping of its own, or a heap trimmed past a few MiB of free space),
//! so every step faults its pages in again and the kernel zeroes them: ~8% of fine-tuning's
//! samples went to page faults, page-table locks and unmapping (bench/README.md). Raised
//! thresholds keep them in the heap for reuse: full fine-tuning on two cores went from 46.2
//! to 51.8 examples/s and its page faults from 7.3M to 1.5M. The programs (everything that
//! links `shoplab-engine`) allocate with mimalloc, which keeps such buffers itself; there
//! these settings change nothing, and they matter where this crate runs under glibc's
//! allocator (its own tests and examples).
#![allow(unsafe_code)]

/// Raises glibc's thresholds once per process: allocations under 256 MiB (32 MiB where
/// glibc caps it lower) come from the heap, and up to 256 MiB of free heap is kept rather
/// than returned. Elsewhere than Linux with glibc, nothing.
pub(crate) fn keep_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            const MIB: libc::c_int = 1 << 20;
            // SAFETY: mallopt only changes malloc's parameters (it returns 0 for a value it
            // refuses, which leaves the parameter as it was).
            unsafe {
                if libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * MIB) == 0 {
                    libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * MIB);
                }
                libc::mallopt(libc::M_TRIM_THRESHOLD, 256 * MIB);
            }
        });
    }
}
