//! Background jobs: a thread doing the work, a bounded channel of progress events, cancel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
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
    done: Arc<Done>,
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
        let done = Arc::new(Done::default());
        if let Some(w) = watch.clone() {
            let tx = tx.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut last = -1.0;
                loop {
                    if let Some(f) = w.fraction()
                        && (f - last).abs() >= 0.001
                    {
                        last = f;
                        let _ = tx.try_send(JobEvent::Progress(f));
                    }
                    // A tick every 100 ms; stops as the job ends.
                    if done.wait(Duration::from_millis(100)) {
                        break;
                    }
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
                done2.set();
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
        self.done.get() || self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Waits until the job's work has returned, for at most `timeout`: whether it has. A
    /// front-end that polls wakes as the job ends, not at its next tick.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        self.done.wait(timeout) || self.is_finished()
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

/// Whether a job's work has returned, with a wait for it.
#[derive(Default)]
struct Done {
    returned: Mutex<bool>,
    changed: Condvar,
}

impl Done {
    fn set(&self) {
        *self.returned.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    fn get(&self) -> bool {
        *self.returned.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait(&self, timeout: Duration) -> bool {
        let returned = self.returned.lock().unwrap_or_else(PoisonError::into_inner);
        let (returned, _) = self
            .changed
            .wait_timeout_while(returned, timeout, |r| !*r)
            .unwrap_or_else(PoisonError::into_inner);
        *returned
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".into())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    use super::Job;

    #[test]
    fn a_waiting_front_end_wakes_as_the_job_ends() {
        let (go, wait) = channel::<()>();
        let job = Job::spawn("wait".into(), None, move |_, _| {
            wait.recv().expect("released");
            Ok(7)
        });
        assert!(!job.wait_finished(Duration::from_millis(20)));
        assert!(!job.is_finished());
        go.send(()).expect("job waiting");
        let asked = Instant::now();
        assert!(job.wait_finished(Duration::from_secs(60)));
        // Woken by the job, not by the timeout.
        assert!(asked.elapsed() < Duration::from_secs(30));
        assert_eq!(job.join().expect("result"), 7);
    }

    #[test]
    fn a_panicking_job_ends_with_an_error() {
        let job = Job::<()>::spawn("panics".into(), None, |_, _| panic!("broken"));
        assert!(job.wait_finished(Duration::from_secs(60)));
        let err = job.join().expect_err("a panic is an error");
        assert!(err.to_string().contains("broken"), "{err}");
    }
}
