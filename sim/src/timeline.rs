//! A run, drawn: a self-contained HTML page with one SVG of the trace against virtual time —
//! modelled node reachability, the runtime's view of each node, the gate and the reject state as
//! bands, sync progress as lines, faults and docker calls as markers (hover for details).

use std::fmt::Write as _;
use std::time::Duration;

use crate::model::Reach;
use crate::trace::{format_time, Event, EventKind, Trace, What};

const LABEL_W: f64 = 170.0;
const PLOT_W: f64 = 1400.0;
const LANE_H: f64 = 22.0;
const LANE_GAP: f64 = 6.0;
const CHART_H: f64 = 120.0;

const GREEN: &str = "#2e9d5b";
const RED: &str = "#d0453c";
const AMBER: &str = "#e0a526";
const GREY: &str = "#9aa0a6";
const BLUE: &str = "#3b7dd8";
const PURPLE: &str = "#8e5bd0";

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One line of the chart: label, colour, points.
type Series<'a> = (&'a str, &'a str, Vec<(Duration, f64)>);

struct Plot {
    end: f64,
    svg: String,
    y: f64,
}

impl Plot {
    fn x(&self, at: Duration) -> f64 {
        LABEL_W + at.as_secs_f64() / self.end * PLOT_W
    }

    fn label(&mut self, text: &str, height: f64) {
        let _ = write!(
            self.svg,
            r#"<text x="{:.1}" y="{:.1}" class="label">{}</text>"#,
            LABEL_W - 8.0,
            self.y + height / 2.0 + 4.0,
            esc(text)
        );
        let _ = write!(
            self.svg,
            r##"<rect x="{LABEL_W}" y="{:.1}" width="{PLOT_W}" height="{height}" fill="#f4f5f7"/>"##,
            self.y
        );
    }

    /// A lane of coloured segments: `(from, colour, title)` changes, each lasting until the next.
    fn bands(&mut self, name: &str, changes: &[(Duration, Option<&str>, String)], end: Duration) {
        self.label(name, LANE_H);
        for (i, (from, colour, title)) in changes.iter().enumerate() {
            let to = changes.get(i + 1).map_or(end, |c| c.0);
            let Some(colour) = colour else { continue };
            let (x0, x1) = (self.x(*from), self.x(to));
            let _ = write!(
                self.svg,
                r#"<rect x="{x0:.2}" y="{:.1}" width="{:.2}" height="{LANE_H}" fill="{colour}"><title>{} – {}: {}</title></rect>"#,
                self.y,
                (x1 - x0).max(0.6),
                format_time(*from),
                format_time(to),
                esc(title)
            );
        }
        self.y += LANE_H + LANE_GAP;
    }

    /// A lane of point markers.
    fn markers(&mut self, name: &str, points: &[(Duration, &str, &str, String)]) {
        self.label(name, LANE_H);
        for (at, colour, glyph, title) in points {
            let x = self.x(*at);
            let (top, mid, bottom) = (self.y + 3.0, self.y + LANE_H / 2.0, self.y + LANE_H - 3.0);
            let shape = match *glyph {
                "up" => format!(
                    "M{:.2},{top:.1} L{:.2},{bottom:.1} L{:.2},{bottom:.1} Z",
                    x,
                    x - 5.0,
                    x + 5.0
                ),
                "down" => format!(
                    "M{:.2},{bottom:.1} L{:.2},{top:.1} L{:.2},{top:.1} Z",
                    x,
                    x - 5.0,
                    x + 5.0
                ),
                "cross" => format!(
                    "M{:.2},{top:.1} L{:.2},{bottom:.1} M{:.2},{top:.1} L{:.2},{bottom:.1}",
                    x - 4.0,
                    x + 4.0,
                    x + 4.0,
                    x - 4.0
                ),
                _ => format!(
                    "M{x:.2},{top:.1} L{x:.2},{bottom:.1} M{:.2},{mid:.1} L{:.2},{mid:.1}",
                    x - 2.0,
                    x + 2.0
                ),
            };
            let fill = if *glyph == "up" || *glyph == "down" {
                colour
            } else {
                "none"
            };
            let _ = write!(
                self.svg,
                r#"<path d="{shape}" fill="{fill}" stroke="{colour}" stroke-width="1.5"><title>{}: {}</title></path>"#,
                format_time(*at),
                esc(title)
            );
        }
        self.y += LANE_H + LANE_GAP;
    }

