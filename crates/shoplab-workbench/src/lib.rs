//! The analyst workbench (eframe/egui): open a workspace, see its tables and profile,
//! import files. The UI thread never touches DuckDB: a worker thread owns the session and
//! answers over bounded channels.

mod worker;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use egui_plot::{Bar, BarChart, Plot};
use shoplab_engine::{ImportReport, Profile, SplitSummary, TableCount};

pub use worker::{Reply, Request};

/// What to open at start.
#[derive(Debug, Clone)]
pub enum Start {
    Demo,
    Workspace(PathBuf),
    /// The workspace of the last session, if any; else the first-run screen.
    Remembered,
}

/// UI preferences that survive restarts.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Prefs {
    last_workspace: Option<PathBuf>,
}

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
    busy: Option<String>,
    error: Option<String>,
}

impl WorkbenchApp {
    pub fn new(cc: &eframe::CreationContext<'_>, start: Start) -> Self {
        let prefs: Prefs = cc
            .storage
            .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
            .unwrap_or_default();
        let mut app = Self::with_context(cc.egui_ctx.clone(), prefs);
        match start {
            Start::Demo => app.send(Request::OpenDemo),
            Start::Workspace(p) => app.send(Request::Open(p)),
            Start::Remembered => {
                if let Some(p) = app.prefs.last_workspace.clone().filter(|p| p.exists()) {
                    app.send(Request::Open(p));
                }
            }
        }
        app
    }

    fn with_context(ctx: egui::Context, prefs: Prefs) -> Self {
        let (req_tx, req_rx) = sync_channel(16);
        let (rep_tx, rep_rx) = sync_channel(16);
        worker::spawn(ctx, req_rx, rep_tx);
        Self {
            prefs,
            requests: req_tx,
            replies: rep_rx,
            view: WorkspaceView::default(),
            busy: None,
            error: None,
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

    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Imports a file into the open workspace (what "Import file…" does once a file is picked).
    pub fn import(&mut self, file: PathBuf) {
        self.send(Request::Import(file));
    }

    fn send(&mut self, req: Request) {
        self.busy = Some(req.describe());
        if self.requests.try_send(req).is_err() {
            self.busy = None;
            self.error = Some("the worker is still busy with earlier requests".into());
        }
    }

    /// Applies the worker's replies (a handful per frame at most).
    fn drain_replies(&mut self) {
        for _ in 0..8 {
            let Ok(reply) = self.replies.try_recv() else {
                break;
            };
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
                    self.view.profile = profile;
                    self.view.splits = splits;
                    self.busy = None;
                    self.error = None;
                }
                Reply::Imported {
                    report,
                    tables,
                    profile,
                } => {
                    self.view.tables = tables;
                    self.view.profile = Some(profile);
                    self.view.last_import = Some(*report);
                    self.busy = None;
                    self.error = None;
                }
                Reply::Failed(msg) => {
                    self.busy = None;
                    self.error = Some(msg);
                }
            }
        }
    }

    fn pick_file(&self, open_workspace: bool) {
        let tx = self.requests.clone();
        std::thread::spawn(move || {
            let dialog = rfd::FileDialog::new();
            let picked = if open_workspace {
                dialog
                    .set_title("Open a ShopLab workspace")
                    .add_filter("DuckDB workspace", &["duckdb", "db"])
                    .pick_file()
            } else {
                dialog.set_title("Import an export").pick_file()
            };
            if let Some(p) = picked {
                let _ = tx.send(if open_workspace {
                    Request::Open(p)
                } else {
                    Request::Import(p)
                });
            }
        });
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("ShopLab");
            ui.separator();
            if ui.button("Open workspace…").clicked() {
                self.pick_file(true);
            }
            if ui.button("Demo workspace").clicked() {
                self.send(Request::OpenDemo);
            }
            let can_import = self.view.path.is_some() && self.busy.is_none();
            if ui
                .add_enabled(can_import, egui::Button::new("Import file…"))
                .clicked()
            {
                self.pick_file(false);
            }
            if ui
                .add_enabled(can_import, egui::Button::new("Refresh profile"))
                .clicked()
            {
                self.send(Request::Profile);
            }
            ui.separator();
            if let Some(b) = &self.busy {
                ui.spinner();
                ui.label(b);
            } else if let Some(p) = &self.view.path {
                ui.label(p.display().to_string());
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    }

    fn tables_ui(&self, ui: &mut egui::Ui) {
        ui.heading("Tables");
        egui::Grid::new("tables").striped(true).show(ui, |ui| {
            for t in &self.view.tables {
                ui.label(&t.table);
                ui.label(t.rows.to_string());
                ui.end_row();
            }
        });
        if !self.view.splits.is_empty() {
            ui.add_space(12.0);
            ui.heading("Splits");
            egui::Grid::new("splits").striped(true).show(ui, |ui| {
                for s in &self.view.splits {
                    ui.label(&s.name);
                    ui.label(&s.strategy);
                    ui.label(format!("{} / {} / {}", s.n_train, s.n_valid, s.n_test));
                    ui.end_row();
                }
            });
        }
        if let Some(r) = &self.view.last_import {
            ui.add_space(12.0);
            ui.heading("Last import");
            ui.label(format!("{} -> {}", r.format, r.target.table()));
            ui.label(format!(
                "read {}  loaded {}  rejected {}",
                r.rows_read, r.rows_loaded, r.rows_rejected
            ));
            for rej in r.rejects.iter().take(5) {
                ui.small(format!("line {}: {}", rej.line.unwrap_or(0), rej.reason));
            }
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
        });
    }

