//! Inside one run: the figures of an [`Inspection`] (predicted against actual and the
//! residuals, ROC and calibration, the metric and the popularity of recommendations by user
//! activity, the item-vector map coloured by category, a hovered point showing its title).

use std::collections::BTreeMap;

use shoplab_engine::Inspection;

use super::CompareView;
use crate::chart;
use crate::figure::{Figure, Kind, Series};
use crate::view::Cx;

/// Categories coloured on the map; the rest are drawn as "other".
const MAP_CATEGORIES: usize = 9;

fn series(name: impl Into<String>, kind: Kind, points: Vec<[f64; 2]>, color: usize) -> Series {
    Series {
        name: name.into(),
        kind,
        points,
        intervals: Vec::new(),
        color,
    }
}

/// Every figure of `i`, with its file stem.
pub fn figures(i: &Inspection) -> Vec<(String, Figure)> {
    let mut out = Vec::new();
    ratings(i, &mut out);
    classifier(i, &mut out);
    activity(i, &mut out);
    item_map(i, &mut out);
    out
}

/// Predicted against actual, and the residuals (rating models).
fn ratings(i: &Inspection, out: &mut Vec<(String, Figure)>) {
    let run = i.run_id;
    let Some(r) = &i.ratings else {
        return;
    };
    let (lo, hi) = r
        .pairs
        .iter()
        .flat_map(|p| [p.0, p.1])
        .fold((f32::MAX, f32::MIN), |a, x| (a.0.min(x), a.1.max(x)));
    out.push((
        format!("run{run}-predicted-vs-actual"),
        Figure {
            title: format!(
                "run {run}: predicted against actual rating ({} of {} test ratings, RMSE {:.4})",
                r.pairs.len(),
                r.n,
                r.rmse
            ),
            x_label: "actual rating".into(),
            y_label: "predicted rating".into(),
            x_ticks: Vec::new(),
            series: vec![
                series(
                    "test ratings",
                    Kind::Points,
                    r.pairs
                        .iter()
                        .map(|p| [f64::from(p.0), f64::from(p.1)])
                        .collect(),
                    0,
                ),
                series(
                    "predicted = actual",
                    Kind::Line,
                    vec![
                        [f64::from(lo), f64::from(lo)],
                        [f64::from(hi), f64::from(hi)],
                    ],
                    2,
                ),
            ],
        },
    ));
    out.push((
        format!("run{run}-residuals"),
        Figure {
            title: format!(
                "run {run}: residuals (predicted − actual) over {} test ratings",
                r.n
            ),
            x_label: "residual".into(),
            y_label: "ratings".into(),
            x_ticks: Vec::new(),
            series: vec![series(
                "ratings per bin",
                Kind::Bars,
                r.residuals
                    .iter()
                    .map(|b| [(b.0 + b.1) / 2.0, b.2 as f64])
                    .collect(),
                0,
            )],
        },
    ));
}

/// ROC and calibration (classifiers).
fn classifier(i: &Inspection, out: &mut Vec<(String, Figure)>) {
    let run = i.run_id;
    let Some(c) = &i.classifier else {
        return;
    };
    out.push((
        format!("run{run}-roc"),
        Figure {
            title: format!(
                "run {run}: ROC on {} test examples ({} positive), AUC {:.4}",
                c.n, c.positives, c.auc
            ),
            x_label: "false positive rate".into(),
            y_label: "true positive rate".into(),
            x_ticks: Vec::new(),
            series: vec![
                series(
                    format!("run {run}"),
                    Kind::Line,
                    c.roc.iter().map(|p| [p.0, p.1]).collect(),
                    0,
                ),
                series("chance", Kind::Line, vec![[0.0, 0.0], [1.0, 1.0]], 9),
            ],
        },
    ));
    out.push((
        format!("run{run}-calibration"),
        Figure {
            title: format!("run {run}: calibration by decile of the predicted probability"),
            x_label: "mean predicted probability".into(),
            y_label: "observed rate".into(),
            x_ticks: Vec::new(),
            series: vec![
                series(
                    format!("run {run}"),
                    Kind::Line,
                    c.calibration.iter().map(|p| [p.0, p.1]).collect(),
                    0,
                ),
                series(
                    "deciles",
                    Kind::Points,
                    c.calibration.iter().map(|p| [p.0, p.1]).collect(),
                    0,
                ),
                {
                    let top = c
                        .calibration
                        .iter()
                        .map(|p| p.0.max(p.1))
                        .fold(0.0, f64::max);
                    series(
                        "perfectly calibrated",
                        Kind::Line,
                        vec![[0.0, 0.0], [top, top]],
                        9,
                    )
                },
            ],
        },
    ));
}

