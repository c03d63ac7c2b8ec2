//! The Models view's forms: a recommender or the conversion model (the run form kept in
//! the preferences), a text run (review task or two-tower: encoder, method, schedule), a
//! sweep (axes, grid or random, seeds, tag) and a new split (every strategy the CLI has).

use shoplab_engine::{
    Axis, FinetuneConfig, ModelKind, Search, SplitSpec, Strategy, SweepSpec, TextMethod, TextTask,
    TrainConfig,
};

use crate::prefs::TrainForm;

/// What the form starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunKind {
    /// A recommender on a split.
    #[default]
    Recommender,
    /// The conversion model on the event log's sessions.
    Conversion,
    /// A review task (rating or recommended flag) from the review text.
    Text,
    /// The text-aware two-tower recommender on a split.
    TwoTower,
    /// Many recommender or conversion runs over a grid or a random draw.
    Sweep,
    /// A new split of the workspace's interactions.
    Split,
}

impl RunKind {
    pub const ALL: [RunKind; 6] = [
        RunKind::Recommender,
        RunKind::Conversion,
        RunKind::Text,
        RunKind::TwoTower,
        RunKind::Sweep,
        RunKind::Split,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RunKind::Recommender => "Recommender",
            RunKind::Conversion => "Conversion",
            RunKind::Text => "Text model",
            RunKind::TwoTower => "Two-tower",
            RunKind::Sweep => "Sweep",
            RunKind::Split => "New split",
        }
    }
}

/// The recommender (or conversion) configuration the run form describes.
pub fn train_config(f: &TrainForm, conversion: bool) -> Result<TrainConfig, String> {
    let model = if conversion {
        ModelKind::Conversion
    } else {
        ModelKind::parse(&f.model).map_err(|e| e.to_string())?
    };
    let split = if conversion { "" } else { f.split.as_str() };
    let mut cfg = TrainConfig::new(split, model);
    cfg.epochs = f.epochs;
    cfg.batch_size = f.batch_size;
    cfg.device.clone_from(&f.device);
    cfg.hyper.factors = f.factors;
    cfg.hyper.lr = f.lr;
    Ok(cfg)
}

/// The run form: model (not for conversion), split, hyper-parameters, device.
pub fn train_ui(
    ui: &mut egui::Ui,
    f: &mut TrainForm,
    splits: &[String],
    devices: &[String],
    conversion: bool,
) {
    egui::Grid::new("train_form").num_columns(2).show(ui, |ui| {
        if !conversion {
            ui.label("model");
            egui::ComboBox::from_id_salt("model")
                .selected_text(f.model.as_str())
                .show_ui(ui, |ui| {
                    for m in ModelKind::ALL {
                        if m == ModelKind::Conversion || m == ModelKind::TwoTower {
                            continue;
                        }
                        // Picking a model fills in its own defaults.
                        if ui
                            .selectable_value(&mut f.model, m.name().to_string(), m.name())
                            .changed()
                        {
                            f.use_defaults_of(m);
                        }
                    }
                });
            ui.end_row();
            split_row(ui, &mut f.split, splits);
        } else {
            ui.label("data");
            ui.label("the event log's sessions, 80/10/10 by the seed");
            ui.end_row();
        }
        ui.label("epochs");
        ui.add(egui::DragValue::new(&mut f.epochs).range(1..=1_000));
        ui.end_row();
        ui.label("factors");
        ui.add(egui::DragValue::new(&mut f.factors).range(1..=1_024));
        ui.end_row();
        ui.label("learning rate");
        ui.add(
            egui::DragValue::new(&mut f.lr)
                .range(1e-5..=1.0)
                .speed(0.0005),
        );
        ui.end_row();
        ui.label("batch size");
        ui.add(egui::DragValue::new(&mut f.batch_size).range(1..=65_536));
        ui.end_row();
        device_row(ui, &mut f.device, devices);
    });
}

fn split_row(ui: &mut egui::Ui, split: &mut String, splits: &[String]) {
    ui.label("split");
    egui::ComboBox::from_id_salt("split")
        .selected_text(split.as_str())
        .show_ui(ui, |ui| {
            for s in splits {
                ui.selectable_value(split, s.clone(), s);
            }
        });
    ui.end_row();
}

