//! The app: the toolbar, the tab bar and the error line around the views; the worker's
//! answers and picked files routed to the view that asked; the frame's one drain of every
//! channel under a time budget; shortcuts; preferences.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};

use crate::chart;
use crate::compare::CompareView;
use crate::data::DataView;
use crate::dialog::{Dialog, Picked, Then};
use crate::models::ModelsView;
use crate::plot;
use crate::prefs::Prefs;
use crate::simulate::SimView;
use crate::tab::Tab;
use crate::view::{Asker, Cx, News, Shell, View, WorkspaceView, misrouted};
use crate::worker::{self, Answer, Reply, Request};

/// How long a frame may spend taking in messages (worker answers, job events, picked
/// files) before it draws; what is left waits for the next frame, which is asked for.
const DRAIN_BUDGET: Duration = Duration::from_millis(10);

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
    /// The Compare view's filter at start.
    pub filter: Option<String>,
    /// The Compare view's one open section at start.
    pub section: Option<String>,
    /// A run the Compare view looks inside once the runs are read.
    pub inspect: Option<i64>,
    /// Write each frame's CPU time (milliseconds, one a line) to this file on exit.
    pub frame_log: Option<PathBuf>,
    /// Close the window after this many seconds.
    pub exit_after: Option<f64>,
    /// The plotting benchmark: draw a series of this many points instead of the views.
    pub bench_points: Option<usize>,
    /// The Simulate view's sweep, started by `run` instead of the scenario.
    pub sweep: Option<shoplab_engine::ParamSweep>,
    /// The Data view's Spark endpoint and lake path (its panel open; with `run`, the
    /// profile is computed there).
    pub spark: Option<(String, String)>,
}

