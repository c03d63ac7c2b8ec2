//! The Simulate view's demand curves: per category, or one category and its items, or one
//! item, the calibration's purchase probability of a visit and the revenue and margin per
//! visit across prices, each with the band of the price sensitivity's 95% interval, the
//! prices the log showed, and the revenue- and margin-maximizing prices.

use shoplab_engine::{DemandCurveReport, DemandQuery, DemandReport, Optimum};

use crate::chart::{self, Exports};
use crate::figure::{Figure, Kind, Series};
use crate::view::Cx;
use crate::worker::Request;

/// The demand section's state.
#[derive(Default)]
pub struct DemandPanel {
    /// The category asked for ("": every category).
    pub category: String,
    /// The item asked for ("": none).
    pub item: String,
    /// Every category of the calibration, from the first answer over all of them.
    pub categories: Vec<String>,
    pub report: Option<DemandReport>,
    /// The curve drawn (an index into the report's curves), and its figures.
    pub shown: usize,
    pub figures: Vec<(String, Figure)>,
}

fn series(name: String, kind: Kind, points: Vec<[f64; 2]>, color: usize) -> Series {
    Series {
        name,
        kind,
        points,
        intervals: Vec::new(),
        color,
    }
}

fn best_name(what: &str, o: &Optimum, x: impl Fn(f64) -> f64, unit: &str) -> String {
    let interval = o
        .interval
        .map(|[lo, hi]| format!(" [{:.2}, {:.2}]", x(lo), x(hi)))
        .unwrap_or_default();
    let edge = if o.at_edge {
        ", at the range's edge"
    } else {
        ""
    };
    format!("{what} at {:.2}{unit}{interval}{edge}", x(o.multiple))
}

/// A curve point's value and its band.
type Value = fn(&shoplab_engine::CurvePoint) -> (f64, Option<[f64; 2]>);

/// The three figures of a curve: P(buy), revenue and margin per visit against the price
/// (an item's in money, a category's as a multiple of list).
pub fn figures(c: &DemandCurveReport) -> Vec<(String, Figure)> {
    let (scale, unit, x_label) = match c.list_price {
        Some(list) => (list, "", format!("price (list {list:.2})")),
        None => (1.0, "×", "price as a multiple of list".to_string()),
    };
    let x = |m: f64| m * scale;
    let band = c
        .interval
        .map(|[lo, hi]| format!(", band: β in [{lo:.2}, {hi:.2}]"))
        .unwrap_or_default();
    let what = format!("{} {} (β {:.2}{band})", c.scope, c.key, c.elasticity);
    let stem = format!("demand-{}-{}", c.scope, c.key.replace(['/', ' ', '.'], "_"));
    let panels: [(&str, &str, Value); 3] = [
        ("P(buy) per visit", "p_buy", |p| (p.p_buy, p.p_buy_band)),
        ("revenue per visit", "revenue", |p| {
            (p.revenue, p.revenue_band)
        }),
        ("margin per visit", "margin", |p| (p.margin, p.margin_band)),
    ];
    panels
        .iter()
        .map(|(label, key, get)| {
            let points: Vec<[f64; 2]> = c
                .curve
                .points
                .iter()
                .map(|p| [x(p.multiple), get(p).0])
                .collect();
            let mut line = series(label.to_string(), Kind::Line, points, 0);
            line.intervals = c.curve.points.iter().filter_map(|p| get(p).1).collect();
            if line.intervals.len() != line.points.len() {
                line.intervals.clear();
            }
            let mut s = vec![line];
            if let Some([lo, hi]) = c.seen {
                s.push(series(
                    format!("seen in the log (5–95%): {:.2}–{:.2}{unit}", x(lo), x(hi)),
                    Kind::Line,
                    vec![[x(lo), 0.0], [x(hi), 0.0]],
                    2,
                ));
            }
            let best = match *key {
                "revenue" => Some(("revenue-max", &c.curve.revenue_best, 1)),
                "margin" => Some(("margin-max", &c.curve.margin_best, 4)),
                _ => None,
            };
            if let Some((what, o, color)) = best {
                let name = best_name(what, o, x, unit);
                s.push(series(
                    name,
                    Kind::Points,
                    vec![[x(o.multiple), o.value]],
                    color,
                ));
            }
            (
                format!("{stem}-{key}"),
                Figure {
                    title: format!("{label}: {what}"),
                    x_label: x_label.clone(),
                    y_label: label.to_string(),
                    x_ticks: Vec::new(),
                    series: s,
                },
            )
        })
        .collect()
}

