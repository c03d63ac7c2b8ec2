//! The control room: a what-if streamed day by day over a channel, with start and stop.

use std::sync::atomic::Ordering;

use tauri::State;
use tauri::ipc::Channel;

use super::{Answer, blocking};
use crate::convert;
use crate::dto::{ControlDone, ControlRequest, DayPoint};
use crate::state::DemoState;

/// Runs policy A against policy B, each simulated day sent on `on_day` as it is done;
/// answers when the run ends (the last day, or [`control_room_stop`]). Stored like any
/// simulation.
#[tauri::command]
pub async fn control_room_start(
    req: ControlRequest,
    on_day: Channel<DayPoint>,
    state: State<'_, DemoState>,
) -> Answer<ControlDone> {
    let store = state.store()?;
    let stop = state.start_control()?;
    let flag = stop.clone();
    let result = blocking(move || {
        let mut days = 0;
        let report = store.control_room(
            &req.policy_a,
            &req.policy_b,
            req.days,
            req.seeds,
            req.speed,
            &mut |d| {
                days = days.max(d.day + 1);
                on_day.send(convert::day(d)).is_ok() && !flag.load(Ordering::SeqCst)
            },
        )?;
        Ok(ControlDone {
            sim_id: report.sim_id,
            days,
            stopped: days < req.days,
        })
    })
    .await;
    state.end_control();
    result
}

/// Stops the control room's run; false when none is running.
#[tauri::command]
pub fn control_room_stop(state: State<'_, DemoState>) -> bool {
    state.stop_control()
}
