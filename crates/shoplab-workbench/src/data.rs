//! The Data view: the workspace's tables and splits, the last import and its rejects, the
//! profile charts, and an SQL console whose results can be written to CSV or Parquet.

use std::path::{Path, PathBuf};

use egui_plot::{Bar, BarChart, Plot};
use shoplab_engine::{
    Column, Distributions, ImportPreview, ImportReport, Job, JobEvent, Mapping, Parse, Profile,
    QueryResult, Reject,
};

use crate::chart::Exports;
use crate::dialog::{Dialog, Then};
use crate::figure::{Figure, Kind, Series};
use crate::prefs::Prefs;
use crate::spark::SparkPanel;
use crate::view::{Cx, News, Polled, View, misrouted, poll_job};
use crate::worker::{QUERY_ROWS, Reply, Request};

/// The Data view's state: the import being previewed or run, and the SQL console.
#[derive(Default)]
pub struct DataView {
    pub sql: String,
    pub result: Option<QueryResult>,
    pub note: Option<String>,
    /// A file recognized and shown before importing (its mapping editable).
    pub preview: Option<(PathBuf, ImportPreview)>,
    pub job: Option<Job<ImportReport>>,
    pub progress: f64,
    /// The last import's rejected rows, when asked for.
    pub rejects: Option<Vec<Reject>>,
    /// The profile's histograms (asked for when the profile is shown).
    pub distributions: Option<Distributions>,
    asked_distributions: bool,
    pub exports: Exports,
    /// Steps on a Spark cluster.
    pub spark: SparkPanel,
}

const PARSES: [(Parse, &str); 6] = [
    (Parse::Text, "text"),
    (Parse::Id, "id"),
    (Parse::Number, "number"),
    (Parse::Money, "money"),
    (Parse::Timestamp, "timestamp"),
    (Parse::EventType, "event type"),
];

impl View for DataView {
    /// The tables, splits and last import, on the left.
    fn panels_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        egui::Panel::left("tables")
            .default_size(260.0)
            .show(ui, |ui| self.tables_ui(ui, cx));
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        self.import_ui(ui, cx);
        self.spark.ui(ui, cx);
        if let Some(p) = &cx.workspace.profile {
            profile_ui(ui, p, &self.exports, cx);
            if let Some(d) = &self.distributions {
                distributions_ui(ui, d, &self.exports, cx);
            }
            if self.distributions.is_none() && !self.asked_distributions {
                self.asked_distributions = true;
                cx.send(Request::Distributions);
            }
        } else {
            ui.label("No profile yet: import events, then refresh the profile.");
        }
        if ui.button("Refresh profile").clicked() {
            self.asked_distributions = false;
            cx.send_workspace(Request::Profile);
        }
        ui.add_space(12.0);
        self.sql_ui(ui, cx);
    }

    fn on_reply(&mut self, reply: Reply, _cx: &mut Cx<'_>) {
        match reply {
            Reply::Preview { file, preview } => self.preview = Some((file, *preview)),
            Reply::ImportStarted(job) => {
                self.progress = 0.0;
                self.rejects = None;
                self.job = Some(job);
            }
            Reply::Rejects(r) => self.rejects = Some(r),
            Reply::SparkStarted(job) => self.spark.started(job),
            Reply::Distributions(d) => self.distributions = Some(*d),
            Reply::Query(result) => self.result = Some(result),
            Reply::Exported(path) => self.note = Some(format!("wrote {}", path.display())),
            _ => misrouted("the Data view"),
        }
    }

    fn on_news(&mut self, news: &News<'_>, _cx: &mut Cx<'_>) {
        match news {
            News::Opened => self.distributions = None,
            News::Runs(_) => {}
        }
    }

    /// Takes the import job's progress; once it ended, its report (the tables and the
    /// profile changed: they are read again).
    fn poll(&mut self, cx: &mut Cx<'_>) -> bool {
        if self.spark.poll(cx) {
            return true;
        }
        if self.exports.poll() {
            self.note = self.exports.note.clone();
            return true;
        }
        match poll_job(&mut self.job) {
            Polled::Quiet => false,
            Polled::Event(e) => {
                if let JobEvent::Progress(f) = e {
                    self.progress = f;
                }
                true
            }
            Polled::Ended(Ok(report)) => {
                cx.workspace.last_import = Some(report);
                cx.send_workspace(Request::Profile);
                true
            }
            Polled::Ended(Err(e)) => {
                cx.fail(e.to_string());
                true
            }
        }
    }

    fn is_busy(&self) -> bool {
        self.job.is_some() || self.spark.is_busy()
    }

    fn run(&mut self, cx: &mut Cx<'_>) {
        if !self.spark.run(cx) {
            self.run_sql(cx);
        }
    }

    fn save(&self, prefs: &mut Prefs) {
        prefs.sql.clone_from(&self.sql);
        self.spark.save(prefs);
    }
}

