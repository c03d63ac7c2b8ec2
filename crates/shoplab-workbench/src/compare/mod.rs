//! The Compare view, an experiment tracker over the workspace's runs: the runs table
//! (filter by words and `#tags`, sort, select; tags and a note per run, editable), any
//! metric the runs have, the selected runs' loss and validation curves with their best and
//! last epochs, the test metric per run or per group (mean ± 95% interval, N), the
//! parameters (all, or only those that differ), a paired test of two runs, their top-K
//! side by side, parallel coordinates over the shown runs with brushing that selects runs,
//! and each parameter's importance for the metric. Every plot exports as SVG, PNG and CSV.

mod derived;
mod inside;
mod parallel;
mod table;

use std::collections::BTreeSet;
use std::rc::Rc;

use shoplab_engine::{Comparison, Inspection, Measure, RunSummary, lower_is_better};

pub use derived::{Derived, Grouping};

use egui_extras::{Column, TableBuilder};

use crate::chart::{self, Exports};
use crate::figure::Figure;
use crate::view::{Cx, News, View, misrouted};
use crate::worker::{Curve, Reply, Request};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    Run,
    Model,
    Metric,
}

/// One user's top-K per run: the user, each run's (item, score) list, the user's test items.
pub type SideBySide = (String, Vec<(i64, Vec<(String, f32)>)>, Vec<String>);

pub struct CompareView {
    pub runs: Vec<RunSummary>,
    pub selected: BTreeSet<i64>,
    pub filter: String,
    pub sort: SortBy,
    pub metric: String,
    pub grouping: Grouping,
    /// The parameters table shows only the parameters that differ.
    pub differences_only: bool,
    pub curves: Vec<Curve>,
    pub comparison: Option<Comparison>,
    /// The run whose tags and note are being edited, with the text being edited.
    pub editing: Option<(i64, String, String)>,
    /// Brushes on the parallel-coordinates axes: (axis, low, high) in 0–1 units.
    pub brushes: Vec<(usize, f64, f64)>,
    /// A brush being dragged: (axis, start, current).
    pub dragging: Option<(usize, f64, f64)>,
    pub user: String,
    pub k: usize,
    /// The user, each run's list, and the user's test items.
    pub recommendations: Option<SideBySide>,
    pub exports: Exports,
    /// The run looked inside, and its figures (with their file stems).
    pub inside: Option<(Inspection, Vec<(String, Figure)>)>,
    /// What is drawn, computed again when the runs, filter, metric, grouping or selection
    /// change (not every frame).
    derived: Option<Rc<Derived>>,
    /// The runs with their parameters read, once per read of the runs.
    parsed: Vec<shoplab_engine::RunParams>,
    /// The loss and validation figures of the curves, drawn from them once.
    curve_figures: Option<Rc<(Figure, Figure)>>,
    /// The sorted rows (indices into `runs`), with the derived data.
    order: Vec<usize>,
    /// Compare was asked to run before the runs were read.
    run_pending: bool,
    /// The sections open at start (`--section`, comma separated); all when none is given.
    pub section: Option<String>,
    /// A run to look inside once the runs are read (`--inspect`).
    pub inspect_pending: Option<i64>,
}

impl Default for CompareView {
    fn default() -> Self {
        CompareView {
            runs: Vec::new(),
            selected: BTreeSet::new(),
            filter: String::new(),
            sort: SortBy::default(),
            metric: "ndcg@10".into(),
            grouping: Grouping::None,
            differences_only: true,
            curves: Vec::new(),
            comparison: None,
            editing: None,
            brushes: Vec::new(),
            dragging: None,
            user: String::new(),
            k: 10,
            recommendations: None,
            exports: Exports::default(),
            inside: None,
            derived: None,
            curve_figures: None,
            parsed: Vec::new(),
            order: Vec::new(),
            run_pending: false,
            section: None,
            inspect_pending: None,
        }
    }
}

