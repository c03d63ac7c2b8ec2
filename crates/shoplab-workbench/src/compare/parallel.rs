//! Parallel coordinates with brushing: drag along an axis to keep the runs whose value
//! there is inside the dragged range; brushes on several axes keep the runs inside all of
//! them, and those runs become the selection. Double-click clears the brushes.

use egui::Color32;
use egui_plot::{PlotPoints, Polygon};

use super::CompareView;
use crate::chart;
use crate::view::Cx;

/// Half the width of a brush, in axis units.
const HALF: f64 = 0.12;

impl CompareView {
    pub(super) fn parallel_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let d = self.derived();
        if d.lines.len() < 2 || d.axes.len() < 2 {
            ui.weak(
                "Needs two shown runs or more with the metric and a numeric parameter that varies.",
            );
            return;
        }
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} runs over {} axes. Drag along an axis to brush: the runs inside every brush are selected; double-click clears.",
                d.lines.len(),
                d.axes.len()
            ));
            if !self.brushes.is_empty() && ui.small_button("clear brushes").clicked() {
                self.brushes.clear();
            }
            self.exports.menu(ui, cx, &d.parallel_figure, "parallel");
        });
        let mut drawn: Vec<(usize, f64, f64)> = self.brushes.clone();
        if let Some((axis, a, b)) = self.dragging {
            drawn.push((axis, a.min(b), a.max(b)));
        }
        let axes = d.axes.len();
        let response = chart::show_with(
            ui,
            "parallel",
            &d.parallel_figure,
            260.0,
            |p| {
                p.allow_drag(false)
                    .allow_zoom(false)
                    .allow_scroll(false)
                    .allow_boxed_zoom(false)
                    .allow_double_click_reset(false)
                    .show_grid([false, true])
                    .include_y(-0.05)
                    .include_y(1.05)
            },
            |p| {
                for (axis, lo, hi) in &drawn {
                    let x = *axis as f64;
                    let corners = vec![
                        [x - HALF, *lo],
                        [x + HALF, *lo],
                        [x + HALF, *hi],
                        [x - HALF, *hi],
                    ];
                    p.polygon(
                        Polygon::new("", PlotPoints::new(corners))
                            .fill_color(Color32::from_rgba_unmultiplied(255, 200, 0, 60))
                            .stroke(egui::Stroke::new(1.5, Color32::from_rgb(200, 140, 0))),
                    );
                }
            },
        );
        let r = &response.response;
        let at = |pos: egui::Pos2| {
            let v = response.transform.value_from_position(pos);
            let axis = v.x.round().clamp(0.0, axes as f64 - 1.0) as usize;
            (axis, v.y.clamp(0.0, 1.0))
        };
        if r.double_clicked() {
            self.brushes.clear();
            self.dragging = None;
            return;
        }
        if r.drag_started()
            && let Some(pos) = r.interact_pointer_pos()
        {
            let (axis, y) = at(pos);
            self.dragging = Some((axis, y, y));
        } else if r.dragged()
            && let (Some(pos), Some((axis, start, _))) = (r.interact_pointer_pos(), self.dragging)
        {
            self.dragging = Some((axis, start, at(pos).1));
        }
        if r.drag_stopped()
            && let Some((axis, a, b)) = self.dragging.take()
        {
            self.brush(axis, a.min(b), a.max(b), cx);
        }
    }

    /// Brushes `axis` over `[low, high]` (0–1 units), replacing its earlier brush, and
    /// selects the shown runs inside every brush.
    pub(crate) fn brush(&mut self, axis: usize, low: f64, high: f64, cx: &mut Cx<'_>) {
        self.brushes.retain(|b| b.0 != axis);
        if high - low > 1e-3 {
            self.brushes.push((axis, low, high));
        }
        let brushes = self.brushes.clone();
        let inside: Vec<i64> = self
            .derived()
            .lines
            .iter()
            .filter(|(_, ys)| {
                brushes
                    .iter()
                    .all(|(a, lo, hi)| ys.get(*a).is_some_and(|y| (*lo..=*hi).contains(y)))
            })
            .map(|(run, _)| *run)
            .collect();
        if brushes.is_empty() {
            return;
        }
        self.select_runs(&inside, cx);
    }
}
