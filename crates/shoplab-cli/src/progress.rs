//! Following background jobs on the terminal: progress bars and spinners, and Ctrl-C, which
//! cancels the job being followed (an import rolls back; a training run stops after its
//! current step and keeps its last checkpoint).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use shoplab_engine::{ImportOptions, ImportReport, Job, JobEvent, Progress, Session};

/// Set by Ctrl-C; the job being followed is cancelled.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Routes Ctrl-C to [`interrupted`] instead of ending the process.
pub fn catch_ctrl_c() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
}

/// The flag Ctrl-C sets, for an engine call that watches it.
pub fn interrupt_flag() -> &'static AtomicBool {
    &INTERRUPTED
}

/// Whether Ctrl-C was pressed (the process then exits with 130, as shells expect).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// A spinner with a message while something without progress runs; hidden when `quiet`.
/// Runs a step on a Spark cluster under a spinner naming the step it is at (`work` hears
/// each step and the Ctrl-C flag, which cancels the query on the cluster).
pub fn on_spark<T>(quiet: bool, work: impl FnOnce(&mut dyn FnMut(&str), &AtomicBool) -> T) -> T {
    catch_ctrl_c();
    let pb = spinner(quiet, "connecting to Spark");
    let out = work(
        &mut |step| pb.set_message(format!("on Spark: {step}")),
        interrupt_flag(),
    );
    pb.finish_and_clear();
    out
}

pub fn spinner(quiet: bool, msg: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner().with_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn bar(quiet: bool, len: u64, template: &str) -> ProgressBar {
    let pb = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(len)
    };
    pb.set_style(
        ProgressStyle::with_template(template)
            .expect("template")
            .progress_chars("=> "),
    );
    pb
}

/// Imports one file as a job, with a progress bar of the share read.
pub fn import(
    session: &Session,
    file: &Path,
    opts: &ImportOptions,
    quiet: bool,
) -> Result<ImportReport> {
    let job = session.import_job(file, opts.clone())?;
    let pb = bar(
        quiet,
        1000,
        "{spinner} {msg} [{bar:30}] {percent:>3}% {elapsed}",
    );
    pb.set_message(format!("importing {}", file.display()));
    follow(job, &pb, |ev, pb| {
        if let JobEvent::Progress(f) = ev {
            pb.set_position((f * 1000.0) as u64);
        }
    })
}

/// Shows a training job's progress (epochs, loss, validation) until it ends.
pub fn training<T: Send + 'static>(job: Job<T>, quiet: bool) -> Result<T> {
    let pb = bar(quiet, 1, "[{bar:24}] {msg} {elapsed}");
    let mut last_val = String::new();
    follow(job, &pb, move |ev, pb| match ev {
        JobEvent::Train(Progress::Started { epochs, device, .. }) => {
            pb.set_length(epochs.max(1) as u64);
            pb.set_message(format!("training on {device}"));
        }
        JobEvent::Train(Progress::Step {
            epoch,
            step,
            steps,
            loss,
        }) => pb.set_message(format!(
            "epoch {epoch}  step {step}/{steps}  loss {loss:.4}{last_val}"
        )),
        JobEvent::Train(Progress::Epoch {
            epoch,
            epochs,
            loss,
            validation,
            ..
        }) => {
            last_val = validation
                .map(|(n, v)| format!("  val {n} {v:.4}"))
                .unwrap_or_default();
            pb.set_position(epoch as u64);
            pb.set_message(format!("epoch {epoch}/{epochs}  loss {loss:.4}{last_val}"));
        }
        JobEvent::Train(Progress::Evaluating) => pb.set_message("evaluating on test"),
        // Stages and fractions are an import's; a training bar shows epochs.
        JobEvent::Stage(_) | JobEvent::Progress(_) => {}
    })
}

/// Polls a job until it ends, handing each event to `show` and cancelling it on Ctrl-C.
fn follow<T: Send + 'static>(
    job: Job<T>,
    pb: &ProgressBar,
    mut show: impl FnMut(JobEvent, &ProgressBar),
) -> Result<T> {
    catch_ctrl_c();
    loop {
        if interrupted() && !job.is_cancelled() {
            job.cancel();
            pb.set_message("cancelling …");
        }
        while let Some(ev) = job.try_event() {
            show(ev, pb);
        }
        pb.tick();
        // Wakes as soon as the job ends (a sleep here added up to 50 ms to every command).
        if job.wait_finished(Duration::from_millis(50)) {
            break;
        }
    }
    pb.finish_and_clear();
    Ok(job.join()?)
}