fn device_row(ui: &mut egui::Ui, device: &mut String, devices: &[String]) {
    ui.label("device");
    let status = shoplab_engine::device_status();
    ui.horizontal(|ui| {
        for d in devices {
            ui.selectable_value(device, d.clone(), d);
        }
        // A CUDA build without a GPU says why cuda is not offered.
        if status.starts_with("CUDA build, but") {
            ui.weak(status);
        }
    })
    .response
    .on_hover_text(format!(
        "{status}. cuda is offered when this build has CUDA and a GPU is visible; the run \
         records the device it used"
    ));
    ui.end_row();
}

/// A text run's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TextForm {
    pub encoder: String,
    pub task: TextTask,
    pub method: TextMethod,
    pub epochs: usize,
    pub lr: f64,
    pub batch_size: usize,
    pub max_tokens: usize,
    /// Reviews used (0: all).
    pub limit: usize,
    pub split: String,
    pub device: String,
}

impl Default for TextForm {
    fn default() -> Self {
        let d = FinetuneConfig::new("", TextTask::Rating, TextMethod::Lora);
        TextForm {
            encoder: String::new(),
            task: TextTask::Rating,
            method: TextMethod::Lora,
            epochs: d.epochs,
            lr: d.lr,
            batch_size: d.batch_size,
            max_tokens: d.max_tokens,
            limit: 0,
            split: "main".into(),
            device: "auto".into(),
        }
    }
}

impl TextForm {
    /// The configuration: a review task, or the two-tower on the form's split.
    pub fn config(&self, two_tower: bool) -> FinetuneConfig {
        let task = if two_tower {
            TextTask::TwoTower
        } else {
            self.task
        };
        let mut c = FinetuneConfig::new(&self.encoder, task, self.method);
        c.epochs = self.epochs;
        c.lr = self.lr;
        c.batch_size = self.batch_size;
        c.max_tokens = self.max_tokens;
        c.limit = (self.limit > 0).then_some(self.limit);
        c.device.clone_from(&self.device);
        if two_tower {
            c.split = Some(self.split.clone());
        }
        c
    }
}

/// The text run form: encoder, task (not for the two-tower), method, schedule, device.
pub fn text_ui(
    ui: &mut egui::Ui,
    f: &mut TextForm,
    encoders: &[String],
    splits: &[String],
    devices: &[String],
    two_tower: bool,
) {
    if encoders.is_empty() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "No text encoder yet: import one with `shoplab encoder import FOLDER` (the test setup fetches MiniLM from a package registry). TF-IDF needs none.",
        );
    }
    egui::Grid::new("text_form").num_columns(2).show(ui, |ui| {
        ui.label("encoder");
        egui::ComboBox::from_id_salt("encoder")
            .selected_text(if f.encoder.is_empty() { "(none)" } else { f.encoder.as_str() })
            .show_ui(ui, |ui| {
                for e in encoders {
                    ui.selectable_value(&mut f.encoder, e.clone(), e);
                }
            });
        ui.end_row();
        if two_tower {
            split_row(ui, &mut f.split, splits);
        } else {
            ui.label("task");
            ui.horizontal(|ui| {
                ui.selectable_value(&mut f.task, TextTask::Rating, "rating (RMSE)");
                ui.selectable_value(&mut f.task, TextTask::Recommend, "recommended flag (AUC)");
            });
            ui.end_row();
        }
        ui.label("method");
        ui.horizontal(|ui| {
            for m in [TextMethod::Full, TextMethod::Lora, TextMethod::Frozen, TextMethod::Tfidf] {
                if two_tower && m == TextMethod::Tfidf {
                    continue;
                }
                ui.selectable_value(&mut f.method, m, m.name());
            }
        })
        .response
        .on_hover_text("full: every weight trains; lora: low-rank adapters; frozen: a head on the fixed encoder; tfidf: a linear model on word counts, the baseline");
        ui.end_row();
        ui.label("epochs");
        ui.add(egui::DragValue::new(&mut f.epochs).range(1..=100));
        ui.end_row();
        ui.label("learning rate");
        ui.add(egui::DragValue::new(&mut f.lr).range(1e-6..=1.0).speed(1e-5));
        ui.end_row();
        ui.label("batch size");
        ui.add(egui::DragValue::new(&mut f.batch_size).range(1..=1_024));
        ui.end_row();
        ui.label("max tokens");
        ui.add(egui::DragValue::new(&mut f.max_tokens).range(8..=512));
        ui.end_row();
        ui.label("reviews (0 = all)");
        ui.add(egui::DragValue::new(&mut f.limit).range(0..=1_000_000));
        ui.end_row();
        device_row(ui, &mut f.device, devices);
    });
}

