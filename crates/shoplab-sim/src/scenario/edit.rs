//! Editors of a scenario's text: what a form reads from it without the checks of
//! [`Scenario::from_toml`](super::Scenario::from_toml) (an edit in progress may not run yet), and the text with one part
//! replaced through `toml_edit`, the rest — comments and layout included — as it was. A
//! table of an array (a policy, a rule, an event) that the edit leaves equal keeps its text;
//! in a changed one only the changed keys are rewritten.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Event, PolicySpec, default_days};
use crate::rules::PriceRule;

type Edit<T> = std::result::Result<T, String>;

/// A scenario's events and its horizon in days.
pub fn events_of(text: &str) -> Edit<(Vec<Event>, u32)> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let days = doc
        .get("days")
        .and_then(toml::Value::as_integer)
        .map_or(default_days(), |d| d.max(1) as u32);
    Ok((tables_of(&doc, "events")?, days))
}

/// A scenario's policies.
pub fn policies_of(text: &str) -> Edit<Vec<PolicySpec>> {
    tables_of(
        &toml::from_str(text).map_err(|e| e.to_string())?,
        "policies",
    )
}

/// A scenario's price rules.
pub fn rules_of(text: &str) -> Edit<Vec<PriceRule>> {
    tables_of(&toml::from_str(text).map_err(|e| e.to_string())?, "rules")
}

/// The names of a scenario's policies, in order (a policy that does not read yet
/// included).
pub fn policy_names(text: &str) -> Edit<Vec<String>> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(doc
        .get("policies")
        .and_then(toml::Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.get("name")?.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// The scenario text with its events replaced by `events`.
pub fn with_events(text: &str, events: &[Event]) -> Edit<String> {
    with_tables(text, "events", events)
}

/// The scenario text with its policies replaced by `policies`.
pub fn with_policies(text: &str, policies: &[PolicySpec]) -> Edit<String> {
    with_tables(text, "policies", policies)
}

/// The scenario text with its price rules replaced by `rules`.
pub fn with_rules(text: &str, rules: &[PriceRule]) -> Edit<String> {
    with_tables(text, "rules", rules)
}

/// The scenario text with its world set to calibration `id`.
pub fn with_calibration(text: &str, id: i64) -> Edit<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("scenario: {e}"))?;
    toml::from_str::<toml::Table>(text).map_err(|e| format!("scenario: {e}"))?;
    let mut world = toml_edit::InlineTable::new();
    world.insert("calibration", id.into());
    doc["world"] = toml_edit::value(world);
    Ok(doc.to_string())
}

/// The array of tables `key` of a parsed scenario, typed (empty when absent).
fn tables_of<T: DeserializeOwned>(doc: &toml::Table, key: &str) -> Edit<Vec<T>> {
    match doc.get(key) {
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| format!("{key}: {e}")),
        None => Ok(Vec::new()),
    }
}

/// The text with the array of tables `key` set to `values`: table k updated in place (its
/// unchanged keys untouched, changed ones rewritten with their comments, gone ones removed),
/// tables past the old ones appended, the old ones past the new removed. An array written
/// inline, or none, is written anew as `[[key]]` tables.
fn with_tables<T: Serialize>(text: &str, key: &str, values: &[T]) -> Edit<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let old: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let old = old
        .get(key)
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let new: Vec<toml::Table> = values
        .iter()
        .map(|v| toml::Table::try_from(v).map_err(|e| e.to_string()))
        .collect::<Edit<_>>()?;
    if new.is_empty() {
        doc.remove(key);
        return Ok(doc.to_string());
    }
    let Some(tables) = doc
        .get_mut(key)
        .and_then(toml_edit::Item::as_array_of_tables_mut)
    else {
        let mut tables = toml_edit::ArrayOfTables::new();
        for t in &new {
            tables.push(edit_table(t)?);
        }
        doc[key] = toml_edit::Item::ArrayOfTables(tables);
        return Ok(doc.to_string());
    };
    for (k, t) in new.iter().enumerate() {
        match tables.get_mut(k) {
            Some(table) => update_table(table, old.get(k).and_then(toml::Value::as_table), t)?,
            None => tables.push(edit_table(t)?),
        }
    }
    while tables.len() > new.len() {
        tables.remove(tables.len() - 1);
    }
    Ok(doc.to_string())
}

/// `table` (whose values read as `before`) made to hold `after`'s values.
fn update_table(
    table: &mut toml_edit::Table,
    before: Option<&toml::Table>,
    after: &toml::Table,
) -> Edit<()> {
    let gone: Vec<String> = table
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !after.contains_key(k))
        .collect();
    for k in gone {
        table.remove(&k);
    }
    for (k, v) in after {
        let same = before.and_then(|b| b.get(k)) == Some(v);
        match table.get_mut(k) {
            Some(_) if same => {}
            Some(toml_edit::Item::Value(old)) => {
                let decor = old.decor().clone();
                *old = edit_value(v)?;
                *old.decor_mut() = decor;
            }
            Some(item) => *item = toml_edit::Item::Value(edit_value(v)?),
            None => {
                table.insert(k, toml_edit::Item::Value(edit_value(v)?));
            }
        }
    }
    Ok(())
}

