//! Background jobs: a thread doing the work, a bounded channel of progress events, cancel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use shoplab_data::QueryWatch;

use crate::{EngineError, Result};

/// What a job tells its front-end.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// A named step started.
    Stage(String),
    /// Fraction of the current step done, 0..=1.
    Progress(f64),
    /// A training run's progress (epochs, steps, loss, validation).
    Train(shoplab_model::Progress),
}

/// Capacity of a job's event channel: a slow reader loses progress ticks, never blocks the job.
const EVENTS: usize = 64;

/// A running job; `T` is what it returns.
pub struct Job<T> {
    pub name: String,
    events: Receiver<JobEvent>,
    handle: Option<JoinHandle<Result<T>>>,
    cancelled: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
    watch: Option<QueryWatch>,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on its own thread. When `watch` is given, the query progress of that
    /// workspace connection is reported every 100 ms, and 1 when the job succeeds; cancel
    /// interrupts it. `work` gets the event channel and the cancel flag (for work that is
    /// not one query).
    pub fn spawn<F>(name: String, watch: Option<QueryWatch>, work: F) -> Self
    where
        F: FnOnce(&SyncSender<JobEvent>, &AtomicBool) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = sync_channel(EVENTS);
        let cancelled = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        if let Some(w) = watch.clone() {
            let tx = tx.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut last = -1.0;
                while !done.load(Ordering::Relaxed) {
                    if let Some(f) = w.fraction()
                        && (f - last).abs() >= 0.001
                    {
                        last = f;
                        let _ = tx.try_send(JobEvent::Progress(f));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        let done2 = done.clone();
        let flag = cancelled.clone();
        let watched = watch.is_some();
        let handle = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&tx, &flag)))
                    .unwrap_or_else(|p| Err(EngineError::Job(panic_text(&p))));
                done2.store(true, Ordering::Relaxed);
                // The samples are of the query running at each tick; a short job can end
                // between two, so a finished one says so itself.
                if watched && r.is_ok() {
                    let _ = tx.try_send(JobEvent::Progress(1.0));
                }
                r
            })
            .expect("spawn job thread");
        Job {
            name,
            events: rx,
            handle: Some(handle),
            cancelled,
            done,
            watch,
        }
    }
}

impl<T> Job<T> {
    /// The next event, if one is waiting.
    pub fn try_event(&self) -> Option<JobEvent> {
        self.events.try_recv().ok()
    }

    pub fn is_finished(&self) -> bool {
        self.done.load(Ordering::Relaxed) || self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Asks the job to stop; a running query is interrupted and rolled back.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        if let Some(w) = &self.watch {
            w.interrupt();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Waits for the result.
    pub fn join(mut self) -> Result<T> {
        let handle = self.handle.take().expect("joined once");
        handle
            .join()
            .unwrap_or_else(|p| Err(EngineError::Job(panic_text(&p))))
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".into())
}