/// A sweep's settings: axes as text (`factors` / `16,32,64`), search, seeds, tag.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepForm {
    /// (option, values or range) per axis.
    pub axes: Vec<(String, String)>,
    pub random: bool,
    pub trials: usize,
    pub seeds: String,
    pub tag: String,
    /// Sweep the conversion model instead of the run form's recommender.
    pub conversion: bool,
}

impl Default for SweepForm {
    fn default() -> Self {
        SweepForm {
            axes: vec![
                ("factors".into(), "16,64".into()),
                ("lr".into(), "0.01,0.05".into()),
            ],
            random: false,
            trials: 10,
            seeds: "1,2,3".into(),
            tag: String::new(),
            conversion: false,
        }
    }
}

impl SweepForm {
    /// The sweep over the run form's configuration.
    pub fn spec(&self, base: TrainConfig) -> Result<SweepSpec, String> {
        let axes = self
            .axes
            .iter()
            .filter(|(n, v)| !n.trim().is_empty() && !v.trim().is_empty())
            .map(|(n, v)| {
                Axis::parse(&format!("{}={}", n.trim(), v.trim())).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let seeds = self
            .seeds
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<u64>()
                    .map_err(|_| format!("seeds: \"{s}\" is not a whole number"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SweepSpec {
            base,
            axes,
            search: if self.random {
                Search::Random {
                    trials: self.trials,
                    seed: 0,
                }
            } else {
                Search::Grid
            },
            seeds,
        })
    }
}

/// The sweep form (over the run form's model, split and other settings).
pub fn sweep_ui(ui: &mut egui::Ui, f: &mut SweepForm, base: &str) {
    ui.label(format!(
        "Each trial is a normal run of {base} (the Recommender form's settings), tagged with the sweep's name; they run one after another."
    ));
    ui.checkbox(&mut f.conversion, "sweep the conversion model instead");
    let mut remove = None;
    egui::Grid::new("sweep_axes").num_columns(3).show(ui, |ui| {
        ui.strong("option");
        ui.strong("values: 16,32,64 · range: 0.001..0.1 · log:0.001..0.1");
        ui.end_row();
        for (i, (name, values)) in f.axes.iter_mut().enumerate() {
            ui.add(egui::TextEdit::singleline(name).desired_width(90.0));
            ui.add(egui::TextEdit::singleline(values).desired_width(220.0));
            if ui.small_button("remove").clicked() {
                remove = Some(i);
            }
            ui.end_row();
        }
    });
    if let Some(i) = remove {
        f.axes.remove(i);
    }
    if ui.small_button("add an option").clicked() {
        f.axes.push((String::new(), String::new()));
    }
    egui::Grid::new("sweep_search")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("search");
            ui.horizontal(|ui| {
                ui.selectable_value(&mut f.random, false, "grid (every combination)");
                ui.selectable_value(&mut f.random, true, "random");
                if f.random {
                    ui.add(
                        egui::DragValue::new(&mut f.trials)
                            .range(1..=1_000)
                            .suffix(" draws"),
                    );
                }
            });
            ui.end_row();
            ui.label("seeds");
            ui.add(egui::TextEdit::singleline(&mut f.seeds).hint_text("1,2,3"));
            ui.end_row();
            ui.label("tag");
            ui.add(egui::TextEdit::singleline(&mut f.tag).hint_text("sweep-N"));
            ui.end_row();
        });
}

/// A new split's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitForm {
    pub name: String,
    /// random_ratio, stratified, temporal, leave_last_out, kfold, hashed.
    pub strategy: &'static str,
    pub valid: f64,
    pub test: f64,
    pub valid_n: u32,
    pub test_n: u32,
    pub folds: u32,
    pub fold: u32,
    pub seed: u64,
    pub k_core: u32,
    pub cold_items: f64,
}

