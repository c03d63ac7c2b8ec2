//! The Models view: start any run the engine has (a recommender, the conversion model, a
//! text model on the reviews, the two-tower), a sweep of runs (grid or random, each
//! configuration once per seed, run as a queue), or a new split; watch a run's loss and
//! validation metric per epoch as they come; cancel; resume a cancelled run; the
//! workspace's runs.

mod forms;

use shoplab_engine::{FinetuneOutcome, Job, JobEvent, Progress, RunSummary, Sweep, TrainOutcome};

pub use forms::{RunKind, SplitForm, SweepForm, TextForm};

use crate::chart::{self, Exports};
use crate::figure::{Figure, Kind, Series};
use crate::prefs::{Prefs, TrainForm};
use crate::view::{Cx, News, View, misrouted};
use crate::worker::{Reply, Request};

/// The job under way: a recommender or conversion run, or a text run.
pub enum Running {
    Train(Job<TrainOutcome>),
    Text(Job<FinetuneOutcome>),
}

impl Running {
    fn is_finished(&self) -> bool {
        match self {
            Running::Train(j) => j.is_finished(),
            Running::Text(j) => j.is_finished(),
        }
    }

    fn try_event(&self) -> Option<JobEvent> {
        match self {
            Running::Train(j) => j.try_event(),
            Running::Text(j) => j.try_event(),
        }
    }

    fn cancel(&self) {
        match self {
            Running::Train(j) => j.cancel(),
            Running::Text(j) => j.cancel(),
        }
    }

    /// The run's id and status once it ended.
    fn join(self) -> Result<(i64, String), String> {
        match self {
            Running::Train(j) => j.join().map(|o| (o.run_id, o.status)),
            Running::Text(j) => j.join().map(|o| (o.run_id, o.status)),
        }
        .map_err(|e| e.to_string())
    }
}

/// A sweep being run: its trials, the next one, and each finished trial's run.
pub struct Queue {
    pub sweep: Sweep,
    /// The trial running now (or next).
    pub trial: usize,
    /// (run, status) of each trial so far.
    pub done: Vec<(i64, String)>,
    /// Stopped by cancel or a failed trial.
    pub stopped: bool,
    /// What the running trial sets, in words (described once when it starts, not per frame).
    pub running: String,
}

/// The run being watched: its epochs so far.
#[derive(Debug, Clone, Default)]
pub struct LiveRun {
    pub run_id: Option<i64>,
    pub device: String,
    pub epochs: usize,
    /// (epoch, mean train loss, validation value).
    pub points: Vec<(usize, f64, Option<f64>)>,
    pub metric: Option<String>,
    /// (epoch, step, steps, loss) of the last step reported.
    pub step: Option<(usize, usize, usize, f64)>,
    pub status: String,
}

#[derive(Default)]
pub struct ModelsView {
    pub kind: RunKind,
    pub form: TrainForm,
    pub text: TextForm,
    pub sweep: SweepForm,
    pub split: SplitForm,
    pub job: Option<Running>,
    pub queue: Option<Queue>,
    pub live: LiveRun,
    pub runs: Vec<RunSummary>,
    /// What the last split or sweep request did.
    pub note: Option<String>,
    pub exports: Exports,
    devices: Vec<String>,
    encoders: Vec<String>,
}

