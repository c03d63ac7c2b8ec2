//! The hashed split on the cluster: [`dialect::hashed_split`]'s Spark side over the lake's
//! events, the k-core applied as views until stable; the rows come back with their part.

use shoplab_data::dialect;
use shoplab_data::split::{SplitRow, SplitSpec, Strategy, default_split_types};

use crate::{Lake, LakeError, Result, double, long, text};

impl Lake {
    /// The split `spec` (it must be [`Strategy::Hashed`]) of the lake's events, computed on
    /// the cluster: the same rows and parts the workspace's `create_split` gives for the same
    /// events and seed. `step` hears each step's name before it runs.
    pub fn split(&self, spec: &SplitSpec, step: &mut dyn FnMut(&str)) -> Result<Vec<SplitRow>> {
        let Strategy::Hashed { valid, test, .. } = spec.strategy else {
            return Err(LakeError::Data(format!(
                "a {} split is drawn by ShopLab's own generator; on Spark, use the hashed split \
                 (--strategy hashed), which both engines compute alike",
                spec.strategy.name()
            )));
        };
        spec.check().map_err(|e| LakeError::Data(e.to_string()))?;
        step("the split's rows");
        let types = match &spec.event_types {
            Some(t) => t.clone(),
            None => {
                let r = self.rows(
                    "ratings",
                    "SELECT count(*) FROM events WHERE event_type = 'rating'",
                )?;
                default_split_types(r.first().map(|r| long(r, 0)).transpose()?.unwrap_or(0) > 0)
            }
        };
        self.view(
            "split_src_0",
            &dialect::split_source(&types, spec.min_value),
        )?;
        let mut from = "split_src_0".to_string();
        if let Some(k) = spec.k_core.filter(|k| *k > 1) {
            let mut n = self.count(&from)?;
            for pass in 1.. {
                step(&format!("{k}-core, pass {pass}"));
                let next = format!("split_src_{pass}");
                self.view(&next, &dialect::k_core_pass(&from, k))?;
                from = next;
                let m = self.count(&from)?;
                if m == n {
                    break;
                }
                n = m;
            }
        }
        step("the hashed split");
        let (_, sql) = dialect::hashed_split(&from, spec.seed, valid, test, spec.cold_items);
        let rows = self.rows(
            "the hashed split",
            &format!(
                "SELECT user_id, item_id, CAST(value AS DOUBLE),
                        unix_micros(CAST(event_time AS TIMESTAMP)), part FROM ({sql}) s"
            ),
        )?;
        rows.iter()
            .map(|r| {
                Ok(SplitRow {
                    user_id: text(r, 0)?.unwrap_or_default(),
                    item_id: text(r, 1)?.unwrap_or_default(),
                    value: double(r, 2)?,
                    event_time: r.get(3).and_then(|v| v.as_i64()),
                    part: text(r, 4)?.unwrap_or_default(),
                })
            })
            .collect()
    }

    fn view(&self, name: &str, sql: &str) -> Result<()> {
        self.rows(
            name,
            &format!("CREATE OR REPLACE TEMP VIEW {name} AS {sql}"),
        )?;
        Ok(())
    }

    fn count(&self, relation: &str) -> Result<u64> {
        let r = self.rows(relation, &format!("SELECT count(*) FROM {relation}"))?;
        r.first()
            .map(|r| long(r, 0))
            .transpose()?
            .ok_or_else(|| LakeError::Data(format!("{relation}: no count")))
    }
}
