//! `pithead upgrade`'s report: which services came back on a new image, read from the image
//! ids the engine gave before and after `compose pull` + `compose up`. Pure; the terminal side
//! (pull, up, the wait for a healthy stack) is the binary's.

use std::collections::BTreeMap;

/// What happened to one service's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageChange {
    /// The container runs a different image than before.
    Replaced {
        /// The image id before.
        before: String,
        /// The image id now.
        after: String,
    },
    /// The container was created by this upgrade (it did not exist before).
    Created {
        /// The image id now.
        after: String,
    },
    /// The same image as before: no newer one was pulled or built.
    Unchanged {
        /// The image id.
        image: String,
    },
    /// No container (or no image id) after the upgrade.
    Missing,
}

/// Image ids per service (`None`: no container, or the engine gave no id).
pub type Images = BTreeMap<String, Option<String>>;

/// Each service of `after`, with what happened to its image since `before`.
pub fn changes(before: &Images, after: &Images) -> Vec<(String, ImageChange)> {
    after
        .iter()
        .map(|(service, now)| {
            let was = before.get(service).cloned().flatten();
            let change = match (was, now.clone()) {
                (_, None) => ImageChange::Missing,
                (None, Some(after)) => ImageChange::Created { after },
                (Some(before), Some(after)) if before == after => {
                    ImageChange::Unchanged { image: after }
                }
                (Some(before), Some(after)) => ImageChange::Replaced { before, after },
            };
            (service.clone(), change)
        })
        .collect()
}

/// An image id as people read it: the first 12 hex digits.
pub fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.get(..12).unwrap_or(hex)
}

/// One line per service, then the count of new images.
pub fn report(changes: &[(String, ImageChange)]) -> Vec<String> {
    let mut lines: Vec<String> = changes
        .iter()
        .map(|(service, change)| match change {
            ImageChange::Replaced { before, after } => format!(
                "↑ {service}: new image {} (was {})",
                short(after),
                short(before)
            ),
            ImageChange::Created { after } => {
                format!("+ {service}: created on image {}", short(after))
            }
            ImageChange::Unchanged { image } => {
                format!("= {service}: same image {}", short(image))
            }
            ImageChange::Missing => format!("✗ {service}: no container after the upgrade"),
        })
        .collect();
    let replaced = changes
        .iter()
        .filter(|(_, c)| {
            matches!(
                c,
                ImageChange::Replaced { .. } | ImageChange::Created { .. }
            )
        })
        .count();
    lines.push(match replaced {
        0 => "No newer image was pulled or built: every service runs the image it ran.".into(),
        1 => "1 service runs a new image.".into(),
        n => format!("{n} services run a new image."),
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(pairs: &[(&str, Option<&str>)]) -> Images {
        pairs
            .iter()
            .map(|(s, i)| ((*s).to_owned(), i.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn each_service_is_replaced_created_unchanged_or_missing() {
        let before = images(&[
            ("monerod", Some("sha256:aaaaaaaaaaaaaaaaaaaa")),
            ("p2pool", Some("sha256:bbbbbbbbbbbbbbbbbbbb")),
            ("tor", Some("sha256:cccccccccccccccccccc")),
            ("caddy", None),
        ]);
        let after = images(&[
            ("monerod", Some("sha256:dddddddddddddddddddd")),
            ("p2pool", Some("sha256:bbbbbbbbbbbbbbbbbbbb")),
            ("tor", None),
            ("caddy", Some("sha256:eeeeeeeeeeeeeeeeeeee")),
        ]);
        let got = changes(&before, &after);
        assert_eq!(
            report(&got),
            vec![
                "+ caddy: created on image eeeeeeeeeeee",
                "↑ monerod: new image dddddddddddd (was aaaaaaaaaaaa)",
                "= p2pool: same image bbbbbbbbbbbb",
                "✗ tor: no container after the upgrade",
                "2 services run a new image.",
            ]
        );
    }

    #[test]
    fn nothing_new_says_so() {
        let same = images(&[("monerod", Some("sha256:aaaaaaaaaaaaaaaaaaaa"))]);
        let lines = report(&changes(&same, &same));
        assert_eq!(
            lines.last().map(String::as_str),
            Some("No newer image was pulled or built: every service runs the image it ran.")
        );
    }

    #[test]
    fn short_ids_survive_odd_input() {
        assert_eq!(short("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
        assert_eq!(short(""), "");
    }
}
