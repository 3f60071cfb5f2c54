//! [`Behaviour`]: how an HTTP fake misbehaves, independent of its domain state.

use std::time::Duration;

use axum::{
    body::Body,
    extract::Request,
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Router,
};
use serde::{Deserialize, Serialize};

/// Size of the body [`Behaviour::Oversized`] sends: 3 MiB, above every client limit (2 MiB and
/// below) the runtime uses.
pub const OVERSIZED_BODY_BYTES: usize = 3 * 1024 * 1024;

/// How an HTTP fake answers, on top of its domain state.
///
/// As JSON it is tagged by `mode`, e.g. `{"mode":"down"}` or `{"mode":"slow","secs":20}`
/// (`secs` may be fractional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Behaviour {
    /// Answer from the domain state.
    #[default]
    Normal,
    /// Accept the connection and read the request, then drop the connection without a reply
    /// (needs [`crate::serve::serve`]; any other server sends `503` with an empty body instead).
    Down,
    /// `200` with `Content-Type: application/json` and a body that is not JSON.
    Garbage,
    /// Answer from the domain state after `delay` (tokio time: virtual under turmoil).
    Slow {
        /// How long to wait before answering (`secs` on the wire).
        #[serde(rename = "secs", with = "secs_f64")]
        delay: Duration,
    },
    /// `200` with a JSON-looking body of [`OVERSIZED_BODY_BYTES`] bytes.
    Oversized,
}

impl Behaviour {
    /// Shorthand for [`Behaviour::Slow`] with a delay in whole seconds.
    pub fn slow_secs(secs: u64) -> Self {
        Behaviour::Slow {
            delay: Duration::from_secs(secs),
        }
    }
}

/// The body [`Behaviour::Garbage`] sends: an HTML error page with binary noise, never JSON.
pub(crate) const GARBAGE_BODY: &[u8] =
    b"<html><body><h1>502 Bad Gateway</h1></body></html>\x00\xff\xfe{\"truncated\":";

/// A `200` whose body is not JSON although it claims to be.
pub(crate) fn garbage_response() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        GARBAGE_BODY,
    )
        .into_response()
}

/// A `200` with a body of [`OVERSIZED_BODY_BYTES`] bytes: a JSON object with one huge string.
pub(crate) fn oversized_response() -> Response {
    let mut body = Vec::with_capacity(OVERSIZED_BODY_BYTES);
    body.extend_from_slice(b"{\"padding\":\"");
    body.resize(OVERSIZED_BODY_BYTES - 2, b'x');
    body.extend_from_slice(b"\"}");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

/// Answer `req` as `behaviour` says, calling `next` (the domain handler) when it should answer.
pub(crate) async fn apply(behaviour: Behaviour, req: Request, next: Next) -> Response {
    match behaviour {
        Behaviour::Normal => next.run(req).await,
        Behaviour::Down => crate::serve::drop_connection_response(),
        Behaviour::Garbage => garbage_response(),
        Behaviour::Slow { delay } => {
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        Behaviour::Oversized => oversized_response(),
    }
}

/// Wrap every route already in `router` so it honours the behaviour `current` returns at the
/// time each request arrives. Routes merged afterwards (the control API) are not affected.
pub(crate) fn wrap<F>(router: Router, current: F) -> Router
where
    F: Fn() -> Behaviour + Clone + Send + Sync + 'static,
{
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let behaviour = current();
            apply(behaviour, req, next)
        },
    ))
}

/// Serde for a [`Duration`] as (possibly fractional) seconds, refusing negative and non-finite
/// values with a message that names the value.
pub(crate) mod secs_f64 {
    use std::time::Duration;

    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(|_| {
            D::Error::custom(format!(
                "secs must be a non-negative, finite number of seconds (got {secs})"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_json_is_tagged_by_mode() {
        let slow: Behaviour = serde_json::from_str(r#"{"mode":"slow","secs":1.5}"#).unwrap();
        assert_eq!(
            slow,
            Behaviour::Slow {
                delay: Duration::from_millis(1500)
            }
        );
        assert_eq!(
            serde_json::to_string(&Behaviour::Down).unwrap(),
            r#"{"mode":"down"}"#
        );
        let err = serde_json::from_str::<Behaviour>(r#"{"mode":"slow","secs":-1}"#).unwrap_err();
        assert!(err.to_string().contains("got -1"), "{err}");
    }

    #[tokio::test]
    async fn oversized_body_has_the_promised_size() {
        let body = axum::body::to_bytes(oversized_response().into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body.len(), OVERSIZED_BODY_BYTES);
        assert!(body.starts_with(b"{\"padding\":\"") && body.ends_with(b"\"}"));
    }
}
