//! The Compare view: the runs table (sort, filter by model or split, select), the selected
//! runs' loss and validation curves overlaid, their test metric with 95% intervals over
//! users, a paired comparison of two of them, and one user's top-K from each run side by
//! side with the items the user went on to interact with.

use std::collections::BTreeSet;

use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints};
use shoplab_engine::{Comparison, EpochRow, RunSummary};

use crate::dialog::Dialog;
use crate::plot;
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
    pub curves: Vec<Curve>,
    pub comparison: Option<Comparison>,
    pub user: String,
    pub k: usize,
    /// The user, each run's list, and the user's test items.
    pub recommendations: Option<SideBySide>,
    pub png: plot::PngExport,
    pub note: Option<String>,
}

impl Default for CompareView {
    fn default() -> Self {
        CompareView {
            runs: Vec::new(),
            selected: BTreeSet::new(),
            filter: String::new(),
            sort: SortBy::default(),
            metric: "ndcg@10".into(),
            curves: Vec::new(),
            comparison: None,
            user: String::new(),
            k: 10,
            recommendations: None,
            png: plot::PngExport::default(),
            note: None,
        }
    }
}

impl CompareView {
    fn metric_of(&self, r: &RunSummary) -> Option<f64> {
        r.metrics.iter().find(|m| m.0 == self.metric).map(|m| m.1)
    }

    /// The runs shown: filtered by model or split, sorted.
    fn shown(&self) -> Vec<&RunSummary> {
        let f = self.filter.to_lowercase();
        let mut v: Vec<&RunSummary> = self
            .runs
            .iter()
            .filter(|r| {
                // By model, split, or any parameter ("factors\":64", "lr"): the params JSON.
                f.is_empty()
                    || r.model.contains(&f)
                    || r.split.to_lowercase().contains(&f)
                    || r.params.to_lowercase().contains(&f)
            })
            .collect();
        match self.sort {
            SortBy::Run => v.sort_by_key(|r| r.run_id),
            SortBy::Model => v.sort_by(|a, b| a.model.cmp(&b.model).then(a.run_id.cmp(&b.run_id))),
            SortBy::Metric => v.sort_by(|a, b| {
                let (x, y) = (self.metric_of(a), self.metric_of(b));
                y.unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&x.unwrap_or(f64::NEG_INFINITY))
            }),
        }
        v
    }
}

impl View for CompareView {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        self.filter_ui(ui, cx);
        if self.runs.is_empty() {
            ui.weak("No runs yet: train some in the Models view.");
            return;
        }
        if self.runs_ui(ui) {
            self.request_curves(cx);
        }
        if self.curves.is_empty() {
            ui.weak("Tick runs to compare their curves.");
            return;
        }
        let rect = ui.scope(|ui| self.curves_ui(ui)).response.rect;
        self.png.rect = Some(rect);
        ui.horizontal(|ui| {
            if ui.button("Save plots as PNG…").clicked()
                && let Some(then) = self.png.then()
            {
                let dialog = Dialog {
                    title: "Save the plots",
                    filter: Some(("PNG image", &["png"])),
                    save_as: Some("runs.png".into()),
                };
                cx.dialog(dialog, then);
            }
            if let Some(n) = &self.note {
                ui.label(n);
            }
        });
        self.paired_ui(ui, cx);
        self.side_by_side_ui(ui, cx);
    }

    fn on_reply(&mut self, reply: Reply, _cx: &mut Cx<'_>) {
        match reply {
            Reply::Curves(curves) => self.curves = curves,
            Reply::Compared(c) => self.comparison = Some(c),
            Reply::Recommended {
                user,
                lists,
                bought_later,
            } => self.recommendations = Some((user, lists, bought_later)),
            _ => misrouted("the Compare view"),
        }
    }

    /// The runs, read again; the view opens on the latest finished runs (up to three).
    fn on_news(&mut self, news: &News<'_>, cx: &mut Cx<'_>) {
        let News::Runs(runs) = news else {
            return;
        };
        self.runs = runs.to_vec();
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

    /// What the last PNG export did.
    fn poll(&mut self, _cx: &mut Cx<'_>) -> bool {
        let Some(n) = self.png.poll() else {
            return false;
        };
        self.note = Some(n);
        true
    }

    fn on_show(&mut self, cx: &mut Cx<'_>) {
        cx.send_workspace(Request::Runs);
    }
}

impl CompareView {
    /// Selects `runs` for comparison and asks for their curves (what ticking them does).
    pub(crate) fn select_runs(&mut self, runs: &[i64], cx: &mut Cx<'_>) {
        self.selected = runs.iter().copied().collect();
        self.request_curves(cx);
    }

    fn request_curves(&mut self, cx: &mut Cx<'_>) {
        let runs: Vec<i64> = self.selected.iter().copied().collect();
        let metric = self.metric.clone();
        self.comparison = None;
        cx.send(Request::Curves { runs, metric });
    }