/// The metric, and the popularity of recommendations, by user activity (recommenders).
fn activity(i: &Inspection, out: &mut Vec<(String, Figure)>) {
    let run = i.run_id;
    if i.activity.is_empty() {
        return;
    }
    let metric = i.metric.clone().unwrap_or_default();
    let ticks: Vec<String> = i
        .activity
        .iter()
        .map(|b| format!("{} N={}", b.label, b.users))
        .collect();
    let with: Vec<(usize, &shoplab_engine::ActivityBucket)> = i
        .activity
        .iter()
        .enumerate()
        .filter(|(_, b)| b.users > 0)
        .collect();
    out.push((
        format!("run{run}-by-activity"),
        Figure {
            title: format!(
                "run {run}: test {metric} by the user's training interactions (mean, 95% interval)"
            ),
            x_label: "users by training interactions".into(),
            y_label: metric.clone(),
            x_ticks: ticks.clone(),
            series: vec![Series {
                name: metric,
                kind: Kind::Bars,
                points: with.iter().map(|(x, b)| [*x as f64, b.mean]).collect(),
                intervals: with.iter().map(|(_, b)| [b.low, b.high]).collect(),
                color: 0,
            }],
        },
    ));
    let pop = |f: fn(&shoplab_engine::ActivityBucket) -> Option<f64>| -> Vec<[f64; 2]> {
        i.activity
            .iter()
            .enumerate()
            .filter_map(|(x, b)| Some([x as f64, f(b)?]))
            .collect()
    };
    out.push((
        format!("run{run}-popularity"),
        Figure {
            title: format!("run {run}: popularity of what is recommended (top 10) and of what users chose (test)"),
            x_label: "users by training interactions".into(),
            y_label: "mean popularity percentile (100 = most popular)".into(),
            x_ticks: ticks,
            series: vec![
                series("recommended", Kind::Line, pop(|b| b.recommended_popularity), 1),
                series("recommended", Kind::Points, pop(|b| b.recommended_popularity), 1),
                series("chosen in test", Kind::Line, pop(|b| b.test_popularity), 0),
                series("chosen in test", Kind::Points, pop(|b| b.test_popularity), 0),
            ],
        },
    ));
}

/// The item vectors on their first two principal components, by category.
fn item_map(i: &Inspection, out: &mut Vec<(String, Figure)>) {
    let run = i.run_id;
    if i.map.is_empty() {
        return;
    }
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for p in &i.map {
        *by.entry(p.category.clone().unwrap_or_else(|| "(none)".into()))
            .or_default() += 1;
    }
    let mut cats: Vec<(String, usize)> = by.into_iter().collect();
    cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let named: Vec<String> = cats
        .iter()
        .take(MAP_CATEGORIES)
        .map(|c| c.0.clone())
        .collect();
    let mut groups: Vec<Vec<[f64; 2]>> = vec![Vec::new(); named.len() + 1];
    for p in &i.map {
        let cat = p.category.clone().unwrap_or_else(|| "(none)".into());
        let g = named.iter().position(|n| *n == cat).unwrap_or(named.len());
        groups[g].push([f64::from(p.x), f64::from(p.y)]);
    }
    let mut s: Vec<Series> = Vec::new();
    for (g, points) in groups.into_iter().enumerate() {
        if points.is_empty() {
            continue;
        }
        let name = named.get(g).cloned().unwrap_or_else(|| "other".into());
        s.push(series(name, Kind::Points, points, g));
    }
    out.push((
        format!("run{run}-item-map"),
        Figure {
            title: format!(
                "run {run}: item vectors, first two principal components ({} most popular items), by category",
                i.map.len()
            ),
            x_label: "component 1".into(),
            y_label: "component 2".into(),
            x_ticks: Vec::new(),
            series: s,
        },
    ));
}

impl CompareView {
    /// The figures of the run looked inside, two a row; the map's hover names the item.
    pub(super) fn inside_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let Some((inspection, figs)) = &self.inside else {
            ui.weak("Click a run's number in the table, then \"Look inside\".");
            return;
        };
        ui.strong(format!(
            "Inside run {} ({})",
            inspection.run_id, inspection.model
        ));
        for n in &inspection.notes {
            ui.weak(n);
        }
        let map = inspection.map.clone();
        for pair in figs.chunks(2) {
            ui.columns(2, |cols| {
                for ((stem, f), col) in pair.iter().zip(cols.iter_mut()) {
                    col.horizontal(|ui| {
                        ui.label(&f.title);
                        self.exports.menu(ui, cx, f, stem);
                    });
                    if stem.ends_with("item-map") {
                        let map = map.clone();
                        chart::show_with(
                            col,
                            stem,
                            f,
                            260.0,
                            move |p| {
                                p.label_formatter(move |pos| {
                                    let egui_plot::HoverPosition::NearDataPoint {
                                        position: v, ..
                                    } = pos
                                    else {
                                        return None;
                                    };
                                    let d = |q: &shoplab_engine::MapPoint| {
                                        (f64::from(q.x) - v.x).powi(2)
                                            + (f64::from(q.y) - v.y).powi(2)
                                    };
                                    let q = map.iter().min_by(|a, b| d(a).total_cmp(&d(b)))?;
                                    Some(format!(
                                        "{}\n{}\n{}",
                                        q.title.as_deref().unwrap_or(&q.item),
                                        q.category.as_deref().unwrap_or(""),
                                        q.item
                                    ))
                                })
                            },
                            |_| {},
                        );
                    } else {
                        chart::show(col, stem, f, 220.0);
                    }
                }
            });
        }
    }
}
