//! The Simulate view's past simulations: the stored `sims`, newest first; open one (its
//! scenario text, plots and table come back) or overlay it on what is shown (its policies
//! join the plots and the table as "#id policy").

use shoplab_engine::StoredSim;

use crate::view::Cx;
use crate::worker::Request;

/// The list of stored simulations.
#[derive(Default)]
pub struct PastPanel {
    pub sims: Option<Vec<StoredSim>>,
}

impl PastPanel {
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        if ui.button("List stored simulations").clicked() {
            cx.send(Request::Sims);
        }
        let Some(sims) = &self.sims else {
            ui.weak("Every simulation run here or from the CLI is stored in the workspace.");
            return;
        };
        if sims.is_empty() {
            ui.weak("No simulation is stored yet.");
            return;
        }
        egui::ScrollArea::vertical()
            .id_salt("past_sims")
            .max_height(200.0)
            .show(ui, |ui| {
                egui::Grid::new("past_sims").striped(true).show(ui, |ui| {
                    for h in [
                        "sim",
                        "created",
                        "name",
                        "replicates",
                        "days",
                        "policies",
                        "",
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for s in sims {
                        ui.label(s.sim_id.to_string());
                        ui.label(&s.created_at);
                        ui.label(&s.name);
                        ui.label(s.seeds.to_string());
                        ui.label(s.days.to_string());
                        ui.label(s.policies.join(", "));
                        ui.horizontal(|ui| {
                            if ui
                                .button(format!("Open {}", s.sim_id))
                                .on_hover_text(
                                    "its scenario, plots and table replace what is shown",
                                )
                                .clicked()
                            {
                                cx.send(Request::PastSim {
                                    sim_id: s.sim_id,
                                    overlay: false,
                                });
                            }
                            if ui
                                .button(format!("Overlay {}", s.sim_id))
                                .on_hover_text(
                                    "its policies join the plots and the table as \"#id policy\"",
                                )
                                .clicked()
                            {
                                cx.send(Request::PastSim {
                                    sim_id: s.sim_id,
                                    overlay: true,
                                });
                            }
                        });
                        ui.end_row();
                    }
                });
            });
    }
}