impl DataView {
    pub(crate) fn new(prefs: &Prefs) -> Self {
        DataView {
            sql: if prefs.sql.is_empty() {
                "SELECT event_type, count(*) AS events FROM events GROUP BY ALL ORDER BY 2 DESC"
                    .into()
            } else {
                prefs.sql.clone()
            },
            spark: SparkPanel::new(prefs),
            ..Default::default()
        }
    }

    /// Runs the console's SQL (what "Run" and Ctrl+Enter do).
    fn run_sql(&mut self, cx: &mut Cx<'_>) {
        self.note = None;
        cx.send(Request::Query(self.sql.clone()));
    }

    /// Imports the previewed file with its (edited) mapping.
    fn import_previewed(&mut self, cx: &mut Cx<'_>) {
        if let Some((file, preview)) = self.preview.take() {
            cx.send(Request::Import {
                file,
                mapping: Some(Box::new(preview.mapping)),
            });
        }
    }

    /// The running import's progress, the file being previewed (recognized format,
    /// editable mapping, first rows), and the last import with its rejected rows.
    fn import_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        if let Some(job) = &self.job {
            ui.horizontal(|ui| {
                ui.label(&job.name);
                ui.add(egui::ProgressBar::new(self.progress as f32).show_percentage());
                if ui.button("Cancel").clicked() {
                    job.cancel();
                }
            });
        }
        let mut action = None;
        if let Some((file, preview)) = &mut self.preview {
            egui::Frame::group(ui.style()).show(ui, |ui| action = preview_ui(ui, file, preview));
        }
        match action {
            Some(true) => self.import_previewed(cx),
            Some(false) => self.preview = None,
            None => {}
        }
        if let Some(r) = &cx.workspace.last_import
            && last_import_ui(ui, r)
        {
            cx.send(Request::Rejects(r.import_id));
        }
        if let Some(rejects) = &self.rejects {
            rejects_ui(ui, rejects);
        }
    }

    fn sql_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let label = ui.heading("SQL");
        ui.add(
            egui::TextEdit::multiline(&mut self.sql)
                .code_editor()
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        ui.horizontal(|ui| {
            if ui.button("Run").on_hover_text("Ctrl+Enter").clicked() {
                self.run_sql(cx);
            }
            for (label, ext) in [("Export CSV…", "csv"), ("Export Parquet…", "parquet")] {
                if ui.button(label).clicked() {
                    let dialog = Dialog {
                        title: "Export the query's result",
                        filter: None,
                        save_as: Some(format!("query.{ext}")),
                    };
                    cx.dialog(dialog, Then::ExportQuery(self.sql.clone()));
                }
            }
            if let Some(n) = &self.note {
                ui.label(n);
            }
        });
        if let Some(r) = &self.result {
            query_result_ui(ui, r);
        }
    }

    /// The tables (a click shows a table's first rows in the console), the splits, and the
    /// last import.
    fn tables_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        ui.heading("Tables");
        let mut browse = None;
        egui::Grid::new("tables").striped(true).show(ui, |ui| {
            for t in &cx.workspace.tables {
                if ui
                    .link(&t.table)
                    .on_hover_text("show its first rows in the SQL console")
                    .clicked()
                {
                    browse = Some(t.table.clone());
                }
                ui.label(t.rows.to_string());
                ui.end_row();
            }
        });
        if let Some(table) = browse {
            self.sql = format!("SELECT * FROM {table} LIMIT 200");
            self.run_sql(cx);
        }
        if !cx.workspace.splits.is_empty() {
            ui.add_space(12.0);
            ui.heading("Splits");
            egui::Grid::new("splits").striped(true).show(ui, |ui| {
                for s in &cx.workspace.splits {
                    ui.label(&s.name);
                    ui.label(&s.strategy);
                    ui.label(format!("{} / {} / {}", s.n_train, s.n_valid, s.n_test));
                    ui.end_row();
                }
            });
        }
        if let Some(r) = &cx.workspace.last_import {
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
}