/// A value as `toml_edit` writes it (a table inline).
fn edit_value(v: &toml::Value) -> Edit<toml_edit::Value> {
    v.to_string()
        .parse::<toml_edit::Value>()
        .map_err(|e| e.to_string())
}

fn edit_table(t: &toml::Table) -> Edit<toml_edit::Table> {
    let mut table = toml_edit::Table::new();
    for (k, v) in t {
        table.insert(k, toml_edit::Item::Value(edit_value(v)?));
    }
    Ok(table)
}

#[cfg(test)]
mod edit_tests {
    use super::*;
    use crate::scenario::{Pricing, Recommend, Scenario};

    const TEXT: &str = r#"# A competitor cuts prices.
name = "cut"   # shown in the runs
days = 30
world = { seed = 3, users = 300, items = 80, categories = 4 }

# The baseline.
[[policies]]
name = "list"
recommend = "popularity"
pricing = { kind = "list" }

# The learner.
[[policies]]
name = "ts"
recommend = "popularity"
pricing = { kind = "thompson", grid = [0.9, 1.0, 1.1] }   # three arms
max_move = 0.1
"#;

    #[test]
    fn the_editors_keep_what_they_did_not_touch_comments_included() {
        let event = Event {
            competitor_price: Some(0.85),
            ..Event::blank(10)
        };
        let t = with_events(TEXT, std::slice::from_ref(&event)).unwrap();
        for kept in [
            "# A competitor cuts prices.",
            "# shown in the runs",
            "# The baseline.",
        ] {
            assert!(t.contains(kept), "{t}");
        }
        // Defaults are not written: no `stock_out = false`, no `launch = []`.
        assert!(!t.contains("stock_out") && !t.contains("launch"), "{t}");
        let (events, days) = events_of(&t).unwrap();
        assert_eq!((events, days), (vec![event], 30));
        let c = with_calibration(&t, 2).unwrap();
        assert!(
            c.contains("# The baseline.") && c.contains("calibration = 2"),
            "{c}"
        );
        let s = Scenario::from_toml(&c, "x").unwrap();
        assert_eq!(s.world.calibration, Some(2));
        assert_eq!(s.events.len(), 1);
        // No events: the list is emptied, the rest stays.
        let none = with_events(&t, &[]).unwrap();
        assert!(events_of(&none).unwrap().0.is_empty() && none.contains("# The baseline."));
        assert!(with_events("name = ", &[]).is_err());
    }

    #[test]
    fn every_pricing_kind_is_the_name_the_scenario_reads() {
        for kind in Pricing::KINDS {
            let p = Pricing::List.as_kind(kind);
            assert_eq!(p.kind(), kind);
            let written = toml::Value::try_from(&p).unwrap();
            assert_eq!(written["kind"].as_str(), Some(kind));
        }
    }

    #[test]
    fn a_policy_form_rewrites_only_what_it_changed() {
        let mut policies = policies_of(TEXT).unwrap();
        assert_eq!(policies.len(), 2);
        // Unchanged: the very same text.
        assert_eq!(with_policies(TEXT, &policies).unwrap(), TEXT);
        // The learner's grid widened, its move removed, a third policy added.
        policies[1].pricing = Pricing::Thompson {
            grid: vec![0.8, 0.9, 1.0, 1.1, 1.2],
        };
        policies[1].max_move = None;
        policies.push(PolicySpec {
            name: "cost plus".into(),
            recommend: Recommend::Affinity,
            pricing: Pricing::CostPlus { markup: 0.3 },
            max_move: None,
        });
        let t = with_policies(TEXT, &policies).unwrap();
        for kept in ["# The baseline.", "# The learner.", "# three arms"] {
            assert!(t.contains(kept), "{t}");
        }
        assert!(!t.contains("max_move"), "{t}");
        assert!(
            t.contains(r#"pricing = { kind = "cost-plus", markup = 0.3 }"#),
            "{t}"
        );
        assert_eq!(policies_of(&t).unwrap(), policies);
        // Removing the first keeps the second's comment.
        let t = with_policies(&t, &policies[1..]).unwrap();
        assert_eq!(policies_of(&t).unwrap(), policies[1..].to_vec());
        assert!(t.contains("# three arms"), "{t}");

        let rules = vec![
            PriceRule {
                floor_margin: Some(0.05),
                ending: Some(0.99),
                ..PriceRule::default()
            },
            PriceRule {
                category: Some("c1".into()),
                ceiling: Some(1.2),
                ..PriceRule::default()
            },
        ];
        let r = with_rules(TEXT, &rules).unwrap();
        assert!(
            r.contains("[[rules]]") && r.starts_with("# A competitor"),
            "{r}"
        );
        assert_eq!(rules_of(&r).unwrap(), rules);
        assert_eq!(Scenario::from_toml(&r, "x").unwrap().rules, rules);
        assert!(!with_rules(&r, &[]).unwrap().contains("rules"));
    }
}