impl View for ModelsView {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        if self.devices.is_empty() {
            self.devices = shoplab_engine::devices();
            self.encoders = shoplab_engine::encoders()
                .into_iter()
                .map(|e| e.name)
                .collect();
        }
        ui.horizontal(|ui| {
            ui.heading("New");
            for k in RunKind::ALL {
                ui.selectable_value(&mut self.kind, k, k.name());
            }
        });
        let splits: Vec<String> = cx.workspace.splits.iter().map(|s| s.name.clone()).collect();
        match self.kind {
            RunKind::Recommender | RunKind::Conversion => forms::train_ui(
                ui,
                &mut self.form,
                &splits,
                &self.devices,
                self.kind == RunKind::Conversion,
            ),
            RunKind::Text | RunKind::TwoTower => forms::text_ui(
                ui,
                &mut self.text,
                &self.encoders,
                &splits,
                &self.devices,
                self.kind == RunKind::TwoTower,
            ),
            RunKind::Sweep => {
                let base = format!("{} on {}", self.form.model, self.form.split);
                forms::sweep_ui(ui, &mut self.sweep, &base);
            }
            RunKind::Split => forms::split_ui(ui, &mut self.split),
        }
        let running = self.is_busy();
        ui.horizontal(|ui| {
            let start = match self.kind {
                RunKind::Sweep => "Start sweep",
                RunKind::Split => "Make split",
                _ => "Start",
            };
            if ui
                .add_enabled(!running, egui::Button::new(start))
                .on_hover_text("Ctrl+Enter")
                .clicked()
            {
                self.start(cx);
            }
            if ui
                .add_enabled(running, egui::Button::new("Cancel"))
                .on_hover_text("Escape: stops the run after its current step (resume it later); a sweep stops there too")
                .clicked()
            {
                self.cancel();
            }
            if let Some(n) = &self.note {
                ui.label(n);
            }
        });
        self.queue_ui(ui);
        self.live_ui(ui, cx);
        ui.add_space(12.0);
        self.runs_ui(ui, cx);
    }

    fn on_reply(&mut self, reply: Reply, cx: &mut Cx<'_>) {
        match reply {
            Reply::TrainStarted(job) => self.started(Running::Train(job)),
            Reply::TextStarted(job) => self.started(Running::Text(job)),
            Reply::SweepPlanned(sweep) => {
                self.note = Some(format!("{}: {} trials", sweep.tag, sweep.trials.len()));
                self.queue = Some(Queue {
                    sweep: *sweep,
                    trial: 0,
                    done: Vec::new(),
                    stopped: false,
                    running: String::new(),
                });
                self.next_trial(cx);
            }
            Reply::Splits { made, splits } => {
                let n = splits.iter().find(|s| s.name == made).map(|s| {
                    format!(
                        "split {made}: {} train, {} valid, {} test",
                        s.n_train, s.n_valid, s.n_test
                    )
                });
                self.note = n;
                cx.workspace.splits = splits;
                self.form.split = made.clone();
                self.text.split = made;
            }
            _ => misrouted("the Models view"),
        }
    }

    fn on_news(&mut self, news: &News<'_>, _cx: &mut Cx<'_>) {
        match news {
            News::Opened => {}
            News::Runs(runs) => self.runs = runs.to_vec(),
        }
    }

    /// Takes one event of the run; once it ended, its outcome (and the runs are read
    /// again), and a sweep's next trial.
    fn poll(&mut self, cx: &mut Cx<'_>) -> bool {
        if self.exports.poll() {
            return true;
        }
        let Some(job) = &self.job else {
            return false;
        };
        let finished = job.is_finished();
        if let Some(event) = job.try_event() {
            if let JobEvent::Train(p) = event {
                self.live.progress(p);
            }
            return true;
        }
        if !finished {
            return false;
        }
        let job = self.job.take().expect("checked above");
        let ended = job.join();
        match &ended {
            Ok((run_id, status)) => {
                self.live.run_id = Some(*run_id);
                self.live.status.clone_from(status);
            }
            Err(e) => {
                self.live.status = "failed".into();
                cx.fail(e.clone());
            }
        }
        if let Some(q) = &mut self.queue
            && !q.stopped
        {
            match ended {
                Ok((run, status)) => {
                    q.stopped = status != "finished";
                    q.done.push((run, status));
                }
                Err(e) => {
                    q.stopped = true;
                    q.done
                        .push((self.live.run_id.unwrap_or(0), format!("failed: {e}")));
                }
            }
            q.trial += 1;
            self.next_trial(cx);
        }
        cx.send_workspace(Request::Runs);
        true
    }

    fn is_busy(&self) -> bool {
        self.job.is_some() || self.queue.as_ref().is_some_and(Queue::is_running)
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        cx.send_workspace(Request::Runs);
    }

    fn run(&mut self, cx: &mut Cx<'_>) {
        self.start(cx);
    }

    fn cancel(&mut self) {
        if let Some(j) = &self.job {
            j.cancel();
        }
        if let Some(q) = &mut self.queue {
            q.stopped = true;
        }
    }

    fn save(&self, prefs: &mut Prefs) {
        prefs.train = self.form.clone();
    }
}