    fn chart(&mut self, name: &str, series: &[Series<'_>], end: Duration) {
        self.label(name, CHART_H);
        let y0 = self.y;
        for (label, colour, points) in series {
            if points.is_empty() {
                continue;
            }
            let mut d = String::new();
            let mut last_y = None;
            for (at, value) in points {
                let x = self.x(*at);
                let y = y0 + CHART_H - value.clamp(0.0, 100.0) / 100.0 * CHART_H;
                if let Some(prev) = last_y {
                    let _ = write!(d, " L{x:.2},{prev:.1}");
                } else {
                    let _ = write!(d, "M{x:.2},{y:.1}");
                }
                let _ = write!(d, " L{x:.2},{y:.1}");
                last_y = Some(y);
            }
            if let Some(y) = last_y {
                let _ = write!(d, " L{:.2},{y:.1}", self.x(end));
            }
            let _ = write!(
                self.svg,
                r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"><title>{label} sync %</title></path>"#
            );
        }
        self.y += CHART_H + LANE_GAP;
    }

    fn axis(&mut self, end: Duration) {
        let total = end.as_secs_f64();
        let steps = [
            60.0,
            300.0,
            900.0,
            1800.0,
            3600.0,
            3.0 * 3600.0,
            6.0 * 3600.0,
            12.0 * 3600.0,
            86_400.0,
            2.0 * 86_400.0,
            5.0 * 86_400.0,
            10.0 * 86_400.0,
        ];
        let step = steps
            .iter()
            .copied()
            .find(|s| total / s <= 14.0)
            .unwrap_or(30.0 * 86_400.0);
        let mut t = 0.0;
        while t <= total {
            let x = LABEL_W + t / self.end * PLOT_W;
            let _ = write!(
                self.svg,
                r##"<line x1="{x:.1}" y1="10" x2="{x:.1}" y2="{:.1}" stroke="#d6d8dc" stroke-dasharray="2,3"/><text x="{x:.1}" y="{:.1}" class="tick">{}</text>"##,
                self.y,
                self.y + 14.0,
                format_time(Duration::from_secs_f64(t))
            );
            t += step;
        }
        self.y += 24.0;
    }
}

fn reach_colour(reach: Reach) -> &'static str {
    match reach {
        Reach::Reachable => GREEN,
        Reach::Unreachable => RED,
        Reach::Unknown => AMBER,
    }
}

