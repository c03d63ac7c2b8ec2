//! What the workbench remembers across restarts: UI preferences only, in eframe's storage.
//! Every struct is `#[serde(default)]`, so that what an older version stored still loads.

use std::path::PathBuf;

use shoplab_engine::{ModelKind, TrainConfig};

use crate::tab::Tab;

/// UI preferences that survive restarts. Each view writes its part in `View::save` and
/// reads it back when it is made.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub last_workspace: Option<PathBuf>,
    pub tab: Tab,
    /// The Data view's SQL console.
    pub sql: String,
    /// The Models view's run form.
    pub train: TrainForm,
    /// The Simulate view's scenario file, replicates and real-time speed.
    pub scenario: Option<PathBuf>,
    pub seeds: u64,
    pub days_per_second: f64,
    /// The Data view's Spark Connect endpoint and lake path.
    pub spark_remote: String,
    pub spark_data: String,
}

/// The Models view's run form (remembered across restarts).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrainForm {
    pub model: String,
    pub split: String,
    pub epochs: usize,
    pub factors: usize,
    pub lr: f64,
    pub batch_size: usize,
    pub device: String,
}

impl Default for TrainForm {
    fn default() -> Self {
        let mut form = TrainForm {
            model: String::new(),
            split: "main".into(),
            epochs: 0,
            factors: 0,
            lr: 0.0,
            batch_size: 1024,
            device: "auto".into(),
        };
        form.use_defaults_of(ModelKind::Bpr);
        form
    }
}

impl TrainForm {
    /// Sets the model and its own defaults (epochs, factors, learning rate).
    pub fn use_defaults_of(&mut self, model: ModelKind) {
        let cfg = TrainConfig::new(&self.split, model);
        self.model = model.name().to_string();
        self.epochs = cfg.epochs;
        self.factors = cfg.hyper.factors;
        self.lr = cfg.hyper.lr;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// eframe's storage, in memory.
    #[derive(Default)]
    struct Memory(std::collections::HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    /// Picking a model in the run form fills in that model's own defaults.
    #[test]
    fn the_run_form_takes_the_picked_models_defaults() {
        let mut form = TrainForm::default();
        assert_eq!(
            (form.model.as_str(), form.epochs, form.factors, form.lr),
            ("bpr", 100, 32, 0.003)
        );
        form.use_defaults_of(ModelKind::Mf);
        assert_eq!(
            (form.model.as_str(), form.epochs, form.factors, form.lr),
            ("mf", 30, 32, 0.01)
        );
        form.use_defaults_of(ModelKind::Bpmf);
        assert_eq!((form.epochs, form.factors), (100, 20));
    }

    fn load(stored: &str) -> Option<Prefs> {
        let mut storage = Memory::default();
        eframe::Storage::set_string(&mut storage, eframe::APP_KEY, stored.to_string());
        eframe::get_value(&storage, eframe::APP_KEY)
    }

    /// Preferences as the workbench stored them before the views were units (RON, as
    /// eframe writes it), and an older one with fields missing.
    #[test]
    fn stored_preferences_still_load() {
        let p = load(
            r#"(last_workspace:Some("/tmp/shop.duckdb"),tab:Compare,sql:"SELECT 1",train:(model:"mf",split:"main",epochs:3,factors:8,lr:0.05,batch_size:256,device:"cpu"),scenario:Some("scenarios/x.toml"),seeds:4,days_per_second:20.0)"#,
        )
        .expect("loads");
        assert_eq!(p.tab, Tab::Compare);
        assert_eq!(p.sql, "SELECT 1");
        assert_eq!((p.train.model.as_str(), p.train.epochs), ("mf", 3));
        assert_eq!((p.seeds, p.days_per_second), (4, 20.0));
        let old = load(r#"(tab:Models,train:(epochs:5))"#).expect("loads");
        assert_eq!(old.tab, Tab::Models);
        assert_eq!((old.train.epochs, old.train.model.as_str()), (5, "bpr"));
        assert_eq!(old.last_workspace, None);
    }

    #[test]
    fn preferences_round_trip() {
        let mut storage = Memory::default();
        let prefs = Prefs {
            tab: Tab::Simulate,
            seeds: 7,
            ..Default::default()
        };
        eframe::set_value(&mut storage, eframe::APP_KEY, &prefs);
        let back: Prefs = eframe::get_value(&storage, eframe::APP_KEY).expect("loads");
        assert_eq!((back.tab, back.seeds), (Tab::Simulate, 7));
    }
}
