//! The Simulate view's calibration panel: fit the simulator to the workspace's own
//! sessions, read the fit report, point the scenario's world at it.

use shoplab_engine::scenario_with_calibration;

use super::SimView;
use crate::view::Cx;
use crate::worker::Request;

impl SimView {
    /// Calibrate the simulator on the workspace's own sessions, read the fit report, and
    /// point the scenario's world at the calibration.
    pub(super) fn calibration_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let mut calibrate = false;
        let mut use_it = None;
        egui::CollapsingHeader::new("calibrate the shop on this workspace's sessions")
            .default_open(self.calibration.is_some())
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.add(
                        egui::DragValue::new(&mut self.calibration_run)
                            .range(0..=1_000_000)
                            .prefix("affinities of run "),
                    )
                    .on_hover_text("0: none; else a run with user and item vectors (mf, bpr)");
                    calibrate = ui.button("Calibrate").clicked();
                });
                let Some(c) = &self.calibration else {
                    return;
                };
                let f = &c.calibration.report;
                ui.label(format!(
                    "calibration {}: {} sessions over {} days, {} purchases; held-out log-likelihood per session {:.5} (without price {:.5}, one purchase rate {:.5}); conversion predicted {:.2}%, observed {:.2}%; pooled price sensitivity {:.3}",
                    c.calibration_id,
                    f.sessions,
                    f.days,
                    f.purchases,
                    f.loglik,
                    f.loglik_no_price,
                    f.loglik_constant,
                    100.0 * f.predicted_conversion,
                    100.0 * f.observed_conversion,
                    f.pooled_elasticity
                ));
                for n in &f.notes {
                    ui.colored_label(ui.visuals().warn_fg_color, n);
                }
                egui::Grid::new("calibration").striped(true).show(ui, |ui| {
                    for h in ["category", "β used", "own estimate", "purchases", "share"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for k in &c.calibration.categories {
                        ui.label(if k.code.is_empty() { "(none)" } else { &k.code });
                        ui.label(format!("{:.3}", k.elasticity));
                        ui.label(format!("{:.3} ± {:.3}", k.raw, k.se));
                        ui.label(k.purchases.to_string());
                        ui.label(format!("{:.1}%", 100.0 * k.share));
                        ui.end_row();
                    }
                });
                if ui
                    .button("Use this calibration as the scenario's world")
                    .clicked()
                {
                    use_it = Some(c.calibration_id);
                }
            });
        if calibrate {
            let run = (self.calibration_run > 0).then_some(self.calibration_run);
            cx.send(Request::Calibrate(run));
        }
        if let Some(id) = use_it {
            match scenario_with_calibration(&self.text, id) {
                Ok(t) => self.text = t,
                Err(e) => cx.fail(e),
            }
        }
    }
}
