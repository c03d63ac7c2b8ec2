//! The Simulate view's scenario forms: its policies (every recommender and pricing policy
//! the simulator has, with their settings), its price rules and its timed events. Each form
//! reads the scenario text and writes its change back into it through `toml_edit`: only
//! what the form changed is rewritten, comments and layout stay, so form and text agree.

use shoplab_engine::{
    PolicySpec, PriceRule, Pricing, Recommend, ScenarioEvent as Event, scenario_policy_specs,
    scenario_rules, scenario_with_events, scenario_with_policies, scenario_with_rules,
};

use super::SimView;
use crate::view::Cx;

type PoliciesAndRules = (Vec<PolicySpec>, Vec<PriceRule>);

/// The policies and price rules of the scenario text, as last read.
#[derive(Default)]
pub struct PolicyForm {
    /// The text they were read from.
    of: Option<String>,
    read: Option<Result<PoliciesAndRules, String>>,
    /// What is typed in each policy's grid and each rule's ladder (comma-separated).
    grids: Vec<String>,
    ladders: Vec<String>,
    /// A typed list that does not read yet.
    pub problem: Option<String>,
}

impl PolicyForm {
    /// Reads the policies and rules when the text changed elsewhere (the editor, a file).
    fn refresh(&mut self, text: &str) {
        if self.of.as_deref() == Some(text) {
            return;
        }
        let read = scenario_policy_specs(text).and_then(|p| Ok((p, scenario_rules(text)?)));
        if let Ok((policies, rules)) = &read {
            self.grids = policies.iter().map(|p| list(p.pricing.grid())).collect();
            self.ladders = rules.iter().map(|r| list(&r.ladder)).collect();
        }
        self.read = Some(read);
        self.of = Some(text.to_string());
        self.problem = None;
    }