impl Default for SplitForm {
    fn default() -> Self {
        SplitForm {
            name: "split2".into(),
            strategy: "random_ratio",
            valid: 0.1,
            test: 0.1,
            valid_n: 1,
            test_n: 1,
            folds: 5,
            fold: 0,
            seed: 1,
            k_core: 0,
            cold_items: 0.0,
        }
    }
}

pub const STRATEGIES: [(&str, &str); 6] = [
    ("random_ratio", "random ratio"),
    ("stratified", "stratified by user"),
    ("temporal", "temporal (latest events to test)"),
    ("leave_last_out", "leave last out"),
    ("kfold", "k-fold"),
    ("hashed", "hashed (the same on DuckDB and Spark)"),
];

impl SplitForm {
    pub fn spec(&self) -> SplitSpec {
        let train = 1.0 - self.valid - self.test;
        let strategy = match self.strategy {
            "stratified" => Strategy::Stratified {
                train,
                valid: self.valid,
                test: self.test,
            },
            "temporal" => Strategy::Temporal {
                valid: self.valid,
                test: self.test,
            },
            "leave_last_out" => Strategy::LeaveLastOut {
                valid: self.valid_n,
                test: self.test_n,
            },
            "kfold" => Strategy::KFold {
                folds: self.folds,
                fold: self.fold,
            },
            "hashed" => Strategy::Hashed {
                train,
                valid: self.valid,
                test: self.test,
            },
            _ => Strategy::RandomRatio {
                train,
                valid: self.valid,
                test: self.test,
            },
        };
        SplitSpec {
            name: self.name.trim().to_string(),
            strategy,
            seed: self.seed,
            event_types: None,
            min_value: None,
            k_core: (self.k_core > 0).then_some(self.k_core),
            cold_items: (self.cold_items > 0.0).then_some(self.cold_items),
        }
    }
}

pub fn split_ui(ui: &mut egui::Ui, f: &mut SplitForm) {
    egui::Grid::new("split_form").num_columns(2).show(ui, |ui| {
        ui.label("name");
        ui.text_edit_singleline(&mut f.name);
        ui.end_row();
        ui.label("strategy");
        egui::ComboBox::from_id_salt("strategy")
            .selected_text(
                STRATEGIES
                    .iter()
                    .find(|s| s.0 == f.strategy)
                    .map_or(f.strategy, |s| s.1),
            )
            .show_ui(ui, |ui| {
                for (key, label) in STRATEGIES {
                    ui.selectable_value(&mut f.strategy, key, label);
                }
            });
        ui.end_row();
        match f.strategy {
            "leave_last_out" => {
                ui.label("valid (per user)");
                ui.add(egui::DragValue::new(&mut f.valid_n).range(0..=100));
                ui.end_row();
                ui.label("test (per user)");
                ui.add(egui::DragValue::new(&mut f.test_n).range(0..=100));
                ui.end_row();
            }
            "kfold" => {
                ui.label("folds");
                ui.add(egui::DragValue::new(&mut f.folds).range(0..=50));
                ui.end_row();
                ui.label("test fold (from 0)");
                ui.add(egui::DragValue::new(&mut f.fold).range(0..=49));
                ui.end_row();
            }
            _ => {
                ui.label("valid fraction");
                ui.add(
                    egui::DragValue::new(&mut f.valid)
                        .range(0.0..=0.99)
                        .speed(0.01),
                );
                ui.end_row();
                ui.label("test fraction");
                ui.add(
                    egui::DragValue::new(&mut f.test)
                        .range(0.0..=0.99)
                        .speed(0.01),
                );
                ui.end_row();
            }
        }
        ui.label("seed");
        ui.add(egui::DragValue::new(&mut f.seed));
        ui.end_row();
        ui.label("k-core (0: off)");
        ui.add(egui::DragValue::new(&mut f.k_core).range(0..=100))
            .on_hover_text("keep only users and items with at least k interactions, repeatedly");
        ui.end_row();
        ui.label("cold items (fraction)");
        ui.add(
            egui::DragValue::new(&mut f.cold_items)
                .range(0.0..=0.99)
                .speed(0.01),
        )
        .on_hover_text(
            "a seeded share of the items moved wholly to test: the cold-start slice (cold_ndcg@10)",
        );
        ui.end_row();
    });
}
