//! The Simulate view's results by category: each category's margin, revenue or conversion
//! over the horizon per policy (means over the replicates with 95% intervals), the
//! categories the first policy earns most in first, as grouped bars and a table.

use std::sync::Arc;

use egui_plot::{Bar, BarChart, Legend, Plot};
use shoplab_engine::{CategoryResult, Estimate, PolicyRun};

use crate::plot;

/// The metrics a category can be compared on.
const METRICS: [&str; 3] = ["margin", "revenue", "conversion"];

/// Categories the bars show (the table has them all).
const BARS: usize = 12;

#[derive(Default)]
pub struct CategoryPanel {
    /// Per policy (overlaid ones too), its results by category.
    pub results: Vec<(String, Vec<CategoryResult>)>,
    /// Index into [`METRICS`].
    pub metric: usize,
    /// The first policy's categories by revenue, most first, and their names (computed once
    /// per report, not per frame).
    order: Vec<usize>,
    names: Arc<Vec<String>>,
}

impl CategoryPanel {
    /// The policies of a report (`add`: next to those shown, an overlay).
    pub(crate) fn set(&mut self, runs: &[PolicyRun], add: bool) {
        if !add {
            self.results.clear();
        }
        self.results.extend(
            runs.iter()
                .map(|r| (r.policy.clone(), r.category_results()))
                .filter(|(_, c)| !c.is_empty()),
        );
        let first = self.results.first().map_or(&[][..], |(_, c)| c.as_slice());
        self.order = (0..first.len()).collect();
        self.order
            .sort_by(|&a, &b| first[b].revenue.mean.total_cmp(&first[a].revenue.mean));
        self.names = Arc::new(
            first
                .iter()
                .map(|r| match r.category.as_str() {
                    "" => "(none)".to_string(),
                    c => c.to_string(),
                })
                .collect(),
        );
    }

    fn value(&self, r: &CategoryResult) -> Estimate {
        match METRICS[self.metric] {
            "revenue" => r.revenue,
            "conversion" => Estimate {
                mean: 100.0 * r.conversion.mean,
                low: 100.0 * r.conversion.low,
                high: 100.0 * r.conversion.high,
            },
            _ => r.margin,
        }
    }

    pub(crate) fn ui(&mut self, ui: &mut egui::Ui) {
        let Some((_, first)) = self.results.first() else {
            ui.weak("This simulation has no results by category (stored before they were).");
            return;
        };
        let (order, names) = (&self.order, &self.names);
        ui.horizontal(|ui| {
            let label = ui.label("compare on");
            egui::ComboBox::from_id_salt("category_metric")
                .selected_text(METRICS[self.metric])
                .show_ui(ui, |ui| {
                    for (k, m) in METRICS.iter().enumerate() {
                        ui.selectable_value(&mut self.metric, k, *m);
                    }
                })
                .response
                .labelled_by(label.id);
            ui.weak("over the horizon, mean over replicates; conversion: purchases per session that landed in the category");
        });
        let shown = &order[..order.len().min(BARS)];
        let width = 0.8 / self.results.len().max(1) as f64;
        let bar_names = Arc::clone(names);
        let plot_order = shown.to_vec();
        Plot::new("by_category")
            .height(220.0)
            .legend(Legend::default())
            .allow_scroll(false)
            .x_axis_formatter(move |mark, _| {
                let i = mark.value.round();
                if (mark.value - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < plot_order.len() {
                    short(&bar_names[plot_order[i as usize]], 14)
                } else {
                    String::new()
                }
            })
            .show(ui, |p| {
                for (k, (policy, results)) in self.results.iter().enumerate() {
                    let bars: Vec<Bar> = shown
                        .iter()
                        .enumerate()
                        .filter_map(|(x, &c)| {
                            let v = self.value(results.get(c)?);
                            let at = x as f64 - 0.4 + width * (k as f64 + 0.5);
                            Some(Bar::new(at, v.mean).width(width).name(&names[c]))
                        })
                        .collect();
                    p.bar_chart(BarChart::new(policy.clone(), bars).color(plot::color(k)));
                }
            });
        egui::ScrollArea::vertical()
            .id_salt("by_category_table")
            .max_height(240.0)
            .show(ui, |ui| {
                egui::Grid::new("by_category").striped(true).show(ui, |ui| {
                    ui.strong("category");
                    ui.strong("sessions");
                    for (policy, _) in &self.results {
                        ui.strong(policy);
                    }
                    ui.end_row();
                    for &c in order {
                        ui.label(&names[c]);
                        ui.label(format!("{:.0}", first[c].sessions));
                        for (_, results) in &self.results {
                            ui.label(results.get(c).map_or("-".into(), |r| {
                                let e = self.value(r);
                                format!("{:.1} [{:.1}, {:.1}]", e.mean, e.low, e.high)
                            }));
                        }
                        ui.end_row();
                    }
                });
            });
    }
}

/// `s` cut to `n` characters, "…" marking the cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