impl CompareView {
    /// What is drawn, computed now if something changed since.
    pub fn derived(&mut self) -> Rc<Derived> {
        if self.derived.is_none() {
            let d = Derived::new(
                &self.runs,
                &self.parsed,
                &self.filter,
                &self.metric,
                &self.grouping,
                &self.selected,
                self.differences_only,
            );
            self.order = self.sorted(&d.shown);
            self.derived = Some(Rc::new(d));
        }
        self.derived.clone().expect("computed above")
    }

    /// The loss and validation figures of the selected runs' curves (grouped as chosen).
    fn curve_figures(&mut self) -> Rc<(Figure, Figure)> {
        if self.curve_figures.is_none() {
            let d = self.derived();
            let groups = (self.grouping != Grouping::None).then_some(d.groups.as_slice());
            self.curve_figures = Some(Rc::new((
                derived::epoch_figure(&self.curves, groups, false),
                derived::epoch_figure(&self.curves, groups, true),
            )));
        }
        self.curve_figures.clone().expect("computed above")
    }

    /// Whether section `name` starts open: every section, or only those asked for (a
    /// comma-separated list of words in their names).
    fn opens(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.section.as_deref().is_none_or(|s| {
            s.split(',')
                .any(|w| !w.trim().is_empty() && name.contains(&w.trim().to_lowercase()))
        })
    }

    /// Something the derived data depends on changed.
    fn changed(&mut self) {
        self.derived = None;
        self.curve_figures = None;
    }

    fn sorted(&self, shown: &[usize]) -> Vec<usize> {
        let mut v = shown.to_vec();
        let metric = |i: usize| shoplab_engine::run_metric(&self.runs[i], &self.metric);
        match self.sort {
            SortBy::Run => v.sort_by_key(|&i| self.runs[i].run_id),
            SortBy::Model => v.sort_by(|&a, &b| {
                (&self.runs[a].model, self.runs[a].run_id)
                    .cmp(&(&self.runs[b].model, self.runs[b].run_id))
            }),
            SortBy::Metric => {
                let lower = lower_is_better(&self.metric);
                v.sort_by(|&a, &b| {
                    let key = |i| metric(i).map_or(f64::INFINITY, |x| if lower { x } else { -x });
                    key(a).total_cmp(&key(b))
                })
            }
        }
        v
    }

    /// Selects `runs` for comparison and asks for their curves (what ticking them does).
    pub(crate) fn select_runs(&mut self, runs: &[i64], cx: &mut Cx<'_>) {
        self.selected = runs.iter().copied().collect();
        self.request_curves(cx);
    }

    fn request_curves(&mut self, cx: &mut Cx<'_>) {
        self.changed();
        let runs: Vec<i64> = self.selected.iter().copied().collect();
        let metric = self.metric.clone();
        self.comparison = None;
        cx.send(Request::Curves { runs, metric });
    }

    /// The tags and note being edited, saved (the runs are read again for every view).
    fn save_edit(&mut self, cx: &mut Cx<'_>) {
        let Some((run, tags, note)) = self.editing.take() else {
            return;
        };
        let tags: Vec<String> = tags
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        cx.send_workspace(Request::Tag { run, tags, note });
    }
}

