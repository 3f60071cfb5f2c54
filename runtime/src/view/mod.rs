//! The read model: the `/api/state` document, written by the cycle, read by everyone else.
//!
//! The cycle hands one pass's decisions to its [`StateWriter`], which renders the document
//! ([`render`]) and publishes it; the HTTP server, the simulation's invariants and the demo
//! hold [`StateReader`]s and only read. The writer is not `Clone`: one runtime, one writer.
//!
//! Architecture invariant: knows nothing of HTTP (the `api` module serves what it reads) and
//! nothing of I/O; rendering is a pure function of its input.

mod document;
mod render;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

pub use document::{
    ApiState, Badge, BadgeVariant, CycleSection, MoneroSection, NodeSection, SyncSection,
};
pub use render::{render, RenderInput};

/// A new read model showing the state before the first cycle ("Starting...").
pub fn read_model() -> (StateWriter, StateReader) {
    let shared = Arc::new(RwLock::new(ApiState::default()));
    (
        StateWriter {
            shared: shared.clone(),
        },
        StateReader { shared },
    )
}

/// The cycle's end of the read model.
#[derive(Debug)]
pub struct StateWriter {
    shared: Arc<RwLock<ApiState>>,
}

impl StateWriter {
    /// Renders `input` and publishes it as the current document.
    pub fn record(&self, input: &RenderInput<'_>) {
        let rendered = render(input);
        // A poisoned lock only means a reader panicked while holding it; the document itself is
        // always whole (it is replaced, never edited in place).
        *self.shared.write().unwrap_or_else(PoisonError::into_inner) = rendered;
    }

    /// A reader of this model.
    pub fn reader(&self) -> StateReader {
        StateReader {
            shared: self.shared.clone(),
        }
    }
}

/// A read-only handle on the current document.
#[derive(Debug, Clone)]
pub struct StateReader {
    shared: Arc<RwLock<ApiState>>,
}

impl StateReader {
    /// The current document, borrowed (hold the guard briefly: the cycle waits for it).
    pub fn read(&self) -> RwLockReadGuard<'_, ApiState> {
        // `/api/state` must always answer: a poisoned lock still holds the last whole document.
        self.shared.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the current document.
    pub fn get(&self) -> ApiState {
        self.read().clone()
    }
}