impl Queue {
    /// Whether trials are left to run.
    pub fn is_running(&self) -> bool {
        !self.stopped && self.trial < self.sweep.trials.len()
    }
}

impl LiveRun {
    /// The train loss and the validation metric per epoch so far, as figures.
    pub fn figures(&self, run_id: i64) -> [Figure; 2] {
        let loss: Vec<[f64; 2]> = self.points.iter().map(|p| [p.0 as f64, p.1]).collect();
        let valid: Vec<[f64; 2]> = self
            .points
            .iter()
            .filter_map(|p| Some([p.0 as f64, p.2?]))
            .collect();
        let metric = self.metric.clone().unwrap_or_else(|| "validation".into());
        let one = |title: String, y: &str, name: &str, points, color| Figure {
            title,
            x_label: "epoch".into(),
            y_label: y.into(),
            x_ticks: Vec::new(),
            series: vec![Series {
                name: name.into(),
                kind: Kind::Line,
                points,
                intervals: Vec::new(),
                color,
            }],
        };
        [
            one(
                "train loss per epoch".into(),
                "loss",
                &format!("run {run_id} loss"),
                loss,
                0,
            ),
            one(
                format!("validation {metric} per epoch"),
                &metric,
                &format!("run {run_id} {metric}"),
                valid,
                1,
            ),
        ]
    }

    fn progress(&mut self, p: Progress) {
        match p {
            Progress::Started {
                run_id,
                device,
                epochs,
                ..
            } => {
                self.run_id = Some(run_id);
                self.device = device;
                self.epochs = epochs;
                self.status = "training".into();
            }
            Progress::Step {
                epoch,
                step,
                steps,
                loss,
            } => self.step = Some((epoch, step, steps, loss)),
            Progress::Epoch {
                epoch,
                loss,
                validation,
                ..
            } => {
                if let Some((m, _)) = &validation {
                    self.metric = Some(m.clone());
                }
                self.points.push((epoch, loss, validation.map(|(_, v)| v)));
            }
            Progress::Evaluating => self.status = "evaluating".into(),
        }
    }
}

impl ModelsView {
    pub(crate) fn new(prefs: &Prefs) -> Self {
        ModelsView {
            form: prefs.train.clone(),
            ..Default::default()
        }
    }

    /// Starts what the form describes (what "Start" and Ctrl+Enter do).
    fn start(&mut self, cx: &mut Cx<'_>) {
        if self.is_busy() {
            return;
        }
        self.note = None;
        match self.kind {
            RunKind::Recommender | RunKind::Conversion => {
                match forms::train_config(&self.form, self.kind == RunKind::Conversion) {
                    Ok(cfg) => cx.send(Request::Train(Box::new(cfg))),
                    Err(e) => cx.fail(e),
                }
            }
            RunKind::Text | RunKind::TwoTower => {
                let cfg = self.text.config(self.kind == RunKind::TwoTower);
                cx.send(Request::Finetune(Box::new(cfg)));
            }
            RunKind::Sweep => {
                let spec = forms::train_config(&self.form, self.sweep.conversion)
                    .and_then(|base| self.sweep.spec(base));
                match spec {
                    Ok(spec) => {
                        let tag = Some(self.sweep.tag.clone()).filter(|t| !t.trim().is_empty());
                        cx.send(Request::PlanSweep {
                            spec: Box::new(spec),
                            tag,
                        });
                    }
                    Err(e) => cx.fail(e),
                }
            }
            RunKind::Split => cx.send(Request::Split(Box::new(self.split.spec()))),
        }
    }

    fn started(&mut self, job: Running) {
        self.live = LiveRun {
            status: "starting".into(),
            ..Default::default()
        };
        self.job = Some(job);
    }

