//! Telegram's `sendMessage`: `POST {TELEGRAM_API_BASE}/bot<token>/sendMessage` with
//! `{"chat_id": "<id>", "text": "<text>", "disable_web_page_preview": true}` (no parse mode, so
//! the text is shown as written). The only sink with per-event toggles.

use std::collections::BTreeSet;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Method};

use super::client::{Client, Route};
use super::{Alert, SendError, Sink, SinkKind, TelegramConfig};
use crate::control::alerts::EventKey;

/// The request body, fields in the order sent.
#[derive(serde::Serialize)]
struct SendMessage<'a> {
    chat_id: &'a str,
    text: &'a str,
    disable_web_page_preview: bool,
}

/// See the module docs.
pub(crate) struct TelegramSink {
    client: Client,
    /// `{base path}/bot<token>/sendMessage`: holds the token, never shown.
    path: String,
    chat_id: String,
    muted: BTreeSet<EventKey>,
}

impl TelegramSink {
    pub(crate) fn new(route: &Route, config: &TelegramConfig) -> Self {
        Self {
            client: Client::new(route, &config.api_base),
            path: format!(
                "{}/bot{}/sendMessage",
                config.api_base.path_and_query(),
                config.bot_token
            ),
            chat_id: config.chat_id.clone(),
            muted: config.muted.clone(),
        }
    }
}

impl Sink for TelegramSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Telegram
    }

    fn label(&self) -> String {
        SinkKind::Telegram.as_str().to_owned()
    }

    fn carries(&self, alert: &Alert) -> bool {
        alert.key == EventKey::Test || !self.muted.contains(&alert.key)
    }

    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let body = serde_json::to_vec(&SendMessage {
                chat_id: &self.chat_id,
                text: &alert.text,
                disable_web_page_preview: true,
            })
            .map_err(|_| SendError::Connection)?;
            self.client
                .call(
                    Method::POST,
                    &self.path,
                    HeaderMap::new(),
                    Bytes::from(body),
                    Some("application/json"),
                )
                .await
        })
    }
}