    /// The forms; a change is written into `text`. `known`: the categories the simulated
    /// shop has (when known).
    pub(crate) fn ui(&mut self, ui: &mut egui::Ui, text: &mut String, known: &[String]) {
        self.refresh(text);
        let (policies, rules) = match &self.read {
            Some(Ok((p, r))) => (p.clone(), r.clone()),
            Some(Err(e)) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("the scenario text does not read: {e}"),
                );
                return;
            }
            None => return,
        };
        let (mut new_policies, mut new_rules) = (policies.clone(), rules.clone());
        ui.strong("Policies");
        self.policies_ui(ui, &mut new_policies);
        ui.add_space(6.0);
        ui.strong("Price rules (every policy's price passes through them, the oracle's too)");
        self.rules_ui(ui, &mut new_rules, known);
        if let Some(p) = &self.problem {
            ui.colored_label(ui.visuals().warn_fg_color, p);
        }
        if new_policies == policies && new_rules == rules {
            return;
        }
        let written = scenario_with_policies(text, &new_policies)
            .and_then(|t| scenario_with_rules(&t, &new_rules));
        match written {
            Ok(t) => {
                *text = t;
                self.of = Some(text.clone());
                self.read = Some(Ok((new_policies, new_rules)));
            }
            Err(e) => self.problem = Some(format!("not written: {e}")),
        }
    }

    fn policies_ui(&mut self, ui: &mut egui::Ui, policies: &mut Vec<PolicySpec>) {
        let mut remove = None;
        egui::Grid::new("policy_form").striped(true).show(ui, |ui| {
            let heads: Vec<egui::Id> = ["name", "recommender", "pricing", "settings", "max move"]
                .iter()
                .map(|h| ui.strong(*h).id)
                .collect();
            ui.end_row();
            for (k, p) in policies.iter_mut().enumerate() {
                ui.add_sized([150.0, 20.0], egui::TextEdit::singleline(&mut p.name))
                    .labelled_by(heads[0]);
                recommend_ui(ui, k, &mut p.recommend, heads[1]);
                let kind = p.pricing.kind();
                egui::ComboBox::from_id_salt(("pricing", k))
                    .selected_text(kind)
                    .show_ui(ui, |ui| {
                        for kind in Pricing::KINDS {
                            if ui
                                .selectable_label(p.pricing.kind() == kind, kind)
                                .clicked()
                            {
                                p.pricing = p.pricing.as_kind(kind);
                                self.grids[k] = list(p.pricing.grid());
                            }
                        }
                    })
                    .response
                    .labelled_by(heads[2]);
                ui.horizontal(|ui| {
                    if let Err(e) = settings_ui(ui, &mut p.pricing, &mut self.grids[k], heads[3]) {
                        self.problem = Some(format!("policy \"{}\": {e}", p.name));
                    }
                });
                optional(ui, &mut p.max_move, (0.05, 0.01..=1.0), Percent, heads[4]);
                if ui.small_button("remove").clicked() {
                    remove = Some(k);
                }
                ui.end_row();
            }
        });
        if let Some(k) = remove {
            policies.remove(k);
            self.grids.remove(k);
        }
        if ui.button("+ policy").clicked() {
            policies.push(PolicySpec {
                name: format!("policy {}", policies.len() + 1),
                recommend: Recommend::Popularity,
                pricing: Pricing::List,
                max_move: None,
            });
            self.grids.push(String::new());
        }
    }

    fn rules_ui(&mut self, ui: &mut egui::Ui, rules: &mut Vec<PriceRule>, known: &[String]) {
        let mut remove = None;
        if !rules.is_empty() {
            egui::Grid::new("rule_form").striped(true).show(ui, |ui| {
                let heads: Vec<egui::Id> = [
                    "category",
                    "floor: cost +",
                    "ceiling: × list",
                    "max move a day",
                    "allowed prices",
                ]
                .iter()
                .map(|h| ui.strong(*h).id)
                .collect();
                ui.end_row();
                for (k, r) in rules.iter_mut().enumerate() {
                    let mut category = r.category.clone().unwrap_or_default();
                    let edit = ui
                        .add_sized(
                            [170.0, 20.0],
                            egui::TextEdit::singleline(&mut category).hint_text("every category"),
                        )
                        .labelled_by(heads[0]);
                    if !known.is_empty() {
                        edit.on_hover_text(format!("categories: {}", known.join(", ")));
                    }
                    r.category = (!category.is_empty()).then_some(category);
                    optional(
                        ui,
                        &mut r.floor_margin,
                        (0.05, -0.5..=5.0),
                        Percent,
                        heads[1],
                    );
                    optional(ui, &mut r.ceiling, (1.2, 0.1..=10.0), Times, heads[2]);
                    optional(ui, &mut r.max_move, (0.05, 0.01..=1.0), Percent, heads[3]);
                    ui.horizontal(|ui| {
                        if let Err(e) = allowed_ui(ui, k, r, &mut self.ladders[k], heads[4]) {
                            self.problem = Some(format!("rule {}: {e}", k + 1));
                        }
                    });
                    if ui.small_button("remove").clicked() {
                        remove = Some(k);
                    }
                    ui.end_row();
                }
            });
        }
        if let Some(k) = remove {
            rules.remove(k);
            self.ladders.remove(k);
        }
        ui.horizontal(|ui| {
            let mut add = |rule: PriceRule| {
                rules.push(rule);
                self.ladders.push(String::new());
            };
            if ui.button("+ charm .99 endings").clicked() {
                add(PriceRule {
                    ending: Some(0.99),
                    ..PriceRule::default()
                });
            }
            if ui.button("+ floor at cost + margin").clicked() {
                add(PriceRule {
                    floor_margin: Some(0.05),
                    ..PriceRule::default()
                });
            }
            if ui.button("+ ceiling and max move").clicked() {
                add(PriceRule {
                    ceiling: Some(1.2),
                    max_move: Some(0.05),
                    ..PriceRule::default()
                });
            }
            if ui.button("+ price ladder").clicked() {
                add(PriceRule {
                    ladder: vec![9.99, 19.99, 29.99, 49.99, 99.99],
                    ..PriceRule::default()
                });
                if let Some(l) = self.ladders.last_mut() {
                    *l = "9.99, 19.99, 29.99, 49.99, 99.99".into();
                }
            }
        });
    }
}

/// How a fraction is shown: as a percentage, or as a multiple.
#[derive(Clone, Copy)]
enum Unit {
    Percent,
    Times,
}
use Unit::{Percent, Times};

/// An optional number: a checkbox, and its value when checked (`default` when first set,
/// within `range`); both named by `label`.
fn optional(
    ui: &mut egui::Ui,
    value: &mut Option<f64>,
    (default, range): (f64, std::ops::RangeInclusive<f64>),
    unit: Unit,
    label: egui::Id,
) {
    ui.horizontal(|ui| {
        let mut on = value.is_some();
        ui.checkbox(&mut on, "").labelled_by(label);
        let mut v = value.unwrap_or(default);
        let drag = match unit {
            Percent => egui::DragValue::new(&mut v)
                .range(range)
                .speed(0.005)
                .custom_formatter(|v, _| format!("{:.1}%", 100.0 * v))
                .custom_parser(|s| {
                    s.trim_end_matches('%')
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .map(|v| v / 100.0)
                }),
            Times => egui::DragValue::new(&mut v)
                .range(range)
                .speed(0.01)
                .prefix("× ")
                .max_decimals(2),
        };
        ui.add_enabled(on, drag).labelled_by(label);
        *value = on.then_some(v);
    });
}

