//! The analyst workbench (eframe/egui): **Data** (tables, profile, import, SQL console),
//! **Models** (configure and start a training run, watch its curves live, cancel, resume),
//! **Compare** (runs table, overlaid curves, metric intervals, paired comparison, top-K side
//! by side) and **Simulate** (a scenario run in batch or real time, conversion, revenue and
//! margin per policy with 95% bands, linked axes). The UI thread never touches DuckDB: a
//! worker thread owns the session and answers over bounded channels; training runs and
//! simulations run on threads of their own and are polled each frame.

mod compare;
mod data;
mod models;
pub mod plot;
mod simulate;
mod worker;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use shoplab_engine::{ImportReport, Profile, SplitSummary, TableCount};

pub use compare::CompareView;
pub use data::DataView;
pub use models::{ModelsView, TrainForm};
pub use simulate::SimView;
pub use worker::{Reply, Request};

/// What to open at start.
#[derive(Debug, Clone)]
pub enum Start {
    Demo,
    Workspace(PathBuf),
    /// The workspace of the last session, if any; else the first-run screen.
    Remembered,
}

/// How the workbench was started beyond the workspace (the binary's flags).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// The view to show first.
    pub view: Option<Tab>,
    /// Once the workspace is open, run what the view runs (the SQL, the training form, the
    /// scenario).
    pub run: bool,
    pub scenario: Option<PathBuf>,
    /// Write each frame's CPU time (milliseconds, one a line) to this file on exit.
    pub frame_log: Option<PathBuf>,
    /// Close the window after this many seconds.
    pub exit_after: Option<f64>,
    /// The plotting benchmark: draw a series of this many points instead of the views.
    pub bench_points: Option<usize>,
}

/// The workbench's views.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    #[default]
    Data,
    Models,
    Compare,
    Simulate,
}

impl Tab {
    const ALL: [(Tab, &'static str, egui::Key); 4] = [
        (Tab::Data, "Data", egui::Key::Num1),
        (Tab::Models, "Models", egui::Key::Num2),
        (Tab::Compare, "Compare", egui::Key::Num3),
        (Tab::Simulate, "Simulate", egui::Key::Num4),
    ];
}

/// UI preferences that survive restarts.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Prefs {
    last_workspace: Option<PathBuf>,
    tab: Tab,
    sql: String,
    train: TrainForm,
    scenario: Option<PathBuf>,
    seeds: u64,
    days_per_second: f64,
}

/// What to do with the path a file dialog returns. Dialogs run on their own thread (the UI
/// never waits on one); the path comes back with this through a channel drained each frame.
pub(crate) enum Then {
    Open,
    Import,
    Scenario,
    ExportQuery(String),
    Png {
        rect: egui::Rect,
        done: SyncSender<String>,
    },
}

