//! Panic detection for "the runtime never panics".
//!
//! A panic inside a spawned task is caught by tokio and would go unnoticed; a process-wide hook
//! (installed once, chaining to the previous one) counts panics per thread. A world runs entirely
//! on the thread that steps it, so its own count is exact even when the swarm runs many worlds on
//! parallel threads.

use std::cell::RefCell;
use std::sync::Once;

thread_local! {
    static PANICS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

static HOOK: Once = Once::new();

/// Installs the counting hook (idempotent).
pub fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info.to_string();
            // `try_with`: the thread may be shutting down.
            let _ = PANICS.try_with(|p| {
                if let Ok(mut p) = p.try_borrow_mut() {
                    p.push(message);
                }
            });
            previous(info);
        }));
    });
}

/// Panics seen on this thread so far.
pub fn count() -> usize {
    PANICS.with(|p| p.borrow().len())
}

/// The first panic message on this thread after the first `baseline` ones.
pub fn since(baseline: usize) -> Option<String> {
    PANICS.with(|p| p.borrow().get(baseline).cloned())
}
