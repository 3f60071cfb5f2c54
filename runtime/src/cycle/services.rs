//! The stack's container states, read once a cycle for the health verdicts `/api/state`
//! publishes (`services`): the same rows `pithead status` prints
//! ([`crate::control::verdicts`]).

use futures::future::join_all;

use crate::control::verdicts::Observed;
use crate::observe::docker::{DockerApi, DockerError};

/// Inspects every name concurrently (through the read-only proxy); a `404` is
/// [`Observed::Missing`]. `None` when the engine did not answer for one of them: no verdict
/// then beats a wrong one.
pub async fn observe(docker: &dyn DockerApi, names: &[String]) -> Option<Vec<(String, Observed)>> {
    let reads = join_all(names.iter().map(|name| docker.inspect(name))).await;
    let mut out = Vec::with_capacity(names.len());
    for (name, read) in names.iter().zip(reads) {
        let observed = match read {
            Ok(s) => Observed::Present {
                status: s.status,
                health: s.health,
            },
            Err(DockerError::NotFound(_)) => Observed::Missing,
            Err(e) => {
                tracing::debug!(container = %name, error = %e, "no container state this cycle");
                return None;
            }
        };
        out.push((name.clone(), observed));
    }
    Some(out)
}