/// A file dialog to show: its title, filter (name, extensions), and for a save dialog the
/// file name it proposes.
pub(crate) struct Dialog {
    pub title: &'static str,
    pub filter: Option<(&'static str, &'static [&'static str])>,
    pub save_as: Option<String>,
}

type Picked = (Then, PathBuf);

/// What the worker last told us about the open workspace.
#[derive(Default)]
pub struct WorkspaceView {
    pub path: Option<PathBuf>,
    pub tables: Vec<TableCount>,
    pub profile: Option<Profile>,
    pub splits: Vec<SplitSummary>,
    pub last_import: Option<ImportReport>,
}

pub struct WorkbenchApp {
    prefs: Prefs,
    requests: SyncSender<Request>,
    replies: Receiver<Reply>,
    pub view: WorkspaceView,
    pub data: DataView,
    pub models: ModelsView,
    pub compare: CompareView,
    pub sim: SimView,
    /// What the worker is doing (the latest request), while requests are in flight.
    busy: Option<String>,
    /// Requests sent and not yet answered.
    pending: usize,
    /// Paths picked in file dialogs (each on its own thread).
    picked: (SyncSender<Picked>, Receiver<Picked>),
    ctx: egui::Context,
    error: Option<String>,
    launch: Launch,
    /// CPU time of each frame so far (milliseconds), when logged.
    frames: Vec<f32>,
    started: std::time::Instant,
    bench: Option<plot::Series>,
}

impl WorkbenchApp {
    pub fn new(cc: &eframe::CreationContext<'_>, start: Start, launch: Launch) -> Self {
        let prefs: Prefs = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        let remembered = prefs.last_workspace.clone().filter(|p| p.exists());
        let mut app = Self::with_context(cc.egui_ctx.clone(), prefs);
        if let Some(tab) = launch.view {
            app.prefs.tab = tab;
        }
        if let Some(p) = launch.scenario.clone() {
            app.load_scenario(p);
        }
        app.bench = launch.bench_points.map(plot::Series::walk);
        app.launch = launch;
        match start {
            Start::Demo => app.send(Request::OpenDemo),
            Start::Workspace(p) => app.send(Request::Open(p)),
            Start::Remembered => {
                if let Some(p) = remembered {
                    app.send(Request::Open(p));
                }
            }
        }
        app
    }

    fn with_context(ctx: egui::Context, prefs: Prefs) -> Self {
        let (req_tx, req_rx) = sync_channel(16);
        let (rep_tx, rep_rx) = sync_channel(16);
        worker::spawn(ctx.clone(), req_rx, rep_tx);
        let sim = SimView::new(prefs.scenario.clone(), prefs.seeds, prefs.days_per_second);
        Self {
            data: DataView::new(prefs.sql.clone()),
            models: ModelsView::new(prefs.train.clone()),
            compare: CompareView::default(),
            sim,
            prefs,
            requests: req_tx,
            replies: rep_rx,
            view: WorkspaceView::default(),
            busy: None,
            pending: 0,
            picked: sync_channel(4),
            ctx,
            error: None,
            launch: Launch::default(),
            frames: Vec::new(),
            started: std::time::Instant::now(),
            bench: None,
        }
    }

    /// An app with no stored preferences (tests).
    pub fn for_test(ctx: egui::Context, start: Start) -> Self {
        let mut app = Self::with_context(ctx, Prefs::default());
        match start {
            Start::Demo => app.send(Request::OpenDemo),
            Start::Workspace(p) => app.send(Request::Open(p)),
            Start::Remembered => {}
        }
        app
    }

    /// Whether a worker request, a training run or a simulation is under way.
    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
            || self.models.is_running()
            || self.sim.is_running()
            || self.data.is_running()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn tab(&self) -> Tab {
        self.prefs.tab
    }

    pub fn set_tab(&mut self, tab: Tab) {
        self.prefs.tab = tab;
        if matches!(tab, Tab::Models | Tab::Compare) && self.view.path.is_some() {
            self.send(Request::Runs);
        }
    }

    /// Imports a file into the open workspace with its recognized mapping.
    pub fn import(&mut self, file: PathBuf) {
        self.send(Request::Import {
            file,
            mapping: None,
        });
    }

    /// Recognizes a file and shows its mapping and first rows before importing (what
    /// "Import file…" and dropping a file do).
    pub fn preview(&mut self, file: PathBuf) {
        self.set_tab(Tab::Data);
        self.send(Request::Preview(file));
    }

    fn send(&mut self, req: Request) {
        let what = req.describe();
        if self.requests.try_send(req).is_err() {
            self.error = Some("the worker is still busy with earlier requests".into());
        } else {
            self.busy = Some(what);
            self.pending += 1;
        }
    }

    /// Applies the worker's replies (a handful per frame at most).
    fn drain_replies(&mut self) {
        for _ in 0..8 {
            let Ok(reply) = self.replies.try_recv() else {
                break;
            };
            self.pending = self.pending.saturating_sub(1);
            if self.pending == 0 {
                self.busy = None;
            }
            match reply {
                Reply::Opened {
                    path,
                    tables,
                    profile,
                    splits,
                } => {
                    self.prefs.last_workspace = Some(path.clone());
                    self.view.path = Some(path);
                    self.view.tables = tables;
                    self.view.profile = profile.map(|p| *p);
                    self.data.distributions = None;
                    self.view.splits = splits;
                    self.error = None;
                    self.send(Request::Runs);
                    if std::mem::take(&mut self.launch.run) {
                        match self.prefs.tab {
                            Tab::Data => self.run_sql(),
                            Tab::Models => self.start_training(),
                            Tab::Simulate => self.start_simulation(),
                            Tab::Compare => {}
                        }
                    }
                }
                Reply::Preview { file, preview } => self.data.preview = Some((file, *preview)),
                Reply::ImportStarted(job) => {
                    self.data.progress = 0.0;
                    self.data.rejects = None;
                    self.data.job = Some(job);
                }
                Reply::Rejects(r) => self.data.rejects = Some(r),
                Reply::Distributions(d) => self.data.distributions = Some(*d),
                Reply::Calibrated(c) => self.sim.calibration = Some(*c),
                Reply::Query(result) => self.data.result = Some(result),
                Reply::Exported(path) => {
                    self.data.note = Some(format!("wrote {}", path.display()));
                    self.sim.note = Some(format!("wrote {}", path.display()));
                }
                Reply::Runs(runs) => {
                    self.models.runs.clone_from(&runs);
                    self.compare.runs = runs;
                    // Compare opens on the latest finished runs (up to three).
                    if self.prefs.tab == Tab::Compare && self.compare.selected.is_empty() {
                        let latest: Vec<i64> = self
                            .compare
                            .runs
                            .iter()
                            .rev()
                            .filter(|r| r.status == "finished")
                            .take(3)
                            .map(|r| r.run_id)
                            .collect();
                        if !latest.is_empty() {
                            self.select_runs(&latest);
                        }
                    }
                }
                Reply::Curves(curves) => self.compare.curves = curves,
                Reply::Compared(c) => self.compare.comparison = Some(c),
                Reply::Recommended {
                    user,
                    lists,
                    bought_later,
                } => self.compare.recommendations = Some((user, lists, bought_later)),
                Reply::TrainStarted(job) => self.models.started(job),
                Reply::SimStarted(task) => self.sim.started(task),
                Reply::Failed(msg) => self.error = Some(msg),
            }
        }
        while let Ok((then, path)) = self.picked.1.try_recv() {
            match then {
                Then::Open => self.send(Request::Open(path)),
                Then::Import => self.preview(path),
                Then::Scenario => self.load_scenario(path),
                Then::ExportQuery(sql) => self.send(Request::ExportQuery { sql, path }),
                Then::Png { rect, done } => plot::save_png(&self.ctx, rect, path, done),
            }
        }
        if self.models.poll() {
            self.send(Request::Runs);
        }
        if let Some(e) = self.models.take_error() {
            self.error = Some(e);
        }
        if let Some(e) = self.sim.poll() {
            self.error = Some(e);
        }
        if let Some(report) = self.data.poll() {
            self.view.last_import = Some(report);
            // The tables and the profile changed.
            self.send(Request::Profile);
        }
        if let Some(e) = self.data.take_error() {
            self.error = Some(e);
        }
    }

    fn pick_file(&self, open_workspace: bool) {
        let dialog = if open_workspace {
            Dialog {
                title: "Open a ShopLab workspace",
                filter: Some(("DuckDB workspace", &["duckdb", "db"])),
                save_as: None,
            }
        } else {
            Dialog {
                title: "Import an export",
                filter: None,
                save_as: None,
            }
        };
        self.dialog(
            dialog,
            if open_workspace {
                Then::Open
            } else {
                Then::Import
            },
        );
    }

    /// Shows a file dialog on its own thread; what is picked is done with `then` in a
    /// later frame.
    pub(crate) fn dialog(&self, d: Dialog, then: Then) {
        let tx = self.picked.0.clone();
        std::thread::spawn(move || {
            let mut dialog = rfd::FileDialog::new().set_title(d.title);
            if let Some((name, extensions)) = d.filter {
                dialog = dialog.add_filter(name, extensions);
            }
            let picked = match d.save_as {
                Some(file) => dialog.set_file_name(file).save_file(),
                None => dialog.pick_file(),
            };
            if let Some(p) = picked {
                let _ = tx.send((then, p));
            }
        });
    }

    /// Keyboard shortcuts: Ctrl+O open, Ctrl+1…4 views, Ctrl+Enter run (the SQL, the
    /// training run, the scenario), Escape cancel the running job.
    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let pressed = |key: Key| {
            ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, key)))
        };
        if pressed(Key::O) {
            self.pick_file(true);
        }
        for (tab, _, key) in Tab::ALL {
            if pressed(key) {
                self.set_tab(tab);
            }
        }
        if self.view.path.is_some() && pressed(Key::Enter) {
            match self.prefs.tab {
                Tab::Data => self.run_sql(),
                Tab::Models => self.start_training(),
                Tab::Simulate => self.start_simulation(),
                Tab::Compare => {}
            }
        }
        if ctx.input(|i| i.key_pressed(Key::Escape)) {
            self.models.cancel();
            self.sim.stop();
        }
        // Files dropped on the window: a workspace opens, anything else is imported.
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for path in dropped {
            let is_workspace = path.extension().is_some_and(|e| e == "duckdb" || e == "db");
            if is_workspace {
                self.send(Request::Open(path));
            } else if self.view.path.is_some() {
                self.preview(path);
            }
        }
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("ShopLab");
            ui.separator();
            if ui
                .button("Open workspace…")
                .on_hover_text("Ctrl+O")
                .clicked()
            {
                self.pick_file(true);
            }
            if ui.button("Demo workspace").clicked() {
                self.send(Request::OpenDemo);
            }
            let open = self.view.path.is_some();
            if ui
                .add_enabled(
                    open && self.busy.is_none(),
                    egui::Button::new("Import file…"),
                )
                .on_hover_text("or drop a file on the window")
                .clicked()
            {
                self.pick_file(false);
            }
            ui.separator();
            if open {
                for (tab, name, _) in Tab::ALL {
                    if ui.selectable_label(self.prefs.tab == tab, name).clicked() {
                        self.set_tab(tab);
                    }
                }
                ui.separator();
            }
            if let Some(b) = &self.busy {
                ui.spinner();
                ui.label(b);
            } else if let Some(p) = &self.view.path {
                let name = p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().to_string(),
                );
                ui.label(name).on_hover_text(p.display().to_string());
            }
        });
        let mut dismiss = false;
        if let Some(e) = &self.error {
            egui::Frame::new()
                .fill(ui.visuals().extreme_bg_color)
                .inner_margin(6.0)
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.colored_label(ui.visuals().error_fg_color, format!("Error: {e}"));
                        dismiss = ui.small_button("Dismiss").clicked();
                    });
                });
        }
        if dismiss {
            self.error = None;
        }
    }

    fn first_run_ui(&mut self, ui: &mut egui::Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space(80.0);
            ui.heading("Welcome to ShopLab");
            ui.label("A workspace is one DuckDB file with your shop's events, items and splits.");
            ui.add_space(16.0);
            if ui.button("Open the demo workspace").clicked() {
                self.send(Request::OpenDemo);
            }
            if ui.button("Open a workspace file…").clicked() {
                self.pick_file(true);
            }
            ui.add_space(8.0);
            ui.weak("or drop a .duckdb file on this window");
        });
    }
}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_replies();
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if self.launch.frame_log.is_some()
            && let Some(cpu) = frame.info().cpu_usage
        {
            self.frames.push(1e3 * cpu);
            ui.ctx().request_repaint();
        }
        if self
            .launch
            .exit_after
            .is_some_and(|s| self.started.elapsed().as_secs_f64() > s)
        {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if let Some(series) = &mut self.bench {
            egui::CentralPanel::default_margins().show(ui, |ui| series.show(ui));
            return;
        }
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(path) = &self.launch.frame_log {
            let text: String = self.frames.iter().map(|ms| format!("{ms:.3}\n")).collect();
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("{}: {e}", path.display());
            }
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.prefs.sql.clone_from(&self.data.sql);
        self.prefs.train = self.models.form.clone();
        self.prefs.scenario.clone_from(&self.sim.path);
        self.prefs.seeds = self.sim.seeds;
        self.prefs.days_per_second = self.sim.days_per_second;
        eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
    }
}

impl WorkbenchApp {
    /// The whole window (also used by UI tests).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.drain_replies();
        self.shortcuts(&ui.ctx().clone());
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        if self.view.path.is_some() && self.prefs.tab == Tab::Data {
            egui::Panel::left("tables")
                .default_size(260.0)
                .show(ui, |ui| self.tables_ui(ui));
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if self.view.path.is_none() {
                self.first_run_ui(ui);
                return;
            }
            egui::ScrollArea::vertical().show(ui, |ui| match self.prefs.tab {
                Tab::Data => self.data_ui(ui),
                Tab::Models => self.models_ui(ui),
                Tab::Compare => self.compare_ui(ui),
                Tab::Simulate => self.simulate_ui(ui),
            });
        });
        if self.is_busy() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}
