//! Free text a daemon sends (an engine's error message, a container's `State.Status`, a JSON-RPC
//! error's `message`), made safe to carry into our errors, readings, log lines and alerts.
//!
//! A daemon is not trusted to send one short printable line: a newline in a message forges a
//! second log line, an ANSI escape (`\x1b[31m`) recolours or rewrites an operator's terminal, a
//! bidi override reorders what is read, and a megabyte of text blows past Telegram's 4096-char
//! message limit. [`clean`] is applied where such text enters a client's error or reading, so
//! nothing downstream has to remember to.

/// The most characters of daemon text kept (the ellipsis included).
pub const MAX_CHARS: usize = 200;

/// What a cut text ends with.
const ELLIPSIS: char = '…';

/// `text` as one printable line of at most [`MAX_CHARS`] characters: every control character
/// (newline, tab, escape, DEL, C1) and every invisible reordering or line-breaking character
/// (bidi overrides and isolates, U+2028/U+2029) becomes a space; a longer text is cut on a
/// character boundary and ends with `…`. Looks at no more than `MAX_CHARS + 1` characters, so a
/// huge input costs nothing more than a short one.
///
/// ```
/// use pithead_runtime::observe::daemon_text::{clean, MAX_CHARS};
/// assert_eq!(clean("bad\n\x1b[31mred"), "bad  [31mred");
/// let long = clean(&"x".repeat(10_000));
/// assert_eq!(long.chars().count(), MAX_CHARS);
/// assert!(long.ends_with('…'));
/// ```
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS * 4));
    for (kept, c) in text.chars().enumerate() {
        if kept == MAX_CHARS {
            // One more than fits: cut to make room for the ellipsis.
            out.pop();
            out.push(ELLIPSIS);
            break;
        }
        out.push(if is_unsafe(c) { ' ' } else { c });
    }
    debug_assert!(out.chars().count() <= MAX_CHARS);
    out
}

/// A character that must not reach a log line or an alert as itself.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Line and paragraph separators: a line break to some viewers.
            '\u{2028}' | '\u{2029}'
            // Bidi marks, embeddings, overrides and isolates: reorder what is displayed.
            | '\u{061C}' | '\u{200E}' | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_printable_text_is_kept_as_is() {
        for text in ["", "running", "No such container: x", "ünïcødé ✓", "a b"] {
            assert_eq!(clean(text), text);
        }
    }

    #[test]
    fn control_and_reordering_characters_become_spaces() {
        assert_eq!(clean("a\nb\r\nc\td"), "a b  c d");
        assert_eq!(clean("\x1b[31mred\x1b[0m"), " [31mred [0m");
        assert_eq!(clean("\u{7f}\u{85}\u{9b}"), "   ");
        assert_eq!(clean("x\u{2028}y\u{202E}z\u{2066}"), "x y z ");
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_with_an_ellipsis() {
        let exactly = "é".repeat(MAX_CHARS);
        assert_eq!(clean(&exactly), exactly, "exactly the bound is not cut");
        let over = "é".repeat(MAX_CHARS + 1);
        let cut = clean(&over);
        assert_eq!(cut.chars().count(), MAX_CHARS);
        assert_eq!(cut, format!("{}…", "é".repeat(MAX_CHARS - 1)));
        let huge = clean(&"\n🦀".repeat(1_000_000));
        assert_eq!(huge.chars().count(), MAX_CHARS);
        assert!(!huge.contains('\n'));
    }
}