    fn profile_ui(&self, ui: &mut egui::Ui, p: &Profile) {
        ui.heading("Profile");
        egui::Grid::new("summary").num_columns(2).show(ui, |ui| {
            let mut row = |k: &str, v: String| {
                ui.label(k);
                ui.strong(v);
                ui.end_row();
            };
            row("events", p.events.to_string());
            row("users", p.users.to_string());
            row(
                "items",
                format!("{} (catalog {})", p.items, p.catalog_items),
            );
            row("sessions", p.sessions.to_string());
            row(
                "time range",
                format!(
                    "{} … {} ({:.1} days)",
                    p.first_event.as_deref().unwrap_or("-"),
                    p.last_event.as_deref().unwrap_or("-"),
                    p.days
                ),
            );
            if let Some(s) = p.sparsity {
                row("sparsity", format!("{:.4} %", s * 100.0));
            }
            if let Some(m) = p.rating_mean {
                row("mean rating", format!("{m:.3}"));
            }
        });
        ui.add_space(8.0);
        ui.columns(2, |cols| {
            cols[0].label("Events by type");
            let bars: Vec<Bar> = p
                .by_type
                .iter()
                .enumerate()
                .map(|(i, t)| Bar::new(i as f64, t.events as f64).name(&t.event_type))
                .collect();
            let names: Vec<String> = p.by_type.iter().map(|t| t.event_type.clone()).collect();
            Plot::new("by_type")
                .height(220.0)
                .allow_scroll(false)
                .x_axis_formatter(move |mark, _range| {
                    let i = mark.value.round();
                    if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                        names.get(i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .show(&mut cols[0], |plot| {
                    plot.bar_chart(BarChart::new("events", bars))
                });
            cols[1].label("Funnel (user–item pairs)");
            let f = &p.funnel;
            let stages = [
                ("viewed", f.viewed_pairs),
                ("carted", f.carted_pairs),
                ("purchased", f.purchased_pairs),
            ];
            let bars: Vec<Bar> = stages
                .iter()
                .enumerate()
                .map(|(i, (n, v))| Bar::new(i as f64, *v as f64).name(*n))
                .collect();
            Plot::new("funnel")
                .height(220.0)
                .allow_scroll(false)
                .x_axis_formatter(move |mark, _range| {
                    let i = mark.value.round();
                    if (mark.value - i).abs() < 1e-6 && (0.0..3.0).contains(&i) {
                        stages[i as usize].0.to_string()
                    } else {
                        String::new()
                    }
                })
                .show(&mut cols[1], |plot| {
                    plot.bar_chart(BarChart::new("pairs", bars))
                });
            let pct = |x: Option<f64>| {
                x.map(|v| format!("{:.2} %", v * 100.0))
                    .unwrap_or_else(|| "-".into())
            };
            cols[1].label(format!(
                "view->cart {}   cart->purchase {}   view->purchase {}",
                pct(f.view_to_cart),
                pct(f.cart_to_purchase),
                pct(f.view_to_purchase)
            ));
        });
        if !p.price_by_category.is_empty() {
            ui.add_space(8.0);
            ui.label("Prices by category");
            egui::Grid::new("prices").striped(true).show(ui, |ui| {
                for h in ["category", "items", "min", "median", "mean", "max"] {
                    ui.strong(h);
                }
                ui.end_row();
                for c in p.price_by_category.iter().take(15) {
                    ui.label(&c.category);
                    ui.label(c.items.to_string());
                    for v in [c.min, c.p50, c.mean, c.max] {
                        ui.label(format!("{v:.2}"));
                    }
                    ui.end_row();
                }
            });
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_replies();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
    }
}

impl WorkbenchApp {
    /// The whole window (also used by UI tests).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.drain_replies();
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        if self.view.path.is_some() {
            egui::Panel::left("tables")
                .default_size(260.0)
                .show(ui, |ui| self.tables_ui(ui));
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if self.view.path.is_none() {
                self.first_run_ui(ui);
            } else if let Some(p) = self.view.profile.clone() {
                egui::ScrollArea::vertical().show(ui, |ui| self.profile_ui(ui, &p));
            } else {
                ui.label("No profile yet: import events, then refresh the profile.");
            }
        });
        if self.busy.is_some() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}
