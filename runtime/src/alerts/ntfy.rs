//! An ntfy topic: `POST <topic URL>` with the text as the body, and the headers ntfy reads:
//! `Title` (`Pithead: <event>`), `Priority` (see [`priority`]), `Tags` (`<event>,<severity>`)
//! and, when `NTFY_TOKEN` is set, `Authorization: Bearer <token>`.

use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method};

use super::client::{Client, Route};
use super::{Alert, NtfyConfig, SendError, Sink, SinkKind};
use crate::control::alerts::Severity;

/// ntfy's `Priority` for `severity`: a critical alert (a node down, workers rejected) buzzes
/// (`high`); a warning and a recovery are `default`, as the reference has a recovery.
pub fn priority(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "high",
        Severity::Warning | Severity::Info => "default",
    }
}

/// See the module docs.
pub(crate) struct NtfySink {
    client: Client,
    /// The topic's path: the topic name is a secret of sorts, never shown.
    path: String,
    authorization: Option<HeaderValue>,
}

impl NtfySink {
    /// `None` when the token cannot be a header value (the configuration refuses such a token).
    pub(crate) fn new(route: &Route, config: &NtfyConfig) -> Option<Self> {
        let authorization = match &config.token {
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Some(Self {
            client: Client::new(route, &config.url),
            path: config.url.path_and_query().to_owned(),
            authorization,
        })
    }
}

impl Sink for NtfySink {
    fn kind(&self) -> SinkKind {
        SinkKind::Ntfy
    }

    fn label(&self) -> String {
        SinkKind::Ntfy.as_str().to_owned()
    }

    fn carries(&self, _alert: &Alert) -> bool {
        true
    }

    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let mut headers = HeaderMap::new();
            let key = alert.key.as_str();
            let title = HeaderValue::from_str(&format!("Pithead: {key}"))
                .map_err(|_| SendError::Connection)?;
            let tags = HeaderValue::from_str(&format!("{key},{}", alert.severity.as_str()))
                .map_err(|_| SendError::Connection)?;
            headers.insert("title", title);
            headers.insert(
                "priority",
                HeaderValue::from_static(priority(alert.severity)),
            );
            headers.insert("tags", tags);
            if let Some(authorization) = &self.authorization {
                headers.insert(AUTHORIZATION, authorization.clone());
            }
            self.client
                .call(
                    Method::POST,
                    &self.path,
                    headers,
                    Bytes::from(alert.text.clone()),
                    Some("text/plain; charset=utf-8"),
                )
                .await
        })
    }
}
