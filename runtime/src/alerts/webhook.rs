//! A webhook: `POST <url>` with `{"event", "text", "ts", "severity", "host"}` (`host` is `null`
//! when none is configured), and, when `NOTIFY_WEBHOOK_SECRET` is set,
//! `X-Pithead-Signature: sha256=<hex>`: the HMAC-SHA256 of the exact body bytes under that
//! secret, so a receiver can check the alert came from this box.

use bytes::Bytes;
use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue, Method};
use sha2::Sha256;

use super::client::{Client, Route};
use super::{Alert, SendError, Sink, SinkKind, SinkUrl};

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "x-pithead-signature";

/// The request body, fields in the order sent.
#[derive(serde::Serialize)]
struct Body<'a> {
    event: &'a str,
    text: &'a str,
    ts: i64,
    severity: &'a str,
    host: Option<&'a str>,
}

/// The exact body bytes a webhook receives for `alert`.
pub fn body(alert: &Alert) -> Vec<u8> {
    serde_json::to_vec(&Body {
        event: alert.key.as_str(),
        text: &alert.text,
        ts: alert.at_unix,
        severity: alert.severity.as_str(),
        host: alert.host.as_deref(),
    })
    // Strings and an integer: serialising cannot fail.
    .unwrap_or_default()
}

/// `sha256=<lower-case hex of HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// See the module docs.
pub(crate) struct WebhookSink {
    client: Client,
    /// The URL's path and query: may hold a token, never shown.
    path: String,
    /// 1-based, in `NOTIFY_WEBHOOK_URLS` order: the label `webhook#N`.
    number: usize,
    secret: Option<Vec<u8>>,
}

impl WebhookSink {
    pub(crate) fn new(route: &Route, url: &SinkUrl, number: usize, secret: Option<&str>) -> Self {
        Self {
            client: Client::new(route, url),
            path: url.path_and_query().to_owned(),
            number,
            secret: secret.map(|s| s.as_bytes().to_vec()),
        }
    }
}

impl Sink for WebhookSink {
    fn kind(&self) -> SinkKind {
        SinkKind::Webhook
    }

    fn label(&self) -> String {
        format!("webhook#{}", self.number)
    }

    fn carries(&self, _alert: &Alert) -> bool {
        true
    }

    fn send<'a>(&'a self, alert: &'a Alert) -> BoxFuture<'a, Result<(), SendError>> {
        Box::pin(async move {
            let body = body(alert);
            let mut headers = HeaderMap::new();
            if let Some(secret) = &self.secret {
                let value = HeaderValue::from_str(&signature(secret, &body))
                    .map_err(|_| SendError::Connection)?;
                headers.insert(SIGNATURE_HEADER, value);
            }
            self.client
                .call(
                    Method::POST,
                    &self.path,
                    headers,
                    Bytes::from(body),
                    Some("application/json"),
                )
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::alerts::{EventKey, Severity};

    #[test]
    fn the_signature_is_rfc_4231s_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_body_has_the_five_fields_in_order() {
        let alert = Alert {
            key: EventKey::NodeDown,
            severity: Severity::Critical,
            text: "[rig] monerod is down #node_down".into(),
            host: Some("rig".into()),
            at_unix: 1_700_000_000,
        };
        assert_eq!(
            String::from_utf8(body(&alert)).unwrap(),
            r#"{"event":"node_down","text":"[rig] monerod is down #node_down","ts":1700000000,"severity":"critical","host":"rig"}"#
        );
        let hostless = Alert {
            host: None,
            ..alert
        };
        assert!(String::from_utf8(body(&hostless))
            .unwrap()
            .ends_with(r#""host":null}"#));
    }
}