    /// Starts the sweep's next trial, if any is left.
    fn next_trial(&mut self, cx: &mut Cx<'_>) {
        let Some(q) = &mut self.queue else {
            return;
        };
        if q.is_running() {
            q.running = q.sweep.describe(q.trial);
            cx.send(Request::SweepTrial {
                sweep: Box::new(q.sweep.clone()),
                i: q.trial,
            });
        }
    }

    /// A sweep's progress: the trial running, and those done.
    fn queue_ui(&self, ui: &mut egui::Ui) {
        let Some(q) = &self.queue else {
            return;
        };
        let n = q.sweep.trials.len();
        let state = if q.is_running() {
            format!("trial {}/{n}: {}", q.trial + 1, q.running)
        } else if q.stopped {
            format!("stopped after {} of {n} trials", q.done.len())
        } else {
            format!(
                "all {n} trials done: compare them in Compare, filter #{}",
                q.sweep.tag
            )
        };
        ui.add(
            egui::ProgressBar::new(q.done.len() as f32 / n.max(1) as f32)
                .text(format!("{} · {state}", q.sweep.tag)),
        );
    }

    fn live_ui(&self, ui: &mut egui::Ui, cx: &Cx<'_>) {
        let live = &self.live;
        let Some(run_id) = live.run_id.or(self.is_busy().then_some(0)) else {
            return;
        };
        ui.add_space(8.0);
        ui.heading(format!("Run {run_id}: {}", live.status));
        if let Some((epoch, step, steps, loss)) = live.step {
            ui.label(format!(
                "epoch {epoch}/{} · step {step}/{steps} · loss {loss:.4} · {}",
                live.epochs, live.device
            ));
        }
        let [loss, valid] = live.figures(run_id);
        ui.columns(2, |cols| {
            for ((f, id), col) in [(&loss, "live_loss"), (&valid, "live_valid")]
                .into_iter()
                .zip(cols.iter_mut())
            {
                col.horizontal(|ui| {
                    ui.label(&f.title);
                    self.exports.menu(ui, cx, f, &format!("run{run_id}-{id}"));
                });
                chart::show(col, id, f, 220.0);
            }
        });
        if let Some(n) = &self.exports.note {
            ui.label(n);
        }
    }

    fn runs_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        ui.horizontal(|ui| {
            ui.heading("Runs");
            if ui.small_button("Refresh").clicked() {
                cx.send_workspace(Request::Runs);
            }
        });
        if self.runs.is_empty() {
            ui.weak("No runs yet: start one above.");
            return;
        }
        let mut resume = None;
        egui::Grid::new("runs").striped(true).show(ui, |ui| {
            for h in [
                "run", "model", "split", "device", "status", "epochs", "seconds", "metrics",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for r in self.runs.iter().rev() {
                ui.label(r.run_id.to_string());
                ui.label(&r.model);
                ui.label(&r.split);
                ui.label(&r.device);
                if r.status == "cancelled" {
                    if ui
                        .small_button("cancelled: resume")
                        .on_hover_text("continue from the last finished epoch")
                        .clicked()
                    {
                        resume = Some((r.run_id, shoplab_engine::is_text_run(&r.params)));
                    }
                } else {
                    ui.label(&r.status);
                }
                ui.label(r.epochs_done.to_string());
                ui.label(format!("{:.1}", r.seconds));
                let shown: Vec<String> = r
                    .metrics
                    .iter()
                    .filter(|(m, _)| {
                        matches!(
                            m.as_str(),
                            "ndcg@10" | "recall@10" | "rmse" | "auc" | "logloss"
                        )
                    })
                    .map(|(m, v)| format!("{m} {v:.4}"))
                    .collect();
                ui.label(shown.join("  "));
                ui.end_row();
            }
        });
        if let Some((run, text)) = resume
            && !self.is_busy()
        {
            cx.send(if text {
                Request::ResumeText(run)
            } else {
                Request::Resume(run)
            });
        }
    }
}