/// A file recognized before importing: its format, its mapping (editable) and its first
/// rows; `Some(true)` when "Import" is clicked, `Some(false)` for "Cancel".
fn preview_ui(ui: &mut egui::Ui, file: &Path, preview: &mut ImportPreview) -> Option<bool> {
    let m = &mut preview.mapping;
    ui.heading(format!(
        "Import {}",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    ui.label(if m.format == "custom" {
        format!(
            "not a known export: say which of the file's columns fills each column of {} (* required)",
            m.target.table()
        )
    } else {
        format!(
            "recognized: {} into table {} ({} encoding); check the columns, then import",
            m.format,
            m.target.table(),
            preview.encoding
        )
    });
    mapping_ui(ui, m, &preview.columns);
    ui.label(format!(
        "first {} rows of the file",
        preview.sample.len().min(8)
    ));
    egui::ScrollArea::horizontal()
        .id_salt("sample")
        .show(ui, |ui| {
            egui::Grid::new("sample").striped(true).show(ui, |ui| {
                for c in &preview.columns {
                    ui.strong(c);
                }
                ui.end_row();
                for row in preview.sample.iter().take(8) {
                    for cell in row {
                        ui.label(cell.as_deref().unwrap_or(""));
                    }
                    ui.end_row();
                }
            });
        });
    let mut action = None;
    ui.horizontal(|ui| {
        if ui.button("Import").clicked() {
            action = Some(true);
        }
        if ui.button("Cancel").clicked() {
            action = Some(false);
        }
    });
    action
}

/// Each column of the target table: which of the file's columns (`sources`) fills it,
/// read as what, in which format.
fn mapping_ui(ui: &mut egui::Ui, m: &mut Mapping, sources: &[String]) {
    egui::Grid::new("mapping").striped(true).show(ui, |ui| {
        for h in ["column", "from the file's column", "read as", "format"] {
            ui.strong(h);
        }
        ui.end_row();
        for (name, required) in m.target.columns() {
            let col = m.columns.entry((*name).to_string()).or_default();
            ui.label(if *required {
                format!("{name} *")
            } else {
                (*name).to_string()
            });
            column_ui(ui, name, col, sources);
            ui.end_row();
        }
    });
    m.columns
        .retain(|_, c: &mut Column| c.source.is_some() || c.value.is_some());
}

/// One mapped column's source, parse and format cells.
fn column_ui(ui: &mut egui::Ui, name: &str, col: &mut Column, sources: &[String]) {
    let shown = match (&col.source, &col.value) {
        (Some(s), _) => s.clone(),
        (None, Some(v)) => format!("= {v}"),
        (None, None) => "(none)".into(),
    };
    egui::ComboBox::from_id_salt(("source", name))
        .selected_text(shown)
        .show_ui(ui, |ui| {
            if ui
                .selectable_label(col.source.is_none(), "(none)")
                .clicked()
            {
                col.source = None;
            }
            for s in sources {
                let on = col.source.as_deref() == Some(s.as_str());
                if ui.selectable_label(on, s).clicked() {
                    col.source = Some(s.clone());
                    col.value = None;
                }
            }
        });
    let parse_name = PARSES
        .iter()
        .find(|p| p.0 == col.parse)
        .map_or("text", |p| p.1);
    egui::ComboBox::from_id_salt(("parse", name))
        .selected_text(parse_name)
        .show_ui(ui, |ui| {
            for (p, label) in PARSES {
                ui.selectable_value(&mut col.parse, p, label);
            }
        });
    if col.parse == Parse::Timestamp {
        let mut f = col.format.clone().unwrap_or_default();
        if ui
            .add(egui::TextEdit::singleline(&mut f).hint_text("iso"))
            .changed()
        {
            col.format = (!f.is_empty()).then_some(f);
        }
    } else {
        ui.label("");
    }
}

/// The last import in a line; true when its rejected rows are asked for.
fn last_import_ui(ui: &mut egui::Ui, r: &ImportReport) -> bool {
    let text = format!(
        "last import: {} into {}: read {}, loaded {}, rejected {}, duplicates {} ({:.1} s){}",
        r.file.file_name().unwrap_or_default().to_string_lossy(),
        r.target.table(),
        r.rows_read,
        r.rows_loaded,
        r.rows_rejected,
        r.rows_duplicate,
        r.seconds,
        if r.already_imported {
            "; already imported, nothing loaded"
        } else {
            ""
        }
    );
    let mut show = false;
    ui.horizontal(|ui| {
        ui.label(text);
        show = r.rows_rejected > 0 && ui.button("Rejected rows").clicked();
    });
    show
}

fn rejects_ui(ui: &mut egui::Ui, rejects: &[Reject]) {
    egui::CollapsingHeader::new(format!("{} rejected rows", rejects.len()))
        .default_open(true)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("rejects")
                .max_height(240.0)
                .show(ui, |ui| {
                    egui::Grid::new("rejects").striped(true).show(ui, |ui| {
                        for h in ["line", "column", "reason", "row"] {
                            ui.strong(h);
                        }
                        ui.end_row();
                        for r in rejects {
                            ui.label(r.line.map_or("-".into(), |l| l.to_string()));
                            ui.label(r.column.as_deref().unwrap_or("-"));
                            ui.label(&r.reason);
                            ui.label(r.raw.as_deref().unwrap_or(""));
                            ui.end_row();
                        }
                    });
                });
        });
}