/// The recommender: its kind, and the run it uses.
fn recommend_ui(ui: &mut egui::Ui, k: usize, r: &mut Recommend, label: egui::Id) {
    let run = r.run().unwrap_or(1);
    let choices = [
        ("popularity", Recommend::Popularity),
        ("random", Recommend::Random),
        ("affinity", Recommend::Affinity),
        ("expected-margin", Recommend::ExpectedMargin),
        ("run:<id>", Recommend::Run(run)),
        ("expected-revenue:<id>", Recommend::ExpectedRevenue(run)),
    ];
    ui.horizontal(|ui| {
        let shown = choices
            .iter()
            .find(|c| std::mem::discriminant(&c.1) == std::mem::discriminant(r))
            .map_or("?", |c| c.0);
        egui::ComboBox::from_id_salt(("recommend", k))
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (name, choice) in choices {
                    if ui.selectable_label(shown == name, name).clicked() {
                        *r = choice;
                    }
                }
            })
            .response
            .labelled_by(label);
        if let Recommend::Run(id) | Recommend::ExpectedRevenue(id) = r {
            ui.add(egui::DragValue::new(id).range(1..=1_000_000).prefix("run "))
                .labelled_by(label);
        }
    });
}

/// A pricing policy's own settings; a grid that does not read is an error (the policy
/// keeps its last grid).
fn settings_ui(
    ui: &mut egui::Ui,
    p: &mut Pricing,
    grid_text: &mut String,
    label: egui::Id,
) -> Result<(), String> {
    let drag = |ui: &mut egui::Ui, v: &mut f64, range, prefix: &str| {
        ui.add(
            egui::DragValue::new(v)
                .range(range)
                .speed(0.005)
                .max_decimals(3)
                .prefix(prefix),
        )
        .labelled_by(label);
    };
    match p {
        Pricing::List | Pricing::ElasticityOptimal => {
            ui.weak("none");
        }
        Pricing::CostPlus { markup } => drag(ui, markup, -0.5..=5.0, "markup "),
        Pricing::CompetitorMatch { undercut } => drag(ui, undercut, 0.0..=0.5, "undercut "),
        Pricing::Markdown { step, floor } => {
            drag(ui, step, 0.01..=0.5, "step ");
            drag(ui, floor, 0.05..=1.0, "floor × list ");
        }
        Pricing::Thompson { grid }
        | Pricing::ThompsonPoisson { grid }
        | Pricing::ThompsonInventory { grid }
        | Pricing::Ucb1 { grid }
        | Pricing::EpsilonGreedy { grid, .. } => {
            ui.add_sized(
                [170.0, 20.0],
                egui::TextEdit::singleline(grid_text).hint_text("0.9, 1.0, 1.1"),
            )
            .labelled_by(label)
            .on_hover_text("multiples of the list price, comma-separated");
            match numbers(grid_text) {
                Ok(g) if !g.is_empty() && g.iter().all(|m| *m > 0.0) => *grid = g,
                _ => return Err(format!("the grid \"{grid_text}\" needs positive numbers")),
            }
            if let Pricing::EpsilonGreedy { epsilon, .. } = p {
                drag(ui, epsilon, 0.0..=1.0, "ε ");
            }
        }
    }
    Ok(())
}