pub struct WorkbenchApp {
    pub view: WorkspaceView,
    pub data: DataView,
    pub models: ModelsView,
    pub compare: CompareView,
    pub sim: SimView,
    shell: Shell,
    prefs: Prefs,
    answers: Receiver<Answer<Asker>>,
    /// Paths picked in file dialogs (each on its own thread).
    picked: Receiver<Picked>,
    ctx: egui::Context,
    launch: Launch,
    /// CPU time of each frame so far (milliseconds), when logged.
    frames: Vec<f32>,
    started: Instant,
    bench: Option<plot::Series>,
    /// This frame's channels were drained already (by `logic`, before `show`).
    drained: bool,
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
        if let Some(f) = launch.filter.clone() {
            app.compare.filter = f;
        }
        app.compare.section.clone_from(&launch.section);
        app.sim.section.clone_from(&launch.section);
        app.compare.inspect_pending = launch.inspect;
        if let Some((remote, data)) = launch.spark.clone() {
            app.data.spark.remote = remote;
            app.data.spark.data = data;
            app.data.spark.open = true;
        }
        if let Some(p) = launch.scenario.clone() {
            app.load(Tab::Simulate, p);
        }
        app.bench = launch.bench_points.map(plot::Series::walk);
        app.sim.sweep.pending.clone_from(&launch.sweep);
        app.launch = launch;
        app.start(match start {
            Start::Remembered => remembered.map_or(Start::Remembered, Start::Workspace),
            other => other,
        });
        app
    }

    fn with_context(ctx: egui::Context, prefs: Prefs) -> Self {
        let (req_tx, req_rx) = sync_channel(16);
        let (answer_tx, answer_rx) = sync_channel(16);
        let (picked_tx, picked_rx) = sync_channel(4);
        worker::spawn(ctx.clone(), req_rx, answer_tx);
        Self {
            view: WorkspaceView::default(),
            data: DataView::new(&prefs),
            models: ModelsView::new(&prefs),
            compare: CompareView::default(),
            sim: SimView::new(&prefs),
            shell: Shell::new(req_tx, picked_tx),
            prefs,
            answers: answer_rx,
            picked: picked_rx,
            ctx,
            launch: Launch::default(),
            frames: Vec::new(),
            started: Instant::now(),
            bench: None,
            drained: false,
        }
    }

    /// An app with no stored preferences (tests).
    pub fn for_test(ctx: egui::Context, start: Start) -> Self {
        let mut app = Self::with_context(ctx, Prefs::default());
        app.start(start);
        app
    }

    fn start(&mut self, start: Start) {
        match start {
            Start::Demo => self.shell.send(Asker::App, Request::OpenDemo),
            Start::Workspace(p) => self.shell.send(Asker::App, Request::Open(p)),
            Start::Remembered => {}
        }
    }

    /// The view `tab`, and the context it works in.
    fn view_cx(&mut self, tab: Tab) -> (&mut dyn View, Cx<'_>) {
        let view: &mut dyn View = match tab {
            Tab::Data => &mut self.data,
            Tab::Models => &mut self.models,
            Tab::Compare => &mut self.compare,
            Tab::Simulate => &mut self.sim,
        };
        let cx = Cx::new(tab, self.prefs.tab, &mut self.view, &mut self.shell);
        (view, cx)
    }

    fn view(&self, tab: Tab) -> &dyn View {
        match tab {
            Tab::Data => &self.data,
            Tab::Models => &self.models,
            Tab::Compare => &self.compare,
            Tab::Simulate => &self.sim,
        }
    }

    /// Whether a worker request, or a job of any view, is under way.
    pub fn is_busy(&self) -> bool {
        self.shell.busy().is_some() || Tab::all().any(|tab| self.view(tab).is_busy())
    }

    pub fn error(&self) -> Option<&str> {
        self.shell.error.as_deref()
    }

    pub fn tab(&self) -> Tab {
        self.prefs.tab
    }

    pub fn set_tab(&mut self, tab: Tab) {
        self.prefs.tab = tab;
        if self.view.path.is_some() {
            let (view, mut cx) = self.view_cx(tab);
            view.on_show(&mut cx);
        }
    }

    /// Imports a file into the open workspace with its recognized mapping.
    pub fn import(&mut self, file: PathBuf) {
        let req = Request::Import {
            file,
            mapping: None,
        };
        self.shell.send(Asker::View(Tab::Data), req);
    }

    /// Recognizes a file and shows its mapping and first rows before importing (what
    /// "Import file…" and dropping a file do).
    pub fn preview(&mut self, file: PathBuf) {
        self.set_tab(Tab::Data);
        self.shell
            .send(Asker::View(Tab::Data), Request::Preview(file));
    }

    /// Selects `runs` for comparison and asks for their curves (what ticking them does).
    pub fn select_runs(&mut self, runs: &[i64]) {
        let mut cx = Cx::new(
            Tab::Compare,
            self.prefs.tab,
            &mut self.view,
            &mut self.shell,
        );
        self.compare.select_runs(runs, &mut cx);
    }

    /// Brushes axis `axis` of the Compare view's parallel coordinates over `[low, high]`
    /// (0–1 units), as dragging along it does: the shown runs inside every brush are selected.
    pub fn brush(&mut self, axis: usize, low: f64, high: f64) {
        let mut cx = Cx::new(
            Tab::Compare,
            self.prefs.tab,
            &mut self.view,
            &mut self.shell,
        );
        self.compare.brush(axis, low, high, &mut cx);
    }

    /// Hands a file to view `tab` (a scenario to the Simulate view).
    fn load(&mut self, tab: Tab, path: PathBuf) {
        let (view, mut cx) = self.view_cx(tab);
        view.load(path, &mut cx);
    }

    /// Every view hears `news`.
    fn tell_all(&mut self, news: &News<'_>) {
        for tab in Tab::all() {
            let (view, mut cx) = self.view_cx(tab);
            view.on_news(news, &mut cx);
        }
    }

    /// Takes in what arrived since the last frame: the worker's answers, picked files, and
    /// each view's job events, one of each in turn, until nothing is left or the frame's
    /// budget is spent (then the next frame is asked for at once).
    fn drain(&mut self) {
        let start = Instant::now();
        loop {
            let mut took = self.take_answer();
            took |= self.take_picked();
            for tab in Tab::all() {
                let (view, mut cx) = self.view_cx(tab);
                took |= view.poll(&mut cx);
            }
            if !took {
                return;
            }
            if start.elapsed() >= DRAIN_BUDGET {
                self.ctx.request_repaint();
                return;
            }
        }
    }

    /// Hands one answer of the worker to whoever asked; false when there was none.
    fn take_answer(&mut self) -> bool {
        let Ok(Answer { to, reply }) = self.answers.try_recv() else {
            return false;
        };
        self.shell.answered();
        match (to, reply) {
            (_, Err(message)) => self.shell.error = Some(message),
            (Asker::App, Ok(reply)) => self.on_reply(reply),
            (Asker::View(tab), Ok(reply)) => {
                let (view, mut cx) = self.view_cx(tab);
                view.on_reply(reply, &mut cx);
            }
        }
        true
    }

    /// The answers to the app's own requests: workspace-wide facts.
    fn on_reply(&mut self, reply: Reply) {
        match reply {
            Reply::Opened {
                path,
                tables,
                profile,
                splits,
                migrated,
            } => {
                self.view.migrated = migrated;
                self.prefs.last_workspace = Some(path.clone());
                self.view.path = Some(path);
                self.view.tables = tables;
                self.view.profile = profile.map(|p| *p);
                self.view.splits = splits;
                self.tell_all(&News::Opened);
                self.shell.error = None;
                self.shell.send(Asker::App, Request::Runs);
                if std::mem::take(&mut self.launch.run) {
                    let (view, mut cx) = self.view_cx(self.prefs.tab);
                    view.run(&mut cx);
                }
            }
            Reply::Runs(runs) => self.tell_all(&News::Runs(&runs)),
            _ => misrouted("the app"),
        }
    }

    /// Does what was asked with one picked file; false when there was none.
    fn take_picked(&mut self) -> bool {
        let Ok(Picked { tab, then, path }) = self.picked.try_recv() else {
            return false;
        };
        match then {
            Then::Open => self.shell.send(Asker::App, Request::Open(path)),
            Then::Import => self.preview(path),
            Then::Load => self.load(tab, path),
            Then::ExportQuery(sql) => self
                .shell
                .send(Asker::View(tab), Request::ExportQuery { sql, path }),
            Then::Png { rect, done } => plot::save_png(&self.ctx, rect, path, done),
            Then::Figure { figure, done } => chart::save(figure, path, done, self.ctx.clone()),
        }
        true
    }

    fn pick_file(&self, open_workspace: bool) {
        let (dialog, then) = if open_workspace {
            let dialog = Dialog {
                title: "Open a ShopLab workspace",
                filter: Some(("DuckDB workspace", &["duckdb", "db"])),
                save_as: None,
            };
            (dialog, Then::Open)
        } else {
            let dialog = Dialog {
                title: "Import an export",
                filter: None,
                save_as: None,
            };
            (dialog, Then::Import)
        };
        self.shell.dialog(self.prefs.tab, dialog, then);
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
        for tab in Tab::all() {
            if pressed(tab.key()) {
                self.set_tab(tab);
            }
        }
        if self.view.path.is_some() && pressed(Key::Enter) {
            let (view, mut cx) = self.view_cx(self.prefs.tab);
            view.run(&mut cx);
        }
        if ctx.input(|i| i.key_pressed(Key::Escape)) {
            for tab in Tab::all() {
                self.view_cx(tab).0.cancel();
            }
        }
        self.dropped_files(ctx);
    }

    /// Files dropped on the window: a workspace opens, anything else is imported.
    fn dropped_files(&mut self, ctx: &egui::Context) {
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
                self.shell.send(Asker::App, Request::Open(path));
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
                self.shell.send(Asker::App, Request::OpenDemo);
            }
            let open = self.view.path.is_some();
            if ui
                .add_enabled(
                    open && self.shell.busy().is_none(),
                    egui::Button::new("Import file…"),
                )
                .on_hover_text("or drop a file on the window")
                .clicked()
            {
                self.pick_file(false);
            }
            ui.separator();
            if open {
                self.tabs_ui(ui);
                ui.separator();
            }
            self.status_ui(ui);
        });
        self.error_ui(ui);
    }

    fn tabs_ui(&mut self, ui: &mut egui::Ui) {
        for tab in Tab::all() {
            if ui
                .selectable_label(self.prefs.tab == tab, tab.name())
                .clicked()
            {
                self.set_tab(tab);
            }
        }
    }

    /// What the worker is doing, else the open workspace's file name.
    fn status_ui(&self, ui: &mut egui::Ui) {
        if let Some(b) = self.shell.busy() {
            ui.spinner();
            ui.label(b);
        } else if let Some(p) = &self.view.path {
            let name = p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().to_string(),
            );
            ui.label(name).on_hover_text(p.display().to_string());
            if let Some(m) = &self.view.migrated {
                ui.weak(m);
            }
        }
    }

    fn error_ui(&mut self, ui: &mut egui::Ui) {
        let mut dismiss = false;
        if let Some(e) = &self.shell.error {
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
            self.shell.error = None;
        }
    }

    fn first_run_ui(&mut self, ui: &mut egui::Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space(80.0);
            ui.heading("Welcome to ShopLab");
            ui.label("A workspace is one DuckDB file with your shop's events, items and splits.");
            ui.add_space(16.0);
            if ui.button("Open the demo workspace").clicked() {
                self.shell.send(Asker::App, Request::OpenDemo);
            }
            if ui.button("Open a workspace file…").clicked() {
                self.pick_file(true);
            }
            ui.add_space(8.0);
            ui.weak("or drop a .duckdb file on this window");
        });
    }

    /// The whole window (also used by UI tests, which call only this: it drains the
    /// channels unless `logic` did this frame).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if !std::mem::take(&mut self.drained) {
            self.drain();
        }
        self.shortcuts(&ui.ctx().clone());
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        let shown = self.prefs.tab;
        if self.view.path.is_some() {
            let (view, mut cx) = self.view_cx(shown);
            view.panels_ui(ui, &mut cx);
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if self.view.path.is_none() {
                self.first_run_ui(ui);
                return;
            }
            egui::ScrollArea::vertical().show(ui, |ui| {
                let (view, mut cx) = self.view_cx(shown);
                view.ui(ui, &mut cx);
            });
        });
        if self.is_busy() {
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
    }
}

impl eframe::App for WorkbenchApp {
    /// Also called while the window is hidden, so jobs keep being drained.
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain();
        self.drained = true;
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
        let mut prefs = std::mem::take(&mut self.prefs);
        for tab in Tab::all() {
            self.view(tab).save(&mut prefs);
        }
        eframe::set_value(storage, eframe::APP_KEY, &prefs);
        self.prefs = prefs;
    }
}
