//! The Compare view's tables: the runs (only the visible rows are laid out, so hundreds of
//! runs cost what twenty do), the tags-and-note editor of one run, and the selected runs'
//! parameters side by side.

use egui_extras::{Column, TableBuilder};

use super::derived::Derived;
use super::{CompareView, SortBy};
use crate::view::Cx;

const ROW: f32 = 20.0;

impl CompareView {
    /// The runs table: click a header to sort, tick to select, click a run's number to edit
    /// its tags and note. True when the selection changed.
    pub(super) fn table_ui(&mut self, ui: &mut egui::Ui) -> bool {
        let mut toggled = false;
        let mut sort = None;
        let mut edit = None;
        let order = self.order.clone();
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} runs shown of {}, {} selected",
                order.len(),
                self.runs.len(),
                self.selected.len()
            ));
            if ui.small_button("select shown").clicked() {
                self.selected = order.iter().map(|&i| self.runs[i].run_id).collect();
                toggled = true;
            }
            if ui.small_button("clear selection").clicked() {
                self.selected.clear();
                toggled = true;
            }
        });
        let metric = self.metric.clone();
        ui.push_id("runs_table", |ui| {
            TableBuilder::new(ui)
                .striped(true)
                .max_scroll_height(240.0)
                .column(Column::exact(24.0))
                .column(Column::exact(48.0))
                .column(Column::exact(70.0))
                .column(Column::exact(110.0))
                .column(Column::exact(70.0))
                .column(Column::exact(80.0))
                .column(Column::exact(160.0))
                .column(Column::remainder())
                .header(ROW, |mut h| {
                    h.col(|_| {});
                    for (label, by) in [
                        ("run", Some(SortBy::Run)),
                        ("model", Some(SortBy::Model)),
                        ("split", None),
                        ("status", None),
                        (metric.as_str(), Some(SortBy::Metric)),
                        ("tags", None),
                        ("note", None),
                    ] {
                        h.col(|ui| match by {
                            Some(by) => {
                                if ui.button(label).on_hover_text("sort by this").clicked() {
                                    sort = Some(by);
                                }
                            }
                            None => {
                                ui.strong(label);
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(ROW, order.len(), |mut row| {
                        let r = &self.runs[order[row.index()]];
                        let id = r.run_id;
                        row.col(|ui| {
                            let mut on = self.selected.contains(&id);
                            if ui.checkbox(&mut on, "").changed() {
                                toggled = true;
                                if on {
                                    self.selected.insert(id);
                                } else {
                                    self.selected.remove(&id);
                                }
                            }
                        });
                        row.col(|ui| {
                            if ui
                                .link(id.to_string())
                                .on_hover_text("edit this run's tags and note")
                                .clicked()
                            {
                                edit = Some(id);
                            }
                        });
                        row.col(|ui| {
                            ui.label(&r.model);
                        });
                        row.col(|ui| {
                            ui.label(&r.split);
                        });
                        row.col(|ui| {
                            ui.label(&r.status);
                        });
                        row.col(|ui| {
                            let v = shoplab_engine::run_metric(r, &metric);
                            ui.label(v.map_or("-".into(), |v| format!("{v:.4}")));
                        });
                        row.col(|ui| {
                            ui.label(
                                r.tags
                                    .iter()
                                    .map(|t| format!("#{t}"))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            );
                        });
                        row.col(|ui| {
                            ui.label(r.note.as_deref().unwrap_or(""));
                        });
                    });
                });
        });
        if let Some(by) = sort {
            self.sort = by;
            self.changed();
        }
        if let Some(id) = edit
            && let Some(r) = self.runs.iter().find(|r| r.run_id == id)
        {
            self.editing = Some((id, r.tags.join(", "), r.note.clone().unwrap_or_default()));
        }
        toggled
    }

    /// The tags and note of the run being edited.
    pub(super) fn editor_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let Some((run, tags, note)) = &mut self.editing else {
            return;
        };
        let mut save = false;
        let mut close = false;
        let mut look = false;
        let id = *run;
        ui.group(|ui| {
            ui.strong(format!("Run {run}: tags and note"));
            egui::Grid::new("run_editor").num_columns(2).show(ui, |ui| {
                ui.label("tags");
                ui.add(
                    egui::TextEdit::singleline(tags)
                        .hint_text("comma separated, e.g. baseline, best")
                        .desired_width(320.0),
                );
                ui.end_row();
                ui.label("note");
                ui.add(
                    egui::TextEdit::multiline(note)
                        .desired_rows(2)
                        .desired_width(320.0),
                );
                ui.end_row();
            });
            ui.horizontal(|ui| {
                save = ui.button("Save tags and note").clicked();
                look = ui
                    .button(format!("Look inside run {id}"))
                    .on_hover_text("residuals, ROC and calibration, the metric by user activity, the item-vector map")
                    .clicked();
                close = ui.button("Close").clicked();
            });
        });
        if look {
            self.inside = None;
            cx.send(crate::worker::Request::Inspect(id));
        }
        if save {
            self.save_edit(cx);
        } else if close {
            self.editing = None;
        }
    }
}

/// The selected runs' parameters: a row per run (only the visible rows are laid out), a
/// column per parameter.
pub(super) fn params_ui(ui: &mut egui::Ui, d: &Derived) {
    if d.param_names.is_empty() {
        ui.weak(if d.selected.len() < 2 {
            "Select two runs or more to see what differs."
        } else {
            "The selected runs have the same parameters."
        });
        return;
    }
    egui::ScrollArea::horizontal()
        .id_salt("params_scroll")
        .show(ui, |ui| {
            ui.push_id("params", |ui| {
                TableBuilder::new(ui)
                    .striped(true)
                    .max_scroll_height(200.0)
                    .column(Column::exact(60.0))
                    .columns(Column::auto().at_least(60.0), d.param_names.len())
                    .header(ROW, |mut h| {
                        h.col(|ui| {
                            ui.strong("run");
                        });
                        for name in &d.param_names {
                            h.col(|ui| {
                                ui.strong(name);
                            });
                        }
                    })
                    .body(|body| {
                        body.rows(ROW, d.selected.len(), |mut row| {
                            let i = row.index();
                            row.col(|ui| {
                                ui.label(d.selected[i].run_id.to_string());
                            });
                            for name in &d.param_names {
                                row.col(|ui| {
                                    ui.label(
                                        d.params[i].get(name).map_or("-".into(), |v| v.to_string()),
                                    );
                                });
                            }
                        });
                    });
            });
        });
}
