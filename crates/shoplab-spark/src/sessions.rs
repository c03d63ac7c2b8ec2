//! The calibration's sessions on the cluster: [`dialect::choice_sessions`]'s Spark side
//! (one row per session and item shown); the workspace joins its catalog to them.

use shoplab_data::dialect;
use shoplab_data::simlab::ChoiceSession;

use crate::{Lake, LakeError, Result, double, text};

impl Lake {
    /// Every (session, item) of the lake's views and purchases, in session and item order.
    pub fn choice_sessions(&self, step: &mut dyn FnMut(&str)) -> Result<Vec<ChoiceSession>> {
        step("the sessions");
        let (_, sql) = dialect::choice_sessions();
        let rows = self.rows("the sessions", &sql)?;
        let int = |r: &spark_connect::row::Row, k: usize| -> Result<i32> {
            r.get(k)
                .and_then(|v| v.as_i64())
                .map(|n| n as i32)
                .ok_or_else(|| LakeError::Data(format!("the sessions: column {k} is not a number")))
        };
        rows.iter()
            .map(|r| {
                Ok(ChoiceSession {
                    session: text(r, 0)?.unwrap_or_default(),
                    user_id: text(r, 1)?.unwrap_or_default(),
                    day: int(r, 2)?,
                    first_weekday: int(r, 3)?,
                    item_id: text(r, 4)?.unwrap_or_default(),
                    view_price: double(r, 5)?,
                    buy_price: double(r, 6)?,
                    bought: matches!(r.get(7), Some(spark_connect::row::Value::Bool(true))),
                    category: text(r, 8)?,
                })
            })
            .collect()
    }
}
