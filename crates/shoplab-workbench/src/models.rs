//! The Models view: configure a run (model, split, hyper-parameters, device), start it and
//! watch its loss and validation metric per epoch as they come; cancel; resume a cancelled
//! run; the workspace's runs.

use egui_plot::{Legend, Line, Plot, PlotPoints};
use shoplab_engine::{Job, JobEvent, ModelKind, Progress, RunSummary, TrainConfig, TrainOutcome};

use crate::plot;
use crate::prefs::{Prefs, TrainForm};
use crate::view::{Cx, News, View, misrouted};
use crate::worker::{Reply, Request};

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
    pub form: TrainForm,
    pub job: Option<Job<TrainOutcome>>,
    pub live: LiveRun,
    pub runs: Vec<RunSummary>,
}

impl View for ModelsView {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        ui.heading("New run");
        let splits: Vec<String> = cx.workspace.splits.iter().map(|s| s.name.clone()).collect();
        form_ui(ui, &mut self.form, &splits);
        let running = self.is_busy();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(!running, egui::Button::new("Start"))
                .on_hover_text("Ctrl+Enter")
                .clicked()
            {
                self.start_training(cx);
            }
            if ui
                .add_enabled(running, egui::Button::new("Cancel"))
                .on_hover_text("Escape")
                .clicked()
            {
                self.cancel();
            }
        });
        self.live_ui(ui);
        ui.add_space(12.0);
        self.runs_ui(ui, cx);
    }

    fn on_reply(&mut self, reply: Reply, _cx: &mut Cx<'_>) {
        match reply {
            Reply::TrainStarted(job) => {
                self.live = LiveRun {
                    status: "starting".into(),
                    ..Default::default()
                };
                self.job = Some(job);
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

    /// Takes one event of the training run; once it ended, its outcome (and the runs are
    /// read again).
    fn poll(&mut self, cx: &mut Cx<'_>) -> bool {
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
        match job.join() {
            Ok(outcome) => {
                self.live.run_id = Some(outcome.run_id);
                self.live.status = outcome.status;
            }
            Err(e) => {
                self.live.status = "failed".into();
                cx.fail(e.to_string());
            }
        }
        cx.send_workspace(Request::Runs);
        true
    }

    fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        cx.send_workspace(Request::Runs);
    }

    fn run(&mut self, cx: &mut Cx<'_>) {
        self.start_training(cx);
    }

    fn cancel(&mut self) {
        if let Some(j) = &self.job {
            j.cancel();
        }
    }

    fn save(&self, prefs: &mut Prefs) {
        prefs.train = self.form.clone();
    }
}

impl LiveRun {
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

    /// Starts a run with the form's settings (what "Start" and Ctrl+Enter do).
    fn start_training(&mut self, cx: &mut Cx<'_>) {
        if self.is_busy() {
            return;
        }
        let f = &self.form;
        let model = match ModelKind::parse(&f.model) {
            Ok(m) => m,
            Err(e) => {
                cx.fail(e.to_string());
                return;
            }
        };
        let mut cfg = TrainConfig::new(&f.split, model);
        cfg.epochs = f.epochs.max(1);
        cfg.batch_size = f.batch_size.max(1);
        cfg.device.clone_from(&f.device);
        cfg.hyper.factors = f.factors.max(1);
        cfg.hyper.lr = f.lr;
        cx.send(Request::Train(Box::new(cfg)));
    }

    fn live_ui(&self, ui: &mut egui::Ui) {
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
        let loss: Vec<[f64; 2]> = live.points.iter().map(|p| [p.0 as f64, p.1]).collect();
        let valid: Vec<[f64; 2]> = live
            .points
            .iter()
            .filter_map(|p| Some([p.0 as f64, p.2?]))
            .collect();
        let metric = live.metric.clone().unwrap_or_else(|| "validation".into());
        ui.columns(2, |cols| {
            cols[0].label("train loss per epoch");
            Plot::new("live_loss")
                .height(220.0)
                .legend(Legend::default())
                .show(&mut cols[0], |p| {
                    p.line(Line::new("loss", PlotPoints::new(loss)).color(plot::color(0)));
                });
            cols[1].label(format!("validation {metric} per epoch"));
            Plot::new("live_valid")
                .height(220.0)
                .legend(Legend::default())
                .show(&mut cols[1], |p| {
                    p.line(Line::new(metric.clone(), PlotPoints::new(valid)).color(plot::color(1)));
                });
        });
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
                        resume = Some(r.run_id);
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
        if let Some(run) = resume
            && !self.is_busy()
        {
            cx.send(Request::Resume(run));
        }
    }
}

/// The run form: model, split (one of `splits`), hyper-parameters, device.
fn form_ui(ui: &mut egui::Ui, f: &mut TrainForm, splits: &[String]) {
    egui::Grid::new("train_form").num_columns(2).show(ui, |ui| {
        ui.label("model");
        egui::ComboBox::from_id_salt("model")
            .selected_text(f.model.as_str())
            .show_ui(ui, |ui| {
                for m in ModelKind::ALL {
                    // Picking a model fills in its own defaults.
                    if ui
                        .selectable_value(&mut f.model, m.name().to_string(), m.name())
                        .changed()
                    {
                        f.use_defaults_of(m);
                    }
                }
            });
        ui.end_row();
        ui.label("split");
        egui::ComboBox::from_id_salt("split")
            .selected_text(f.split.as_str())
            .show_ui(ui, |ui| {
                for s in splits {
                    ui.selectable_value(&mut f.split, s.clone(), s);
                }
            });
        ui.end_row();
        ui.label("epochs");
        ui.add(egui::DragValue::new(&mut f.epochs).range(1..=1_000));
        ui.end_row();
        ui.label("factors");
        ui.add(egui::DragValue::new(&mut f.factors).range(1..=1_024));
        ui.end_row();
        ui.label("learning rate");
        ui.add(
            egui::DragValue::new(&mut f.lr)
                .range(1e-5..=1.0)
                .speed(0.0005),
        );
        ui.end_row();
        ui.label("batch size");
        ui.add(egui::DragValue::new(&mut f.batch_size).range(1..=65_536));
        ui.end_row();
        ui.label("device");
        ui.horizontal(|ui| {
            for d in ["auto", "cpu", "cuda"] {
                ui.selectable_value(&mut f.device, d.to_string(), d);
            }
        });
        ui.end_row();
    });
}