impl View for CompareView {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        self.derived();
        self.toolbar_ui(ui, cx);
        if self.runs.is_empty() {
            ui.weak("No runs yet: train some in the Models view.");
            return;
        }
        egui::ScrollArea::vertical()
            .id_salt("compare_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if self.table_ui(ui) {
                    self.request_curves(cx);
                }
                self.editor_ui(ui, cx);
                if let Some(n) = &self.exports.note {
                    ui.label(n);
                }
                if self.selected.is_empty() {
                    ui.weak("Tick runs (or brush the parallel coordinates below) to compare them.");
                } else {
                    self.selected_ui(ui, cx);
                }
                ui.add_space(8.0);
                egui::CollapsingHeader::new("Inside a run")
                    .default_open(self.opens("Inside a run"))
                    .show(ui, |ui| self.inside_ui(ui, cx));
                egui::CollapsingHeader::new("Parallel coordinates")
                    .default_open(self.opens("Parallel coordinates"))
                    .show(ui, |ui| self.parallel_ui(ui, cx));
                egui::CollapsingHeader::new("Parameter importance")
                    .default_open(self.opens("Parameter importance"))
                    .show(ui, |ui| self.importance_ui(ui, cx));
            });
    }

    fn on_reply(&mut self, reply: Reply, _cx: &mut Cx<'_>) {
        match reply {
            Reply::Curves(curves) => {
                self.curves = curves;
                self.curve_figures = None;
            }
            Reply::Compared(c) => self.comparison = Some(c),
            Reply::Recommended {
                user,
                lists,
                bought_later,
            } => self.recommendations = Some((user, lists, bought_later)),
            Reply::Inspected(i) => {
                let figs = inside::figures(&i);
                self.inside = Some((*i, figs));
            }
            _ => misrouted("the Compare view"),
        }
    }

    /// The runs, read again; the view opens on the latest finished runs (up to three).
    fn on_news(&mut self, news: &News<'_>, cx: &mut Cx<'_>) {
        let News::Runs(runs) = news else {
            return;
        };
        self.runs = runs.to_vec();
        self.parsed = self
            .runs
            .iter()
            .map(shoplab_engine::RunParams::of)
            .collect();
        self.changed();
        let metrics = shoplab_engine::metric_names(&self.runs);
        if !metrics.is_empty() && !metrics.contains(&self.metric) {
            self.metric = metrics[0].clone();
        }
        if let Some(run) = self.inspect_pending.take() {
            cx.send(Request::Inspect(run));
        }
        if std::mem::take(&mut self.run_pending) {
            self.run(cx);
            return;
        }
        if cx.shown == cx.tab && self.selected.is_empty() {
            let latest: Vec<i64> = self
                .runs
                .iter()
                .rev()
                .filter(|r| r.status == "finished")
                .take(3)
                .map(|r| r.run_id)
                .collect();
            if !latest.is_empty() {
                self.select_runs(&latest, cx);
            }
        }
    }

    /// What the last export did.
    fn poll(&mut self, _cx: &mut Cx<'_>) -> bool {
        self.exports.poll()
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        cx.send_workspace(Request::Runs);
    }

    /// Compares the shown runs: all selected, grouped over seeds (Ctrl+Enter, `--run`).
    fn run(&mut self, cx: &mut Cx<'_>) {
        if self.runs.is_empty() {
            // Asked before the runs were read (`--run`): done when they arrive.
            self.run_pending = true;
            return;
        }
        self.derived();
        let shown: Vec<i64> = self.order.iter().map(|&i| self.runs[i].run_id).collect();
        self.grouping = Grouping::Replicates;
        self.select_runs(&shown, cx);
    }
}

