//! The heartbeat's endpoint: a bare `GET` to `HEALTHCHECKS_PING_URL` (no body, no `/start` or
//! `/fail`). When to ping is the heartbeat machine's decision, not this module's.

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Method};

use super::client::{Client, Route};
use super::{Pinger, SendError, SinkUrl};

/// See the module docs.
pub(crate) struct HealthchecksPinger {
    client: Client,
    /// The ping URL's path: holds the check's UUID, never shown.
    path: String,
}

impl HealthchecksPinger {
    pub(crate) fn new(route: &Route, url: &SinkUrl) -> Self {
        Self {
            client: Client::new(route, url),
            path: url.path_and_query().to_owned(),
        }
    }
}

impl Pinger for HealthchecksPinger {
    fn ping(&self) -> BoxFuture<'_, Result<(), SendError>> {
        Box::pin(async move {
            self.client
                .call(
                    Method::GET,
                    &self.path,
                    HeaderMap::new(),
                    Bytes::new(),
                    None,
                )
                .await
        })
    }
}
