//! The workbench's views by name: one table that the tab bar, the shortcuts (Ctrl+1…4), the
//! command line's `--view` and the stored preferences all go by.

use std::fmt;
use std::str::FromStr;

use egui::Key;

/// One of the workbench's views (stored in the preferences by its variant name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    #[default]
    Data,
    Models,
    Compare,
    Simulate,
}

/// Every view in tab-bar order: its name (shown in the tab bar; lower-cased on the command
/// line) and its shortcut (Ctrl + key).
static TABS: [(Tab, &str, Key); 4] = [
    (Tab::Data, "Data", Key::Num1),
    (Tab::Models, "Models", Key::Num2),
    (Tab::Compare, "Compare", Key::Num3),
    (Tab::Simulate, "Simulate", Key::Num4),
];

impl Tab {
    /// Every view, in tab-bar order.
    pub fn all() -> impl Iterator<Item = Tab> {
        TABS.iter().map(|row| row.0)
    }

    /// The name shown in the tab bar.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// Ctrl + this key shows the view.
    pub fn key(self) -> Key {
        self.row().2
    }

    fn row(self) -> &'static (Tab, &'static str, Key) {
        TABS.iter()
            .find(|row| row.0 == self)
            .expect("every tab has a row in TABS")
    }
}

/// A view name that is none of the workbench's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTab(pub String);

impl fmt::Display for UnknownTab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<String> = Tab::all().map(|t| t.name().to_lowercase()).collect();
        write!(
            f,
            "unknown view \"{}\" (known: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownTab {}

impl FromStr for Tab {
    type Err = UnknownTab;

    /// A view by its name, in any case (`--view models`).
    fn from_str(name: &str) -> Result<Tab, UnknownTab> {
        Tab::all()
            .find(|t| t.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownTab(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new variant stops this test from compiling until it is listed here; the test then
    /// fails until the variant has its row in `TABS`.
    #[test]
    fn every_tab_has_a_row() {
        let listed = |tab: Tab| match tab {
            Tab::Data | Tab::Models | Tab::Compare | Tab::Simulate => tab,
        };
        for tab in [Tab::Data, Tab::Models, Tab::Compare, Tab::Simulate] {
            assert!(TABS.iter().any(|row| row.0 == listed(tab)), "{tab:?}");
        }
    }

    #[test]
    fn names_parse_back_and_keys_differ() {
        let tabs: Vec<Tab> = Tab::all().collect();
        assert_eq!(tabs.len(), TABS.len());
        for (i, tab) in tabs.iter().enumerate() {
            assert_eq!(tab.name().to_lowercase().parse::<Tab>(), Ok(*tab));
            assert!(tabs[..i].iter().all(|t| t != tab && t.key() != tab.key()));
        }
        assert_eq!("simulate".parse::<Tab>(), Ok(Tab::Simulate));
        assert_eq!(
            "plots".parse::<Tab>().unwrap_err().to_string(),
            "unknown view \"plots\" (known: data, models, compare, simulate)"
        );
    }
}
