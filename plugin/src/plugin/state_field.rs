//! The saved state's persisted field (`worklet-state`): the JSON text the host
//! saves and loads, and a count of loads, so that the control thread notices a
//! state loaded at any time (a preset, the host's undo, a host that restores state
//! after activating) and never writes an older state back over it.
//!
//! Any thread: the host loads and saves on its main thread, the control thread
//! writes and reads it. The lock is held only for a copy.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use nice_plug::params::persist::PersistentField;

/// The JSON of the saved state and how many times the host has loaded one.
#[derive(Debug, Default)]
pub struct StateField {
    text: RwLock<String>,
    loads: AtomicU64,
}

impl StateField {
    /// The JSON text and the load count it belongs to, read together.
    pub fn snapshot(&self) -> (String, u64) {
        let text = self.text.read().unwrap_or_else(PoisonError::into_inner);
        (text.clone(), self.loads.load(Ordering::Acquire))
    }

    /// The JSON text.
    pub fn text(&self) -> String {
        self.snapshot().0
    }

    /// States the host has loaded so far.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Acquire)
    }

    /// Writes `json` unless the host has loaded a state since load `seen` (the
    /// caller then adopts that state first). Returns whether it was written.
    pub fn store_unless_loaded(&self, json: String, seen: u64) -> bool {
        let mut text = self.text.write().unwrap_or_else(PoisonError::into_inner);
        if self.loads.load(Ordering::Acquire) != seen {
            return false;
        }
        *text = json;
        true
    }
}

impl PersistentField<'_, String> for StateField {
    /// The host loaded a state: store it and count the load (under the lock, so a
    /// concurrent [`StateField::store_unless_loaded`] sees one or the other).
    fn set(&self, new_value: String) {
        let mut text = self.text.write().unwrap_or_else(PoisonError::into_inner);
        *text = new_value;
        self.loads.fetch_add(1, Ordering::AcqRel);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&String) -> R,
    {
        f(&self.text.read().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_wins_over_a_store_from_before_it() {
        let field = StateField::default();
        let (_, seen) = field.snapshot();
        assert!(field.store_unless_loaded("ours".into(), seen));
        field.set("loaded".into());
        assert!(!field.store_unless_loaded("stale".into(), seen), "a store that has not seen the load is refused");
        assert_eq!(field.snapshot(), ("loaded".to_owned(), seen + 1));
        assert!(field.store_unless_loaded("after".into(), seen + 1));
        assert_eq!(field.map(String::clone), "after");
    }
}
