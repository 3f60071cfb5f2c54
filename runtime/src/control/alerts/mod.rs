//! Alerts: which changes of debounced state are worth telling the operator about.
//!
//! The event vocabulary ([`Alert`], [`EventKey`], [`Severity`]) is shared by the sans-IO
//! machines here and by the sinks at the edge (`crate::alerts`), which only deliver.

mod event;

pub use event::{Alert, EventKey, Severity};