/// A rule's allowed prices: any, an ending, or a ladder.
fn allowed_ui(
    ui: &mut egui::Ui,
    k: usize,
    r: &mut PriceRule,
    ladder_text: &mut String,
    label: egui::Id,
) -> Result<(), String> {
    let shown = match (r.ending, r.ladder.is_empty()) {
        (Some(_), _) => "ending",
        (None, false) => "ladder",
        (None, true) => "any",
    };
    egui::ComboBox::from_id_salt(("allowed", k))
        .selected_text(shown)
        .width(80.0)
        .show_ui(ui, |ui| {
            if ui.selectable_label(shown == "any", "any").clicked() {
                (r.ending, r.ladder) = (None, Vec::new());
            }
            if ui.selectable_label(shown == "ending", "ending").clicked() {
                (r.ending, r.ladder) = (Some(0.99), Vec::new());
            }
            if ui.selectable_label(shown == "ladder", "ladder").clicked() {
                r.ending = None;
                *ladder_text = "9.99, 19.99, 29.99".into();
            }
        })
        .response
        .labelled_by(label);
    if let Some(e) = &mut r.ending {
        ui.add(
            egui::DragValue::new(e)
                .range(0.0..=0.99)
                .speed(0.01)
                .max_decimals(2)
                .prefix("ends in "),
        )
        .labelled_by(label);
    } else if shown == "ladder" || !ladder_text.is_empty() {
        ui.add_sized(
            [170.0, 20.0],
            egui::TextEdit::singleline(ladder_text).hint_text("9.99, 19.99, 29.99"),
        )
        .labelled_by(label)
        .on_hover_text("the allowed prices, in money, comma-separated");
        match numbers(ladder_text) {
            Ok(l) if l.iter().all(|p| *p > 0.0) => r.ladder = l,
            _ => {
                return Err(format!(
                    "the ladder \"{ladder_text}\" needs positive prices"
                ));
            }
        }
    }
    Ok(())
}

/// Comma-separated numbers.
fn numbers(s: &str) -> Result<Vec<f64>, std::num::ParseFloatError> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::parse)
        .collect()
}

/// Numbers as a form shows them.
fn list(v: &[f64]) -> String {
    v.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
}

impl SimView {
    /// The scenario's timed events as a table: add, edit, remove; written back into the
    /// scenario text. The plots shade each event's days.
    pub(super) fn events_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>) {
        let Some((before, days)) = self.timeline.clone() else {
            return;
        };
        let mut events = before.clone();
        egui::CollapsingHeader::new(format!("events on the timeline ({})", events.len()))
            .default_open(false)
            .show(ui, |ui| {
                let mut remove = None;
                egui::Grid::new("events").striped(true).show(ui, |ui| {
                    let heads: Vec<egui::Id> =
                        ["from day", "until day", "category", "what", "value", ""]
                            .iter()
                            .map(|h| ui.strong(*h).id)
                            .collect();
                    ui.end_row();
                    for (k, e) in events.iter_mut().enumerate() {
                        ui.add(egui::DragValue::new(&mut e.day).range(0..=days.saturating_sub(1)))
                            .labelled_by(heads[0]);
                        let mut bounded = e.until.is_some();
                        ui.horizontal(|ui| {
                            ui.checkbox(&mut bounded, "").labelled_by(heads[1]);
                            let mut until = e.until.unwrap_or(days.saturating_sub(1));
                            ui.add_enabled(
                                bounded,
                                egui::DragValue::new(&mut until)
                                    .range(e.day..=days.saturating_sub(1)),
                            )
                            .labelled_by(heads[1]);
                            e.until = bounded.then_some(until);
                        });
                        let mut category = e.category.clone().unwrap_or_default();
                        ui.add_sized(
                            [180.0, 20.0],
                            egui::TextEdit::singleline(&mut category).hint_text("all"),
                        )
                        .labelled_by(heads[2]);
                        e.category = (!category.is_empty()).then_some(category);
                        ui.label(e.describe());
                        let value = e.value_mut();
                        if let Some(v) = value {
                            ui.add(egui::DragValue::new(v).range(0.0..=10.0).speed(0.01))
                                .labelled_by(heads[4]);
                        } else {
                            ui.label("");
                        }
                        if ui.small_button("remove").clicked() {
                            remove = Some(k);
                        }
                        ui.end_row();
                    }
                });
                if let Some(k) = remove {
                    events.remove(k);
                }
                ui.horizontal(|ui| {
                    let mut add = |e: Event| events.push(e);
                    let blank = Event::blank(0);
                    if ui.button("+ competitor price").clicked() {
                        add(Event {
                            competitor_price: Some(0.9),
                            ..blank.clone()
                        });
                    }
                    if ui.button("+ promo").clicked() {
                        add(Event {
                            promo: Some(0.1),
                            ..blank.clone()
                        });
                    }
                    if ui.button("+ elasticity shift").clicked() {
                        add(Event {
                            elasticity: Some(1.3),
                            ..blank.clone()
                        });
                    }
                    if ui.button("+ traffic surge").clicked() {
                        add(Event {
                            traffic: Some(1.5),
                            ..blank.clone()
                        });
                    }
                    if ui.button("+ stock-out").clicked() {
                        add(Event {
                            stock_out: true,
                            ..blank
                        });
                    }
                });
            });
        if events != before {
            match scenario_with_events(&self.text, &events) {
                Ok(t) => self.text = t,
                Err(e) => cx.fail(format!("events: {e}")),
            }
        }
    }
}