impl DemandPanel {
    /// Takes the worker's curves; draws the first.
    pub fn take(&mut self, report: DemandReport) {
        if self.category.is_empty() && self.item.is_empty() {
            self.categories = report.curves.iter().map(|c| c.key.clone()).collect();
        }
        self.shown = 0;
        self.figures = report.curves.first().map(figures).unwrap_or_default();
        self.report = Some(report);
    }

    fn ask(&self, cx: &mut Cx<'_>) {
        let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        cx.send(Request::Demand(Box::new(DemandQuery {
            category: text(&self.category).filter(|_| self.item.trim().is_empty()),
            item: text(&self.item),
            ..Default::default()
        })));
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>, exports: &Exports) {
        ui.horizontal(|ui| {
            let label = if self.category.is_empty() {
                "every category".to_string()
            } else {
                self.category.clone()
            };
            egui::ComboBox::from_label("category")
                .selected_text(label)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.category, String::new(), "every category");
                    for c in &self.categories {
                        ui.selectable_value(&mut self.category, c.clone(), c);
                    }
                });
            let label = ui.label("or item");
            ui.add(egui::TextEdit::singleline(&mut self.item).desired_width(100.0))
                .labelled_by(label.id);
            if ui
                .button("Draw demand curves")
                .on_hover_text("from the latest calibration: calibrate first")
                .clicked()
            {
                self.ask(cx);
            }
        });
        let Some(report) = &self.report else {
            ui.weak(
                "The calibrated purchase probability, revenue and margin per visit across prices, \
                 with the price sensitivity's 95% band, the prices the log showed and the best prices.",
            );
            return;
        };
        ui.weak(format!(
            "calibration {}: a visit shows the item alone to an average shopper, P(buy) = σ(appeal − β·ln(p / reference)); \
             a category prices every item at the same multiple of its list price (mean over items, weighted by views). \
             Click a row to draw it.",
            report.calibration_id
        ));
        for n in &report.notes {
            ui.colored_label(ui.visuals().warn_fg_color, n);
        }
        let mut pick = None;
        egui::ScrollArea::vertical()
            .id_salt("demand_rows")
            .max_height(180.0)
            .show(ui, |ui| {
                egui::Grid::new("demand_rows").striped(true).show(ui, |ui| {
                    for h in [
                        "",
                        "β",
                        "95% interval",
                        "views",
                        "buys",
                        "seen 5–95%",
                        "revenue-max",
                        "margin-max",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (i, c) in report.curves.iter().enumerate() {
                        let key = if c.key.is_empty() { "(none)" } else { &c.key };
                        let name = format!("{} {key}", c.scope);
                        if ui.selectable_label(i == self.shown, name).clicked() {
                            pick = Some(i);
                        }
                        ui.label(format!("{:.3}", c.elasticity));
                        ui.label(
                            c.interval
                                .map_or("-".into(), |[a, b]| format!("[{a:.3}, {b:.3}]")),
                        );
                        ui.label(c.views.to_string());
                        ui.label(c.purchases.to_string());
                        ui.label(
                            c.seen
                                .map_or("-".into(), |[a, b]| format!("{a:.2}–{b:.2}×")),
                        );
                        for o in [&c.curve.revenue_best, &c.curve.margin_best] {
                            let edge = if o.at_edge { " (edge)" } else { "" };
                            ui.label(format!("{:.2}×{edge}", o.multiple));
                        }
                        ui.end_row();
                    }
                });
            });
        if let Some(i) = pick {
            self.shown = i;
            self.figures = figures(&report.curves[i]);
        }
        chart::row(ui, cx, exports, &self.figures, 220.0, |f| &f.y_label);
    }
}