/// Renders `trace` as a self-contained HTML page.
pub fn timeline_html(trace: &Trace) -> String {
    let end = trace
        .events()
        .iter()
        .map(|e| e.at)
        .max()
        .unwrap_or_default()
        .max(Duration::from_secs(1));
    let mut plot = Plot {
        end: end.as_secs_f64(),
        svg: String::new(),
        y: 10.0,
    };

    let faults: Vec<(Duration, &str, &str, String)> = trace
        .events()
        .iter()
        .filter(|e| matches!(e.kind(), EventKind::Fault | EventKind::Host))
        .map(|e| {
            let colour = if e.kind() == EventKind::Host {
                PURPLE
            } else {
                BLUE
            };
            (
                e.at,
                colour,
                "tick",
                format!("{} {}", e.subject(), e.detail()),
            )
        })
        .collect();
    plot.markers("faults", &faults);

    for node in ["monero", "tari"] {
        let changes: Vec<(Duration, Option<&str>, String)> = trace
            .events()
            .iter()
            .filter_map(|e| match &e.what {
                What::Reach { node: n, reach } if *n == node => {
                    Some((e.at, Some(reach_colour(*reach)), reach.name().to_owned()))
                }
                _ => None,
            })
            .collect();
        if !changes.is_empty() {
            plot.bands(&format!("{node} reachable (model)"), &changes, end);
        }
    }

    // The runtime's process, and what it published.
    let mut process = vec![(Duration::ZERO, Some(GREEN), "running".to_owned())];
    for e in trace.events() {
        match e.what {
            What::Crashed => process.push((e.at, Some(GREY), "crashed".to_owned())),
            What::Restarted => process.push((e.at, Some(GREEN), "running".to_owned())),
            _ => {}
        }
    }
    plot.bands("runtime process", &process, end);

    for node in ["monero", "tari"] {
        let mut changes: Vec<(Duration, Option<&str>, String)> = trace
            .events()
            .iter()
            .filter_map(|e| match &e.what {
                What::NodeDown { node: n, down } if n == node => {
                    Some((e.at, down.then_some(RED), e.detail()))
                }
                _ => None,
            })
            .collect();
        if !changes.is_empty() {
            changes.insert(0, (Duration::ZERO, None, String::new()));
            plot.bands(&format!("runtime: {node} down"), &changes, end);
        }
    }

    let mut gate: Vec<(Duration, Option<&str>, String)> = Vec::new();
    let mut workers: Vec<(Duration, Option<&str>, String)> =
        vec![(Duration::ZERO, None, String::new())];
    for e in trace.events() {
        match e.what {
            What::FirstCycle {
                released, rejected, ..
            } => {
                if gate.last().is_none_or(|g| (g.1 == Some(GREEN)) != released) {
                    gate.push((
                        e.at,
                        Some(if released { GREEN } else { AMBER }),
                        if released { "released" } else { "held" }.to_owned(),
                    ));
                }
                workers.push((
                    e.at,
                    rejected.then_some(RED),
                    if rejected { "rejected" } else { "" }.to_owned(),
                ));
            }
            What::Latch { released: true } => {
                gate.push((e.at, Some(GREEN), "released".to_owned()));
            }
            What::Latch { released: false } => gate.push((e.at, Some(RED), "RE-HELD".to_owned())),
            What::Workers { rejected: true } => {
                workers.push((e.at, Some(RED), "rejected".to_owned()));
            }
            What::Workers { rejected: false } => {
                workers.push((e.at, None, "admitted".to_owned()));
            }
            _ => {}
        }
    }
    if !gate.is_empty() {
        plot.bands("gate (held / released)", &gate, end);
    }
    plot.bands("workers rejected", &workers, end);

    let docker: Vec<(Duration, &str, &str, String)> = trace
        .events()
        .iter()
        .filter_map(|e| match &e.what {
            What::Docker {
                container,
                verb,
                status,
            } => {
                let (colour, glyph) = if !matches!(status, 204 | 304) {
                    (AMBER, "cross")
                } else if verb == "start" {
                    (GREEN, "up")
                } else {
                    (RED, "down")
                };
                Some((e.at, colour, glyph, format!("{container} {verb} {status}")))
            }
            _ => None,
        })
        .collect();
    plot.markers("docker start / stop", &docker);

    let series = |chain: &str| -> Vec<(Duration, f64)> {
        trace
            .events()
            .iter()
            .filter_map(|e| match e.what {
                What::Sync { chain: c, percent } if c == chain => Some((e.at, f64::from(percent))),
                _ => None,
            })
            .collect()
    };
    plot.chart(
        "sync % (monero, tari)",
        &[
            ("monero", "#f26822", series("monero")),
            ("tari", PURPLE, series("tari")),
        ],
        end,
    );

    let failures: Vec<&Event> = trace
        .events()
        .iter()
        .filter(|e| matches!(e.what, What::Failed { .. }))
        .collect();
    let height = plot.y;
    for f in &failures {
        let x = plot.x(f.at);
        let _ = write!(
            plot.svg,
            r#"<line x1="{x:.1}" y1="4" x2="{x:.1}" y2="{height:.1}" stroke="{RED}" stroke-width="2"><title>{}</title></line>"#,
            esc(&f.detail())
        );
    }
    plot.axis(end);

    let title = trace
        .events()
        .first()
        .map(Event::detail)
        .unwrap_or_default();
    let failure_text = failures
        .iter()
        .map(|f| {
            format!(
                "<p class=\"fail\">{} — {}</p>",
                format_time(f.at),
                esc(&f.detail())
            )
        })
        .collect::<String>();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pithead simulation timeline</title>
<style>
body {{ font: 13px system-ui, sans-serif; margin: 16px; color: #202124; }}
.label {{ text-anchor: end; font-size: 12px; fill: #3c4043; }}
.tick {{ text-anchor: middle; font-size: 10px; fill: #5f6368; }}
.fail {{ color: {RED}; font-weight: bold; }}
.legend span {{ display: inline-block; margin-right: 14px; }}
.sw {{ display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }}
</style></head><body>
<h1>Pithead simulation timeline</h1>
<p>{}</p>{failure_text}
<p class="legend"><span><i class="sw" style="background:{GREEN}"></i>reachable / running / released</span><span><i class="sw" style="background:{RED}"></i>unreachable / down / rejected</span><span><i class="sw" style="background:{AMBER}"></i>unknown (near the deadline) / held / refused</span><span><i class="sw" style="background:{GREY}"></i>crashed</span><span><i class="sw" style="background:{BLUE}"></i>fault</span></p>
<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{:.0}" viewBox="0 0 {:.0} {:.0}">{}</svg>
<p>{} events; hover any band or marker for details.</p>
</body></html>
"#,
        esc(&title),
        LABEL_W + PLOT_W + 20.0,
        plot.y + 10.0,
        LABEL_W + PLOT_W + 20.0,
        plot.y + 10.0,
        plot.svg,
        trace.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_draws_every_lane_and_escapes_details() {
        let mut t = Trace::new();
        let s = Duration::from_secs;
        t.note(Duration::ZERO, "world", "seed 7 <test>");
        t.record(
            Duration::ZERO,
            What::Reach {
                node: "monero",
                reach: Reach::Reachable,
            },
        );
        t.record(
            s(30),
            What::FirstCycle {
                released: false,
                held: true,
                rejected: false,
            },
        );
        t.record(
            s(60),
            What::Sync {
                chain: "monero",
                percent: 50,
            },
        );
        t.record(
            s(100),
            What::Fault {
                target: "monerod".into(),
                action: "down".into(),
            },
        );
        t.record(
            s(100),
            What::Reach {
                node: "monero",
                reach: Reach::Unreachable,
            },
        );
        t.record(
            s(200),
            What::NodeDown {
                node: "monero".into(),
                down: true,
            },
        );
        t.record(s(200), What::Workers { rejected: true });
        t.record(
            s(201),
            What::Docker {
                container: "xmrig-proxy".into(),
                verb: "stop".into(),
                status: 204,
            },
        );
        t.record(s(300), What::Latch { released: true });
        t.record(
            s(400),
            What::Failed {
                invariant: crate::failure::Invariant::Readiness,
                message: "y".into(),
            },
        );
        let html = timeline_html(&t);
        assert!(html.starts_with("<!doctype html>"));
        for needle in [
            "monero reachable (model)",
            "runtime: monero down",
            "workers rejected",
            "gate (held / released)",
            "docker start / stop",
            "sync % (monero, tari)",
            "seed 7 &lt;test&gt;",
            "xmrig-proxy stop 204",
            "class=\"fail\"",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        assert!(!html.contains("<test>"));
    }
}
