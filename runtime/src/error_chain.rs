//! One line for an error and its causes, each said once.
//!
//! Our errors put their cause in the message *and* keep it as `source()` (a log line with `%e`
//! is then complete, and callers can still match on the cause). A printer that walks the chain
//! (anyhow's `{:#}`) would then say every cause twice: "… is unreachable: Connection refused:
//! Connection refused". [`joined`] appends a cause only when the line does not already say it.

use std::error::Error;

/// `error`'s message, then each cause in the chain that the line does not already contain,
/// joined with `": "`.
pub fn joined(error: &(dyn Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !said.is_empty() && !line.contains(&said) {
            line.push_str(": ");
            line.push_str(&said);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::joined;

    #[derive(Debug, thiserror::Error)]
    #[error("monerod:18081 is unreachable: {source}")]
    struct SaysItsCause {
        #[source]
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("transport error")]
    struct HidesItsCause {
        #[source]
        source: std::io::Error,
    }

    fn refused() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
    }

    #[test]
    fn a_cause_the_message_already_says_is_not_repeated() {
        let e = SaysItsCause { source: refused() };
        let line = joined(&e);
        assert_eq!(line, format!("monerod:18081 is unreachable: {}", refused()));
        assert_eq!(line.matches(&refused().to_string()).count(), 1);
    }

    #[test]
    fn a_cause_the_message_hides_is_appended() {
        let e = HidesItsCause { source: refused() };
        assert_eq!(joined(&e), format!("transport error: {}", refused()));
    }

    #[test]
    fn an_anyhow_context_chain_says_each_cause_once() {
        let e = anyhow::Error::new(SaysItsCause { source: refused() })
            .context("cannot read the runtime's state at http://127.0.0.1:8000/api/state");
        let line = joined(e.as_ref());
        assert_eq!(
            line,
            format!(
                "cannot read the runtime's state at http://127.0.0.1:8000/api/state: \
                 monerod:18081 is unreachable: {}",
                refused()
            )
        );
        // What `{:#}` printed before.
        assert_eq!(format!("{e:#}").matches(&refused().to_string()).count(), 2);
    }
}
