//! What the app holds between commands: the open storefront, the latest re-score's number
//! (latest wins) and the control room's stop flag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use shoplab_engine::Storefront;

use crate::error::ApiError;

#[derive(Default)]
pub struct DemoState {
    store: RwLock<Option<Arc<Storefront>>>,
    generation: AtomicU64,
    control: Mutex<Option<Arc<AtomicBool>>>,
}

impl DemoState {
    /// The open storefront.
    pub fn store(&self) -> Result<Arc<Storefront>, ApiError> {
        self.store
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(ApiError::no_workspace)
    }

    pub fn set_store(&self, store: Storefront) -> Arc<Storefront> {
        let store = Arc::new(store);
        *self.store.write().unwrap_or_else(|e| e.into_inner()) = Some(store.clone());
        store
    }

    /// A new re-score's number; every earlier one is now stale.
    pub fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Fails with `superseded` when a newer re-score than `generation` was asked for.
    pub fn check_latest(&self, generation: u64) -> Result<(), ApiError> {
        if self.generation.load(Ordering::SeqCst) != generation {
            return Err(ApiError::new(
                "superseded",
                format!("re-score {generation} was superseded by a newer one"),
            ));
        }
        Ok(())
    }

    /// Claims the control room: its stop flag, or `busy` when a run is going.
    pub fn start_control(&self) -> Result<Arc<AtomicBool>, ApiError> {
        let mut slot = self.control.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(ApiError::new(
                "busy",
                "the control room is already running: stop it first",
            ));
        }
        let stop = Arc::new(AtomicBool::new(false));
        *slot = Some(stop.clone());
        Ok(stop)
    }

    pub fn end_control(&self) {
        *self.control.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Asks a running control room to stop; false when none runs.
    pub fn stop_control(&self) -> bool {
        match self
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            Some(stop) => {
                stop.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_re_score_wins() {
        let state = DemoState::default();
        let first = state.next_generation();
        assert_eq!(state.check_latest(first), Ok(()));
        let second = state.next_generation();
        let stale = state.check_latest(first).unwrap_err();
        assert_eq!(stale.code, "superseded");
        assert_eq!(state.check_latest(second), Ok(()));
    }

    #[test]
    fn one_control_room_run_at_a_time() {
        let state = DemoState::default();
        assert!(!state.stop_control(), "nothing runs yet");
        let stop = state.start_control().unwrap();
        assert_eq!(state.start_control().unwrap_err().code, "busy");
        assert!(state.stop_control());
        assert!(stop.load(Ordering::SeqCst));
        state.end_control();
        assert!(state.start_control().is_ok());
    }

    #[test]
    fn commands_before_a_workspace_is_open() {
        let state = DemoState::default();
        assert_eq!(state.store().err().unwrap().code, "no_workspace");
    }
}
