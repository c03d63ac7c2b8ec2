//! The Simulate view: pick a scenario (the shipped ones, or any TOML file), edit it, run it
//! in batch or in real time, and watch conversion, revenue and margin per policy day by day
//! with 95% bands over the replicates (the three plots share their x-axis: zoom one, all
//! follow); the summary table with regret against the oracle; export the metrics to CSV.

mod calibration;
mod categories;
mod demand;
mod forms;
mod past;
mod plan;
mod sweep;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use egui_plot::{ColorConflictHandling, FilledArea, Legend, Line, Plot, PlotPoints};
use shoplab_engine::{LiveDay, ScenarioEvent as Event, SimReport, scenario_events};

use crate::chart::Exports;
use crate::dialog::{Dialog, Then};
use crate::figure::{Figure, Kind, Series};
use crate::plot;
use crate::prefs::Prefs;
use crate::view::{Cx, View, misrouted};
use crate::worker::{Reply, Request, SimEvent, SimTask};

/// A plotted daily metric: its name, and its mean and 95% interval on a day (`None`: the
/// policy has none).
type Metric = (&'static str, DayValue);
type DayValue = fn(&LiveDay) -> Option<(f64, [f64; 2])>;

const METRICS: [Metric; 5] = [
    ("conversion (%)", |d| {
        Some((100.0 * d.conversion, d.conversion_ci.map(|v| 100.0 * v)))
    }),
    ("revenue per day", |d| Some((d.revenue, d.revenue_ci))),
    ("margin per day", |d| Some((d.margin, d.margin_ci))),
    ("regret per day (oracle's margin less the policy's)", |d| {
        d.regret.zip(d.regret_ci)
    }),
    (
        "predicted vs realized conversion: squared error (points²)",
        |d| {
            d.squared_error
                .zip(d.squared_error_ci)
                .map(|(m, ci)| (1e4 * m, ci.map(|v| 1e4 * v)))
        },
    ),
];

pub struct SimView {
    /// The scenario file and its text (editable before running).
    pub path: Option<PathBuf>,
    pub text: String,
    pub seeds: u64,
    pub realtime: bool,
    /// Simulated days per second of wall time in real time.
    pub days_per_second: f64,
    pub task: Option<SimTask>,
    /// Per policy, its days so far (means and intervals over the replicates).
    pub days: BTreeMap<String, Vec<LiveDay>>,
    /// Policies in the scenario's order.
    pub order: Vec<String>,
    pub report: Option<SimReport>,
    /// Each policy's summary over the horizon, computed once the report arrives.
    pub summary: Vec<(String, Vec<(&'static str, shoplab_engine::Estimate)>)>,
    /// The scenario text's events and horizon, parsed again only when the text changes.
    timeline: Option<(Vec<Event>, u32)>,
    timeline_of: Option<String>,
    pub note: Option<String>,
    /// The day the plots mark (scrubbing).
    pub cursor: u32,
    /// The scenario's items (id, category, list price), and the one whose price is plotted.
    pub items: Vec<(String, String, f64)>,
    pub item: usize,
    /// The categories of those items, sorted (what the rules form offers).
    item_categories: Vec<String>,
    pub item_filter: String,
    pub png: plot::PngExport,
    pub exports: Exports,
    /// The last calibration made from this view.
    pub calibration: Option<shoplab_engine::CalibrationReport>,
    /// The run whose vectors give the affinities of a calibration (0: none).
    pub calibration_run: i64,
    /// The calibration's demand curves.
    pub demand: demand::DemandPanel,
    /// The A/B test planner.
    pub planner: plan::PlanPanel,
    /// A parameter swept.
    pub sweep: sweep::SweepPanel,
    /// The stored simulations.
    pub past: past::PastPanel,
    /// The policies and price rules as forms.
    pub form: forms::PolicyForm,
    /// The results by category.
    pub categories: categories::CategoryPanel,
    /// The sections asked for at launch (`policies`, `categories`), comma separated.
    pub section: Option<String>,
    /// Scroll to the results by category on the next frame.
    reveal_categories: bool,
}

/// The shipped scenarios: `scenarios/` next to the working directory or the binary.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("scenarios")];
    if let Ok(exe) = std::env::current_exe() {
        for up in exe.ancestors().skip(1).take(4) {
            dirs.push(up.join("scenarios"));
        }
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios"));
    for d in dirs {
        if let Ok(entries) = std::fs::read_dir(&d) {
            let mut v: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            if !v.is_empty() {
                v.sort();
                return v;
            }
        }
    }
    Vec::new()
}

impl View for SimView {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        self.refresh_timeline();
        self.scenario_ui(ui, cx);
        self.calibration_ui(ui, cx);
        egui::CollapsingHeader::new("demand curves of the calibrated shop")
            .default_open(self.demand.report.is_some())
            .show(ui, |ui| self.demand.ui(ui, cx, &self.exports));
        egui::CollapsingHeader::new("policies and price rules")
            .default_open(self.wants("policies"))
            .show(ui, |ui| {
                self.form.ui(ui, &mut self.text, &self.item_categories);
            });
        self.events_ui(ui, cx);
        egui::CollapsingHeader::new("scenario text (editable: policies, rules, events, horizon)")
            .default_open(false)
            .show(ui, |ui| {
                ui.add(
                    egui::TextEdit::multiline(&mut self.text)
                        .code_editor()
                        .desired_rows(12)
                        .desired_width(f32::INFINITY),
                );
            });
        egui::CollapsingHeader::new("past simulations: open, overlay")
            .default_open(self.past.sims.is_some())
            .show(ui, |ui| self.past.ui(ui, cx));
        egui::CollapsingHeader::new("sweep a parameter of the scenario")
            .default_open(self.sweep.report.is_some() || self.sweep.job.is_some())
            .open(std::mem::take(&mut self.sweep.reveal).then_some(true))
            .show(ui, |ui| self.sweep.ui(ui, cx, &self.exports, &self.text));
        egui::CollapsingHeader::new("plan an A/B test of two policies")
            .default_open(self.planner.plan.is_some())
            .show(ui, |ui| self.planner.ui(ui, cx, &self.exports, &self.text));
        self.controls_ui(ui, cx);
        if self.days.is_empty() {
            ui.weak("Run the scenario to see each policy's conversion, revenue and margin.");
            return;
        }
        let rect = ui
            .scope(|ui| {
                self.sim_plots_ui(ui, cx);
                self.price_trajectory_ui(ui, cx);
            })
            .response
            .rect;
        self.png.rect = Some(rect);
        self.sim_summary_ui(ui, cx);
        if self.report.is_some() {
            let header = egui::CollapsingHeader::new("results by category")
                .default_open(true)
                .show(ui, |ui| self.categories.ui(ui));
            if std::mem::take(&mut self.reveal_categories) {
                header.header_response.scroll_to_me(Some(egui::Align::Min));
            }
        }
    }

    fn on_reply(&mut self, reply: Reply, _cx: &mut Cx<'_>) {
        match reply {
            Reply::SimStarted(task) => {
                self.days.clear();
                self.order.clear();
                self.report = None;
                self.summary.clear();
                self.task = Some(task);
            }
            Reply::Calibrated(c) => self.calibration = Some(*c),
            Reply::Demand(d) => self.demand.take(*d),
            Reply::Planned(p) => self.planner.take(*p),
            Reply::SimSweepStarted(job) => self.sweep.start(job),
            Reply::Sims(sims) => self.past.sims = Some(sims),
            Reply::PastSim { past, overlay } => self.reopen(*past, overlay),
            Reply::Exported(path) => self.note = Some(format!("wrote {}", path.display())),
            _ => misrouted("the Simulate view"),
        }
    }

    /// Takes one event of the running simulation, or what the last PNG export did.
    fn poll(&mut self, cx: &mut Cx<'_>) -> bool {
        if self.exports.poll() {
            self.note = self.exports.note.clone();
            return true;
        }
        if let Some(n) = self.png.poll() {
            self.note = Some(n);
            return true;
        }
        if self.sweep.poll(cx) {
            return true;
        }
        let Some(event) = self.task.as_ref().and_then(|t| t.events.try_recv().ok()) else {
            return false;
        };
        self.take(event, cx);
        true
    }

    fn is_busy(&self) -> bool {
        self.task.is_some() || self.sweep.job.is_some()
    }

    fn run(&mut self, cx: &mut Cx<'_>) {
        match self.sweep.pending.take() {
            Some(sweep) => self.sweep.send(sweep, &self.text, cx),
            None => self.start_simulation(cx),
        }
    }

    fn cancel(&mut self) {
        if let Some(t) = &self.task {
            t.stop.store(true, Ordering::Relaxed);
        }
        if let Some(j) = &self.sweep.job {
            j.cancel();
        }
    }

    /// Loads a scenario file into the editor.
    fn load(&mut self, path: PathBuf, cx: &mut Cx<'_>) {
        match std::fs::read_to_string(&path) {
            Ok(t) => {
                self.text = t;
                self.path = Some(path);
            }
            Err(e) => cx.fail(format!("{}: {e}", path.display())),
        }
    }

    fn save(&self, prefs: &mut Prefs) {
        prefs.scenario.clone_from(&self.path);
        prefs.seeds = self.seeds;
        prefs.days_per_second = self.days_per_second;
    }
}

impl SimView {
    pub(crate) fn new(prefs: &Prefs) -> Self {
        let path = prefs
            .scenario
            .clone()
            .or_else(|| shipped_scenarios().into_iter().next());
        let text = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        SimView {
            path,
            text,
            seeds: if prefs.seeds == 0 { 10 } else { prefs.seeds },
            realtime: true,
            days_per_second: if prefs.days_per_second > 0.0 {
                prefs.days_per_second
            } else {
                10.0
            },
            task: None,
            days: BTreeMap::new(),
            order: Vec::new(),
            report: None,
            summary: Vec::new(),
            timeline: None,
            timeline_of: None,
            note: None,
            cursor: 0,
            items: Vec::new(),
            item: 0,
            item_categories: Vec::new(),
            item_filter: String::new(),
            png: plot::PngExport::default(),
            exports: Exports::default(),
            calibration: None,
            calibration_run: 0,
            demand: demand::DemandPanel::default(),
            planner: plan::PlanPanel::default(),
            sweep: sweep::SweepPanel::default(),
            past: past::PastPanel::default(),
            form: forms::PolicyForm::default(),
            categories: categories::CategoryPanel::default(),
            section: None,
            reveal_categories: false,
        }
    }

    /// Whether `section` was asked for at launch.
    fn wants(&self, section: &str) -> bool {
        self.section
            .as_deref()
            .is_some_and(|s| s.split(',').any(|p| p.trim() == section))
    }

    /// Parses the scenario's events when its text changed since the last frame.
    fn refresh_timeline(&mut self) {
        if self.timeline_of.as_deref() != Some(self.text.as_str()) {
            self.timeline = scenario_events(&self.text).ok();
            self.timeline_of = Some(self.text.clone());
        }
    }

    fn push(&mut self, d: LiveDay) {
        if !self.order.contains(&d.policy) {
            self.order.push(d.policy.clone());
        }
        self.cursor = self.cursor.max(d.day);
        self.days.entry(d.policy.clone()).or_default().push(d);
    }

    /// One event of the running simulation.
    fn take(&mut self, event: SimEvent, cx: &mut Cx<'_>) {
        match event {
            SimEvent::Items(items) => {
                let mut categories: Vec<String> = items.iter().map(|i| i.1.clone()).collect();
                categories.sort();
                categories.dedup();
                self.item_categories = categories;
                self.items = items;
                self.item = self.item.min(self.items.len().saturating_sub(1));
            }
            SimEvent::Day(d) => self.push(d),
            SimEvent::Done(result) => {
                self.task = None;
                match result {
                    Ok(report) => self.finished(report),
                    Err(e) => cx.fail(e),
                }
            }
        }
    }

    /// The simulation's result: batch runs stream nothing, their days come from it.
    fn finished(&mut self, report: SimReport) {
        if self.days.is_empty() {
            for run in &report.runs {
                for d in run.daily() {
                    self.push(d);
                }
            }
        }
        self.summary = report
            .runs
            .iter()
            .map(|r| (r.policy.clone(), r.summary()))
            .collect();
        self.categories.set(&report.runs, false);
        self.reveal_categories = self.wants("categories");
        self.report = Some(report);
    }

    /// A stored simulation: shown instead of what was (its scenario text too), or overlaid
    /// on it, its policies named "#id policy".
    fn reopen(&mut self, past: shoplab_engine::PastSimulation, overlay: bool) {
        let mut report = past.report;
        if overlay && self.report.is_some() {
            let id = report.sim_id;
            for run in &mut report.runs {
                run.policy = format!("#{id} {}", run.policy);
                for d in run.daily() {
                    self.push(d);
                }
                self.summary.push((run.policy.clone(), run.summary()));
            }
            self.categories.set(&report.runs, true);
            self.note = Some(format!(
                "simulation {id} overlaid: its policies are \"#{id} …\""
            ));
            return;
        }
        self.days.clear();
        self.order.clear();
        self.summary.clear();
        self.items.clear();
        self.item_categories.clear();
        self.text = past.scenario;
        self.note = Some(format!(
            "simulation {} reopened (item prices are not stored)",
            report.sim_id
        ));
        self.finished(report);
    }

    /// Runs the scenario as set (what "Run" and Ctrl+Enter do).
    fn start_simulation(&mut self, cx: &mut Cx<'_>) {
        if self.is_busy() {
            return;
        }
        self.note = None;
        let req = Request::Simulate {
            scenario: self.text.clone(),
            origin: self
                .path
                .as_ref()
                .map_or("scenario".into(), |p| p.display().to_string()),
            seeds: self.seeds.max(1),
            pace: self
                .realtime
                .then(|| Duration::from_secs_f64(1.0 / self.days_per_second.max(0.01))),
        };
        cx.send(req);
    }

    /// The scenario picker: the shipped ones, or any file.
    fn scenario_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        ui.horizontal(|ui| {
            let label = ui.heading("Scenario");
            let current = self
                .path
                .as_ref()
                .and_then(|p| p.file_name())
                .map_or("(none)".into(), |n| n.to_string_lossy().to_string());
            let mut pick = None;
            egui::ComboBox::from_id_salt("scenario")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for p in shipped_scenarios() {
                        let name = p
                            .file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .to_string();
                        if ui.selectable_label(false, name).clicked() {
                            pick = Some(p);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            if ui.button("Open…").clicked() {
                let dialog = Dialog {
                    title: "Open a scenario",
                    filter: Some(("scenario", &["toml"])),
                    save_as: None,
                };
                cx.dialog(dialog, Then::Load);
            }
            if let Some(p) = pick {
                self.load(p, cx);
            }
        });
    }

    /// Replicates, real time and its speed, Run and Stop.
    fn controls_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let running = self.is_busy();
        ui.horizontal(|ui| {
            ui.add(
                egui::DragValue::new(&mut self.seeds)
                    .range(1..=1_000)
                    .prefix("replicates "),
            );
            ui.checkbox(&mut self.realtime, "real time");
            ui.add_enabled(
                self.realtime,
                egui::Slider::new(&mut self.days_per_second, 0.5..=200.0)
                    .logarithmic(true)
                    .suffix(" days/s")
                    .text("speed"),
            );
            if ui
                .add_enabled(!running, egui::Button::new("Run"))
                .on_hover_text("Ctrl+Enter")
                .clicked()
            {
                self.start_simulation(cx);
            }
            if ui
                .add_enabled(running, egui::Button::new("Stop"))
                .on_hover_text("Escape: keeps the days so far")
                .clicked()
            {
                self.cancel();
            }
            if running {
                ui.spinner();
            }
        });
    }

    /// The days plotted: conversion, revenue and margin, then regret against the oracle and
    /// the squared error of the predicted conversion (policies that predict) where there are.
    fn sim_plots_ui(&mut self, ui: &mut egui::Ui, cx: &Cx<'_>) {
        let last = self
            .days
            .values()
            .flat_map(|v| v.last())
            .map(|d| d.day)
            .max()
            .unwrap_or(0);
        ui.add(
            egui::Slider::new(&mut self.cursor, 0..=last)
                .prefix("day ")
                .text("marked on the plots"),
        );
        let cursor = f64::from(self.cursor) + 1.0;
        let group = egui::Id::unique("sim_days");
        let metrics: Vec<Metric> = METRICS
            .iter()
            .copied()
            .filter(|(_, f)| self.days.values().flatten().any(|d| f(d).is_some()))
            .collect();
        let width = ui.available_width() as usize;
        // Each event's days, shaded on every plot (from the scenario text).
        let spans: Vec<(f64, f64)> = self
            .timeline
            .as_ref()
            .map(|(events, days)| {
                let days = *days;
                events
                    .iter()
                    .map(|e| {
                        let until = e.until.unwrap_or(days.saturating_sub(1));
                        (f64::from(e.day) + 0.5, f64::from(until) + 1.5)
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (name, f) in metrics {
            // The shaded spans cover the series' range.
            let (mut y_low, mut y_high) = (f64::INFINITY, f64::NEG_INFINITY);
            for d in self.days.values().flatten() {
                if let Some((_, ci)) = f(d) {
                    y_low = y_low.min(ci[0]);
                    y_high = y_high.max(ci[1]);
                }
            }
            ui.horizontal(|ui| {
                ui.label(name);
                self.exports
                    .menu_with(ui, cx, &stem(name), || self.day_figure(name, f));
            });
            Plot::new(name)
                .height(200.0)
                .legend(
                    Legend::default()
                        .follow_insertion_order(true)
                        .color_conflict_handling(ColorConflictHandling::PickFirst),
                )
                .link_axis(group, [true, false])
                .link_cursor(group, [true, false])
                .show(ui, |p| {
                    for (i, policy) in self.order.iter().enumerate() {
                        let (mut xs, mut lo, mut hi, mut mean) =
                            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                        for d in &self.days[policy] {
                            let Some((m, ci)) = f(d) else { continue };
                            let x = f64::from(d.day) + 1.0;
                            xs.push(x);
                            mean.push([x, m]);
                            lo.push(ci[0]);
                            hi.push(ci[1]);
                        }
                        if xs.is_empty() {
                            continue;
                        }
                        let color = plot::color(i);
                        // The line first: the legend takes its color; the band shares its
                        // name, so a legend click hides both.
                        p.line(
                            Line::new(
                                policy.clone(),
                                PlotPoints::new(plot::decimate(&mean, width)),
                            )
                            .color(color),
                        );
                        if xs.len() > 1 {
                            p.add(
                                FilledArea::new(policy.clone(), &xs, &lo, &hi)
                                    .fill_color(color.gamma_multiply(0.25)),
                            );
                        }
                    }
                    for (k, (from, to)) in spans.iter().enumerate() {
                        p.add(
                            egui_plot::Polygon::new(
                                format!("event {}", k + 1),
                                PlotPoints::new(vec![
                                    [*from, y_low],
                                    [*to, y_low],
                                    [*to, y_high],
                                    [*from, y_high],
                                ]),
                            )
                            .fill_color(egui::Color32::from_white_alpha(12))
                            .stroke(egui::Stroke::NONE),
                        );
                    }
                    p.vline(egui_plot::VLine::new("", cursor).color(egui::Color32::GRAY));
                });
        }
    }

    /// One item's price day by day under each policy (the first replicate's prices: what
    /// the policy set, promos included), against its list price.
    /// A metric's days under each policy as a figure (mean and 95% interval per day).
    fn day_figure(&self, name: &str, f: DayValue) -> Figure {
        let series = self
            .order
            .iter()
            .enumerate()
            .filter_map(|(i, policy)| {
                let days: Vec<(f64, (f64, [f64; 2]))> = self.days[policy]
                    .iter()
                    .filter_map(|d| Some((f64::from(d.day) + 1.0, f(d)?)))
                    .collect();
                (!days.is_empty()).then(|| Series {
                    name: policy.clone(),
                    kind: Kind::Line,
                    points: days.iter().map(|(x, (m, _))| [*x, *m]).collect(),
                    intervals: days.iter().map(|(_, (_, ci))| *ci).collect(),
                    color: i,
                })
            })
            .collect();
        Figure {
            title: format!("{name}: mean over replicates with its 95% interval, per policy"),
            x_label: "day".into(),
            y_label: name.into(),
            x_ticks: Vec::new(),
            series,
        }
    }

    fn price_trajectory_ui(&mut self, ui: &mut egui::Ui, cx: &Cx<'_>) {
        let sim = self;
        if sim.items.is_empty()
            || sim
                .days
                .values()
                .all(|d| d.iter().all(|x| x.prices.is_empty()))
        {
            return;
        }
        ui.horizontal(|ui| {
            let label = ui.label("price of item");
            ui.add(
                egui::TextEdit::singleline(&mut sim.item_filter)
                    .hint_text("filter by id or category")
                    .desired_width(160.0),
            );
            let (id, category, _) = &sim.items[sim.item];
            let filter = sim.item_filter.to_lowercase();
            let mut chosen = sim.item;
            egui::ComboBox::from_id_salt("item")
                .selected_text(format!("{id} ({category})"))
                .show_ui(ui, |ui| {
                    for (k, (id, category, _)) in sim.items.iter().enumerate() {
                        let text = format!("{id} ({category})");
                        if (filter.is_empty() || text.to_lowercase().contains(&filter))
                            && ui.selectable_label(k == chosen, text).clicked()
                        {
                            chosen = k;
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            sim.item = chosen;
        });
        let item = sim.item;
        let list = sim.items[item].2;
        let id = sim.items[item].0.clone();
        sim.exports.menu_with(ui, cx, &format!("price-{id}"), || {
            let mut series: Vec<Series> = sim
                .order
                .iter()
                .enumerate()
                .map(|(i, policy)| Series {
                    name: policy.clone(),
                    kind: Kind::Line,
                    points: sim.days[policy]
                        .iter()
                        .filter_map(|d| {
                            Some([f64::from(d.day) + 1.0, f64::from(*d.prices.get(item)?)])
                        })
                        .collect(),
                    intervals: Vec::new(),
                    color: i,
                })
                .collect();
            let last = series
                .iter()
                .flat_map(|s| s.points.last())
                .map(|p| p[0])
                .fold(1.0, f64::max);
            series.push(Series {
                name: "list price".into(),
                kind: Kind::Line,
                points: vec![[1.0, list], [last, list]],
                intervals: Vec::new(),
                color: 9,
            });
            Figure {
                title: format!("price of item {id} per day (first replicate), by policy"),
                x_label: "day".into(),
                y_label: "price".into(),
                x_ticks: Vec::new(),
                series,
            }
        });
        let group = egui::Id::unique("sim_days");
        let cursor = f64::from(sim.cursor) + 1.0;
        Plot::new("item_price")
            .height(180.0)
            .legend(Legend::default().follow_insertion_order(true))
            .link_axis(group, [true, false])
            .link_cursor(group, [true, false])
            .show(ui, |p| {
                for (i, policy) in sim.order.iter().enumerate() {
                    let pts: Vec<[f64; 2]> = sim.days[policy]
                        .iter()
                        .filter_map(|d| {
                            Some([f64::from(d.day) + 1.0, f64::from(*d.prices.get(item)?)])
                        })
                        .collect();
                    p.line(Line::new(policy.clone(), PlotPoints::new(pts)).color(plot::color(i)));
                }
                p.hline(egui_plot::HLine::new("list price", list).color(egui::Color32::GRAY));
                p.vline(egui_plot::VLine::new("", cursor).color(egui::Color32::GRAY));
            });
    }

    fn sim_summary_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let Some(report) = &self.report else {
            return;
        };
        ui.add_space(8.0);
        ui.heading(format!(
            "Simulation {}: {} ({} replicates)",
            report.sim_id,
            report.name,
            report.runs.first().map_or(0, |r| r.replicates.len())
        ));
        egui::Grid::new("sim_summary").striped(true).show(ui, |ui| {
            for h in [
                "policy",
                "conversion",
                "revenue (95% CI)",
                "margin (95% CI)",
                "regret vs oracle",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for (policy, s) in &self.summary {
                let get = |m: &str| s.iter().find(|x| x.0 == m).map(|x| x.1);
                ui.label(policy);
                ui.label(
                    get("conversion").map_or("-".into(), |e| format!("{:.2}%", 100.0 * e.mean)),
                );
                for m in ["revenue", "margin"] {
                    ui.label(get(m).map_or("-".into(), |e| {
                        format!("{:.0} [{:.0}, {:.0}]", e.mean, e.low, e.high)
                    }));
                }
                ui.label(get("regret").map_or("-".into(), |e| format!("{:.0}", e.mean)));
                ui.end_row();
            }
        });
        let sim_id = report.sim_id;
        ui.horizontal(|ui| {
            if ui.button("Export metrics CSV…").clicked() {
                let dialog = Dialog {
                    title: "Export the simulation's metrics",
                    filter: Some(("CSV", &["csv"])),
                    save_as: Some(format!("simulation-{sim_id}.csv")),
                };
                let sql = format!(
                    "SELECT * FROM sim_metrics WHERE sim_id = {sim_id} ORDER BY policy, replicate, day, metric"
                );
                cx.dialog(dialog, Then::ExportQuery(sql));
            }
            if ui.button("Save plots as PNG…").clicked()
                && let Some(then) = self.png.then()
            {
                let dialog = Dialog {
                    title: "Save the plots",
                    filter: Some(("PNG image", &["png"])),
                    save_as: Some(format!("simulation-{sim_id}.png")),
                };
                cx.dialog(dialog, then);
            }
            if let Some(n) = &self.note {
                ui.label(n);
            }
        });
    }
}

/// A file name stem from a plot's name (`revenue per day` → `revenue-per-day`).
fn stem(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}
