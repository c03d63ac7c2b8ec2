//! The Data view's Spark panel: a Spark Connect endpoint and a lake path (remembered), and
//! the workspace steps that run there (the import, the profile, a hashed split, the
//! calibration's sessions) as a job with its step and a Cancel; what each stored comes
//! back into the workspace with where it was computed.

use shoplab_engine::{
    CalibrateOptions, ImportOptions, Job, JobEvent, SparkOutcome, SparkTask, SplitSpec, Strategy,
};

use crate::prefs::Prefs;
use crate::view::{Cx, Polled, poll_job};
use crate::worker::Request;

/// The endpoint, the data, and the step running there.
#[derive(Default)]
pub struct SparkPanel {
    pub remote: String,
    pub data: String,
    /// The hashed split's name and seed.
    pub split_name: String,
    pub seed: u64,
    pub job: Option<Job<SparkOutcome>>,
    /// The running job's step.
    pub stage: String,
    /// What the last step did.
    pub note: Option<String>,
    /// Open the panel (set by the launch flags); `run` then profiles there.
    pub open: bool,
}

impl SparkPanel {
    pub fn new(prefs: &Prefs) -> Self {
        SparkPanel {
            remote: prefs.spark_remote.clone(),
            data: prefs.spark_data.clone(),
            split_name: "hashed".into(),
            seed: 42,
            ..Default::default()
        }
    }

    pub fn save(&self, prefs: &mut Prefs) {
        prefs.spark_remote.clone_from(&self.remote);
        prefs.spark_data.clone_from(&self.data);
    }

    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    /// What the Data view's `run` does when the panel was opened at launch: the profile.
    pub(crate) fn run(&mut self, cx: &mut Cx<'_>) -> bool {
        if !self.open || self.remote.trim().is_empty() || self.data.trim().is_empty() {
            return false;
        }
        self.start(cx, SparkTask::Profile);
        true
    }

    fn start(&mut self, cx: &mut Cx<'_>, task: SparkTask) {
        self.note = None;
        cx.send(Request::Spark {
            remote: self.remote.trim().to_string(),
            data: self.data.trim().to_string(),
            task: Box::new(task),
        });
    }

    pub fn started(&mut self, job: Job<SparkOutcome>) {
        self.stage = "connecting".into();
        self.job = Some(job);
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        egui::CollapsingHeader::new("Spark cluster")
            .id_salt("spark")
            .default_open(self.open)
            .show(ui, |ui| {
                ui.label(
                    "Run the workspace's heavy steps on a Spark cluster through Spark Connect; \
                     only their results come back here.",
                );
                egui::Grid::new("spark_form").num_columns(2).show(ui, |ui| {
                    let label = ui.label("endpoint");
                    ui.add_sized(
                        [320.0, 20.0],
                        egui::TextEdit::singleline(&mut self.remote).hint_text("sc://host:15002"),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("events (the server's path)");
                    ui.add_sized(
                        [320.0, 20.0],
                        egui::TextEdit::singleline(&mut self.data)
                            .hint_text("s3://lake/shop/events/ or a .csv"),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("hashed split name");
                    ui.add_sized(
                        [160.0, 20.0],
                        egui::TextEdit::singleline(&mut self.split_name),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("seed");
                    ui.add(egui::DragValue::new(&mut self.seed))
                        .labelled_by(label.id);
                    ui.end_row();
                });
                let ready = !self.remote.trim().is_empty()
                    && !self.data.trim().is_empty()
                    && self.job.is_none();
                ui.horizontal(|ui| {
                    ui.add_enabled_ui(ready, |ui| self.buttons_ui(ui, cx));
                });
                if let Some(job) = &self.job {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(format!("{}: {}", job.name, self.stage));
                        if ui.button("Cancel on the cluster").clicked() {
                            job.cancel();
                        }
                    });
                }
                if let Some(n) = &self.note {
                    ui.label(n);
                }
            });
    }

    fn buttons_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        if ui
            .button("Import on Spark")
            .on_hover_text("read and check every record there; the rows and rejects land here")
            .clicked()
        {
            self.start(cx, SparkTask::Import(ImportOptions::default()));
        }
        if ui.button("Profile on Spark").clicked() {
            self.start(cx, SparkTask::Profile);
        }
        if ui
            .button("Hashed split on Spark")
            .on_hover_text(
                "80/10/10 per user by SHA-256 of seed|user|item|time: the split DuckDB makes too",
            )
            .clicked()
        {
            let spec = SplitSpec {
                name: self.split_name.trim().to_string(),
                strategy: Strategy::Hashed {
                    train: 0.8,
                    valid: 0.1,
                    test: 0.1,
                },
                seed: self.seed,
                event_types: None,
                min_value: None,
                k_core: None,
                cold_items: None,
            };
            self.start(cx, SparkTask::Split(spec));
        }
        if ui.button("Calibrate on Spark").clicked() {
            self.start(cx, SparkTask::Calibrate(CalibrateOptions::default()));
        }
    }

    /// Takes the job's step; once it ended, says what it stored and asks for the tables,
    /// splits and profile again (a profile computed there is shown as it came).
    pub(crate) fn poll(&mut self, cx: &mut Cx<'_>) -> bool {
        match poll_job(&mut self.job) {
            Polled::Quiet => false,
            Polled::Event(e) => {
                if let JobEvent::Stage(s) = e {
                    self.stage = s;
                }
                true
            }
            Polled::Ended(Ok(outcome)) => {
                self.note = Some(describe(&outcome));
                // A profile computed there is shown as it came; after the other steps the
                // tables, splits and profile are read again.
                match outcome {
                    SparkOutcome::Profiled(p) => cx.workspace.profile = Some(*p),
                    SparkOutcome::Imported(r) => {
                        cx.workspace.last_import = Some(*r);
                        cx.send_workspace(Request::Profile);
                    }
                    SparkOutcome::Split(_) | SparkOutcome::Calibrated(_) => {
                        cx.send_workspace(Request::Profile)
                    }
                }
                true
            }
            Polled::Ended(Err(e)) => {
                cx.fail(e.to_string());
                true
            }
        }
    }
}

/// What a step on Spark stored, in words.
fn describe(outcome: &SparkOutcome) -> String {
    match outcome {
        SparkOutcome::Profiled(p) => format!(
            "profiled {} events of {} users and {} items ({})",
            p.events,
            p.users,
            p.items,
            p.computed_on.as_deref().unwrap_or("on Spark")
        ),
        SparkOutcome::Imported(r) => format!(
            "imported {} rows of {} read, {} rejected (import {})",
            r.rows_loaded, r.rows_read, r.rows_rejected, r.import_id
        ),
        SparkOutcome::Split(s) => format!(
            "split {}: {} train, {} valid, {} test ({})",
            s.name,
            s.n_train,
            s.n_valid,
            s.n_test,
            s.computed_on.as_deref().unwrap_or("on Spark")
        ),
        SparkOutcome::Calibrated(c) => format!(
            "calibration {} fitted to the sessions computed on Spark",
            c.calibration_id
        ),
    }
}
