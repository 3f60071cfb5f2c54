//! A poison-tolerant lock: a test that panicked while holding a fake's state must not turn every
//! later request into a second panic.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Lock `m`, recovering the data if a previous holder panicked.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