impl CompareView {
    /// Filter, tags, metric, grouping.
    fn toolbar_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let d = self.derived();
        let (metrics, tags, varying) = (&d.metrics, &d.tags, &d.varying);
        ui.horizontal_wrapped(|ui| {
            ui.heading("Runs");
            ui.label("filter");
            if ui
                .add(egui::TextEdit::singleline(&mut self.filter).hint_text("#tag, model, parameter, note"))
                .on_hover_text("every word must match: #tag a tag; other words the model, split, status, parameters (\"factors\":64), tags or note")
                .changed()
            {
                self.changed();
            }
            for t in tags {
                let word = format!("#{t}");
                if ui.small_button(&word).on_hover_text("show only runs with this tag").clicked() {
                    self.filter = word;
                    self.changed();
                }
            }
            ui.label("metric");
            let before = self.metric.clone();
            egui::ComboBox::from_id_salt("metric")
                .selected_text(self.metric.as_str())
                .show_ui(ui, |ui| {
                    for m in metrics {
                        ui.selectable_value(&mut self.metric, m.clone(), m);
                    }
                });
            if before != self.metric {
                self.request_curves(cx);
            }
            ui.label("group");
            let before = self.grouping.clone();
            egui::ComboBox::from_id_salt("grouping")
                .selected_text(self.grouping.label())
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.grouping, Grouping::None, Grouping::None.label());
                    let r = Grouping::Replicates;
                    ui.selectable_value(&mut self.grouping, r.clone(), r.label());
                    for p in varying {
                        let g = Grouping::Param(p.clone());
                        ui.selectable_value(&mut self.grouping, g.clone(), g.label());
                    }
                });
            if before != self.grouping {
                self.changed();
            }
        });
    }

    /// What is drawn for the selected runs.
    fn selected_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let d = self.derived();
        let figures = self.curve_figures();
        egui::CollapsingHeader::new("Curves")
            .default_open(self.opens("Curves"))
            .show(ui, |ui| {
                let (loss, valid) = &*figures;
                ui.columns(2, |cols| {
                    for (col, f, id) in [(0, loss, "compare_loss"), (1, valid, "compare_valid")] {
                        let ui = &mut cols[col];
                        ui.horizontal(|ui| {
                            ui.label(&f.title);
                            self.exports.menu(ui, cx, f, id);
                        });
                        chart::show(ui, id, f, 200.0);
                    }
                });
                self.epochs_ui(ui);
            });
        egui::CollapsingHeader::new("Test metric")
            .default_open(self.opens("Test metric"))
            .show(ui, |ui| {
                let f = &d.metric_figure;
                ui.horizontal(|ui| {
                    ui.label(&f.title);
                    self.exports.menu(ui, cx, f, "metric");
                });
                chart::show(ui, "compare_bars", f, 200.0);
                self.intervals_ui(ui);
            });
        egui::CollapsingHeader::new("Parameters")
            .default_open(self.opens("Parameters"))
            .show(ui, |ui| {
                if ui
                    .checkbox(
                        &mut self.differences_only,
                        "only the parameters that differ",
                    )
                    .changed()
                {
                    self.changed();
                }
                table::params_ui(ui, &d);
            });
        egui::CollapsingHeader::new("Paired test and top-K")
            .default_open(self.opens("Paired test and top-K"))
            .show(ui, |ui| {
                self.paired_ui(ui, cx);
                self.side_by_side_ui(ui, cx);
            });
    }

    /// Best and last validation epoch of each selected run.
    fn epochs_ui(&self, ui: &mut egui::Ui) {
        // (run, (best epoch, value), (last epoch, value)).
        type Row = (i64, (i64, f64), (i64, f64));
        let rows: Vec<Row> = self
            .curves
            .iter()
            .filter_map(|c| {
                let (best, last) = derived::best_and_last(&c.epochs)?;
                Some((c.run_id, best, last))
            })
            .collect();
        // Only the visible rows are laid out (hundreds of runs may be selected).
        ui.push_id("best_last", |ui| {
            TableBuilder::new(ui)
                .striped(true)
                .max_scroll_height(160.0)
                .columns(Column::exact(90.0), 5)
                .header(20.0, |mut h| {
                    for title in [
                        "run",
                        "best epoch",
                        "best value",
                        "last epoch",
                        "last value",
                    ] {
                        h.col(|ui| {
                            ui.strong(title);
                        });
                    }
                })
                .body(|body| {
                    body.rows(18.0, rows.len(), |mut row| {
                        let (run, (be, bv), (le, lv)) = rows[row.index()];
                        for text in [
                            format!("run {run}"),
                            be.to_string(),
                            format!("{bv:.4}"),
                            le.to_string(),
                            format!("{lv:.4}"),
                        ] {
                            row.col(|ui| {
                                ui.label(text);
                            });
                        }
                    });
                });
        });
    }

    /// The per-user interval of each selected run's test metric, where the run keeps
    /// per-user (or per-review) values.
    fn intervals_ui(&self, ui: &mut egui::Ui) {
        const SHOWN: usize = 12;
        let lines: Vec<String> = self
            .curves
            .iter()
            .filter_map(|c| {
                let e = c.metric?;
                Some(format!(
                    "run {}: {:.4} [{:.4}, {:.4}]",
                    c.run_id, e.mean, e.low, e.high
                ))
            })
            .collect();
        if !lines.is_empty() {
            let more = lines.len().saturating_sub(SHOWN);
            let tail = if more > 0 {
                format!(" · and {more} more (Export the plot for all)")
            } else {
                String::new()
            };
            ui.weak(format!(
                "{} per run, mean over users with its 95% interval: {}{tail}",
                self.metric,
                lines[..lines.len().min(SHOWN)].join(" · ")
            ));
        }
    }

    fn importance_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let d = self.derived();
        ui.label(format!(
            "How much each parameter goes with {} over the {} shown runs: numeric parameters by Spearman's rank correlation ρ (−1 to 1: the metric rises or falls with the parameter's rank), categorical ones by η² (0 to 1: the share of the metric's variance between the parameter's values). A parameter that varies with another (a sweep's grid does not) shares its credit.",
            self.metric,
            d.shown.len()
        ));
        if d.importance.is_empty() {
            ui.weak("Needs at least three shown runs with the metric and a parameter that varies.");
            return;
        }
        egui::Grid::new("importance_table")
            .striped(true)
            .show(ui, |ui| {
                for h in ["parameter", "measure", "value", "runs", "values"] {
                    ui.strong(h);
                }
                ui.end_row();
                for i in &d.importance {
                    ui.label(&i.param);
                    ui.label(i.measure.name());
                    ui.label(match i.measure {
                        Measure::Spearman => format!("{:+.3}", i.value),
                        Measure::EtaSquared => format!("{:.3}", i.value),
                    });
                    ui.label(i.n.to_string());
                    ui.label(i.levels.to_string());
                    ui.end_row();
                }
            });
        let f = &d.importance_figure;
        ui.horizontal(|ui| {
            ui.label(&f.title);
            self.exports.menu(ui, cx, f, "importance");
        });
        chart::show(ui, "importance", f, 180.0);
    }

    fn paired_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let sel: Vec<i64> = self.selected.iter().copied().collect();
        if sel.len() == 2 {
            if ui
                .button(format!(
                    "Paired test on {}: run {} against run {}",
                    self.metric, sel[1], sel[0]
                ))
                .on_hover_text("user by user (or review by review): paired t and bootstrap intervals of the difference")
                .clicked()
            {
                let metric = self.metric.clone();
                cx.send(Request::Compare {
                    a: sel[0],
                    b: sel[1],
                    metric,
                });
            }
        } else {
            ui.weak("Select exactly two runs for a paired test.");
        }
        if let Some(c) = &self.comparison {
            ui.label(format!(
                "{} over {} users: run {} {:.4}, run {} {:.4}; difference {:+.4}, 95% t interval [{:+.4}, {:+.4}], bootstrap [{:+.4}, {:+.4}], p = {:.3}",
                c.metric,
                c.users,
                c.run_a,
                c.mean_a,
                c.run_b,
                c.mean_b,
                c.diff,
                c.t_interval.0,
                c.t_interval.1,
                c.bootstrap_interval.0,
                c.bootstrap_interval.1,
                c.p_value
            ));
        }
    }

    fn side_by_side_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            ui.label("user");
            ui.text_edit_singleline(&mut self.user);
            ui.add(egui::DragValue::new(&mut self.k).range(1..=50).prefix("k "));
            if ui.button("Top-K side by side").clicked() && !self.user.is_empty() {
                let runs: Vec<i64> = self.selected.iter().copied().collect();
                let (user, k) = (self.user.clone(), self.k);
                cx.send(Request::Recommend { runs, user, k });
            }
        });
        let Some((user, lists, later)) = &self.recommendations else {
            return;
        };
        ui.label(format!(
            "user {user}: {} items in the test part (highlighted where recommended)",
            later.len()
        ));
        ui.horizontal_top(|ui| {
            for (run, list) in lists {
                ui.vertical(|ui| {
                    ui.strong(format!("run {run}"));
                    for (rank, (item, score)) in list.iter().enumerate() {
                        let text = format!("{:>2}. {item} ({score:.3})", rank + 1);
                        if later.contains(item) {
                            ui.colored_label(egui::Color32::from_rgb(44, 160, 44), text);
                        } else {
                            ui.label(text);
                        }
                    }
                });
                ui.separator();
            }
            ui.vertical(|ui| {
                ui.strong("test items");
                for item in later.iter().take(self.k) {
                    ui.label(item);
                }
            });
        });
    }
}