/// A query's result: its row count and its first 200 rows.
fn query_result_ui(ui: &mut egui::Ui, r: &QueryResult) {
    ui.label(format!(
        "{} rows{}",
        r.rows.len(),
        if r.rows.len() >= QUERY_ROWS {
            " (the first ones; export for all)"
        } else {
            ""
        }
    ));
    egui::ScrollArea::horizontal().show(ui, |ui| {
        egui::Grid::new("sql_result").striped(true).show(ui, |ui| {
            for c in &r.columns {
                ui.strong(c);
            }
            ui.end_row();
            for row in r.rows.iter().take(200) {
                for cell in row {
                    ui.label(cell);
                }
                ui.end_row();
            }
        });
    });
}

/// The profile's summary, events by type, the funnel and prices by category.
fn profile_ui(ui: &mut egui::Ui, p: &Profile, ex: &Exports, cx: &Cx<'_>) {
    ui.heading("Profile");
    egui::Grid::new("summary").num_columns(2).show(ui, |ui| {
        let mut row = |k: &str, v: String| {
            ui.label(k);
            ui.strong(v);
            ui.end_row();
        };
        if let Some(on) = &p.computed_on {
            row("computed on", on.clone());
        }
        row("events", p.events.to_string());
        row("users", p.users.to_string());
        // The catalog is the workspace's: a profile computed on a cluster counts the log only.
        let items = match p.computed_on {
            Some(_) => p.items.to_string(),
            None => format!("{} (catalog {})", p.items, p.catalog_items),
        };
        row("items", items);
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
    charts_ui(ui, p, ex, cx);
    prices_ui(ui, p);
}

/// Named bars (x = their index) as a figure.
fn bars_figure(title: &str, x: &str, y: &str, bars: &[(String, f64)]) -> Figure {
    Figure {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        x_ticks: bars.iter().map(|b| b.0.clone()).collect(),
        series: vec![Series {
            name: y.into(),
            kind: Kind::Bars,
            points: bars
                .iter()
                .enumerate()
                .map(|(i, b)| [i as f64, b.1])
                .collect(),
            intervals: Vec::new(),
            color: 0,
        }],
    }
}

/// Events by type and the funnel, side by side.
fn charts_ui(ui: &mut egui::Ui, p: &Profile, ex: &Exports, cx: &Cx<'_>) {
    ui.add_space(8.0);
    ui.columns(2, |cols| {
        cols[0].horizontal(|ui| {
            ui.label("Events by type");
            ex.menu_with(ui, cx, "events-by-type", || {
                let bars: Vec<(String, f64)> = p
                    .by_type
                    .iter()
                    .map(|t| (t.event_type.clone(), t.events as f64))
                    .collect();
                bars_figure("Events by type", "event type", "events", &bars)
            });
        });
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
        let f = &p.funnel;
        cols[1].horizontal(|ui| {
            ui.label("Funnel (user–item pairs)");
            ex.menu_with(ui, cx, "funnel", || {
                let bars = [
                    ("viewed".to_string(), f.viewed_pairs as f64),
                    ("carted".to_string(), f.carted_pairs as f64),
                    ("purchased".to_string(), f.purchased_pairs as f64),
                ];
                bars_figure(
                    "Funnel (user–item pairs)",
                    "stage",
                    "user–item pairs",
                    &bars,
                )
            });
        });
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
}

/// List prices by category (the first 15).
fn prices_ui(ui: &mut egui::Ui, p: &Profile) {
    if p.price_by_category.is_empty() {
        return;
    }
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

/// Activity (users and items by their number of events, log2 bins) and list prices per
/// category (log bins, a line per category; click the legend to hide one).
fn distributions_ui(ui: &mut egui::Ui, d: &Distributions, ex: &Exports, cx: &Cx<'_>) {
    use egui_plot::{Legend, Line, PlotPoints};
    ui.add_space(8.0);
    ui.columns(2, |cols| {
        cols[0].horizontal(|ui| {
            ui.label("Activity: users and items by number of events");
            ex.menu_with(ui, cx, "activity", || activity_figure(d));
        });
        let bars = |name: &str, bins: &[(i32, u64)], offset: f64, i: usize| {
            BarChart::new(
                name.to_string(),
                bins.iter()
                    .map(|&(k, n)| Bar::new(f64::from(k) + offset, n as f64).width(0.4))
                    .collect(),
            )
            .color(crate::plot::color(i))
        };
        Plot::new("activity")
            .height(220.0)
            .allow_scroll(false)
            .legend(Legend::default())
            .x_axis_formatter(|mark, _| {
                let k = mark.value.round();
                if (mark.value - k).abs() < 1e-6 && k >= 0.0 {
                    format!("{}+", 2f64.powf(k))
                } else {
                    String::new()
                }
            })
            .show(&mut cols[0], |p| {
                p.bar_chart(bars("users", &d.events_per_user, -0.2, 0));
                p.bar_chart(bars("items", &d.events_per_item, 0.2, 1));
            });
        cols[1].horizontal(|ui| {
            ui.label("List prices by category (items per price band)");
            ex.menu_with(ui, cx, "prices-by-category", || prices_figure(d));
        });
        Plot::new("prices")
            .height(220.0)
            .allow_scroll(false)
            .legend(Legend::default())
            .x_axis_formatter(|mark, _| {
                let k = mark.value.round();
                if (mark.value - k).abs() < 1e-6 && (k as i64) % 4 == 0 {
                    format!("{}", 10f64.powf(k / 4.0))
                } else {
                    String::new()
                }
            })
            .show(&mut cols[1], |p| {
                for (i, (category, bins)) in d.prices.iter().enumerate() {
                    let pts: Vec<[f64; 2]> = bins
                        .iter()
                        .map(|&(k, n)| [f64::from(k) + 0.5, n as f64])
                        .collect();
                    p.line(
                        Line::new(category.clone(), PlotPoints::new(pts))
                            .color(crate::plot::color(i)),
                    );
                }
            });
    });
}

/// Users and items by their number of events (log2 bins, named by their lower end).
fn activity_figure(d: &Distributions) -> Figure {
    let top = d
        .events_per_user
        .iter()
        .chain(&d.events_per_item)
        .map(|b| b.0)
        .max()
        .unwrap_or(0)
        .max(0);
    let series = |name: &str, bins: &[(i32, u64)], color| Series {
        name: name.into(),
        kind: Kind::Points,
        points: bins
            .iter()
            .map(|&(k, n)| [f64::from(k), n as f64])
            .collect(),
        intervals: Vec::new(),
        color,
    };
    Figure {
        title: "Activity: users and items by number of events".into(),
        x_label: "events (at least)".into(),
        y_label: "users or items".into(),
        x_ticks: (0..=top).map(|k| format!("{}+", 1u64 << k)).collect(),
        series: vec![
            series("users", &d.events_per_user, 0),
            series("items", &d.events_per_item, 1),
        ],
    }
}

/// Items per list-price band (quarter decades), a line per category.
fn prices_figure(d: &Distributions) -> Figure {
    Figure {
        title: "List prices by category (items per price band)".into(),
        x_label: "list price band: 4 × log10(price)".into(),
        y_label: "items".into(),
        x_ticks: Vec::new(),
        series: d
            .prices
            .iter()
            .enumerate()
            .map(|(i, (category, bins))| Series {
                name: category.clone(),
                kind: Kind::Line,
                points: bins
                    .iter()
                    .map(|&(k, n)| [f64::from(k) + 0.5, n as f64])
                    .collect(),
                intervals: Vec::new(),
                color: i,
            })
            .collect(),
    }
}