    /// The filter and the metric; a new metric asks for the curves again.
    fn filter_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        ui.horizontal(|ui| {
            ui.heading("Runs");
            ui.label("filter");
            ui.text_edit_singleline(&mut self.filter)
                .on_hover_text("model, split, or any parameter, e.g. \"factors\":64");
            ui.label("metric");
            let before = self.metric.clone();
            egui::ComboBox::from_id_salt("metric")
                .selected_text(self.metric.as_str())
                .show_ui(ui, |ui| {
                    for m in ["ndcg@10", "recall@10", "hit@10", "mrr@10", "rmse", "mae"] {
                        ui.selectable_value(&mut self.metric, m.to_string(), m);
                    }
                });
            if before != self.metric && !self.selected.is_empty() {
                self.request_curves(cx);
            }
        });
    }

    /// The runs table (click a header to sort, tick to select); true when the selection
    /// changed.
    fn runs_ui(&mut self, ui: &mut egui::Ui) -> bool {
        let mut toggled = false;
        let shown: Vec<(i64, String, String, String, Option<f64>)> = self
            .shown()
            .into_iter()
            .map(|r| {
                (
                    r.run_id,
                    r.model.clone(),
                    r.split.clone(),
                    r.status.clone(),
                    self.metric_of(r),
                )
            })
            .collect();
        egui::Grid::new("compare_runs")
            .striped(true)
            .show(ui, |ui| {
                ui.strong("");
                for (label, sort) in [
                    ("run", SortBy::Run),
                    ("model", SortBy::Model),
                    ("split", SortBy::Run),
                    ("status", SortBy::Run),
                    (self.metric.as_str(), SortBy::Metric),
                ] {
                    if ui.button(label).clicked() {
                        self.sort = sort;
                    }
                }
                ui.end_row();
                for (id, model, split, status, metric) in &shown {
                    let mut on = self.selected.contains(id);
                    if ui.checkbox(&mut on, "").changed() {
                        toggled = true;
                        if on {
                            self.selected.insert(*id);
                        } else {
                            self.selected.remove(id);
                        }
                    }
                    ui.label(id.to_string());
                    ui.label(model);
                    ui.label(split);
                    ui.label(status);
                    ui.label(metric.map_or("-".into(), |v| format!("{v:.4}")));
                    ui.end_row();
                }
            });
        toggled
    }

    fn curves_ui(&mut self, ui: &mut egui::Ui) {
        let group = egui::Id::unique("compare_epochs");
        let curves = &self.curves;
        // One plot per column: train loss, validation metric; x linked across both.
        type Value = fn(&EpochRow) -> Option<f64>;
        let panels: [(&str, &str, Value); 2] = [
            ("train loss per epoch", "compare_loss", |e| e.loss),
            ("validation per epoch", "compare_valid", |e| e.value),
        ];
        ui.columns(2, |cols| {
            for ((title, id, value), col) in panels.into_iter().zip(cols.iter_mut()) {
                col.label(title);
                Plot::new(id)
                    .height(220.0)
                    .legend(Legend::default())
                    .link_axis(group, [true, false])
                    .link_cursor(group, [true, false])
                    .show(col, |p| {
                        for (i, c) in curves.iter().enumerate() {
                            let pts: Vec<[f64; 2]> = c
                                .epochs
                                .iter()
                                .filter_map(|e| Some([e.epoch as f64, value(e)?]))
                                .collect();
                            let metric = c.epochs.iter().find_map(|e| e.metric.clone());
                            let name = match (id, metric) {
                                ("compare_valid", Some(m)) => format!("run {} {m}", c.run_id),
                                _ => format!("run {}", c.run_id),
                            };
                            p.line(Line::new(name, PlotPoints::new(pts)).color(plot::color(i)));
                        }
                    });
            }
        });
        ui.label(format!(
            "test {} per run: mean over users, 95% interval",
            self.metric
        ));
        let names: Vec<String> = curves.iter().map(|c| format!("run {}", c.run_id)).collect();
        Plot::new("compare_bars")
            .height(200.0)
            .legend(Legend::default())
            .x_axis_formatter(move |mark, _| {
                let i = mark.value.round();
                if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .show(ui, |p| {
                for (i, c) in curves.iter().enumerate() {
                    let Some(e) = c.metric else { continue };
                    let x = i as f64;
                    p.bar_chart(
                        BarChart::new(
                            format!("run {}", c.run_id),
                            vec![Bar::new(x, e.mean).width(0.6)],
                        )
                        .color(plot::color(i)),
                    );
                    p.line(
                        Line::new("", PlotPoints::new(vec![[x, e.low], [x, e.high]]))
                            .color(egui::Color32::BLACK)
                            .width(2.0),
                    );
                }
            });
    }

    fn paired_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let sel: Vec<i64> = self.selected.iter().copied().collect();
        if sel.len() == 2 {
            ui.horizontal(|ui| {
                if ui
                    .button(format!(
                        "Paired comparison: run {} against run {}",
                        sel[1], sel[0]
                    ))
                    .clicked()
                {
                    let metric = self.metric.clone();
                    cx.send(Request::Compare {
                        a: sel[0],
                        b: sel[1],
                        metric,
                    });
                }
            });
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
