//! The runner takes its tiers from the factory: a tier registered here receives exactly the
//! scenarios that name it, every other scenario is skipped with a true reason, in the report and
//! in the JUnit XML. Needs no simulation (runs with `--no-default-features` too).

use std::cell::RefCell;
use std::io;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use futures::FutureExt as _;
use pithead_scenarios::driver::{
    Chain, Condition, Node, Reachability, Setting, Tier, TierError, TierFuture,
};
use pithead_scenarios::runner::{run, Options, Report};
use pithead_scenarios::tags::TierTag;
use pithead_scenarios::tiers::Registry;

/// Shared with the test: the scenarios the tier was made for and the calls they made.
type Log = Rc<RefCell<Vec<String>>>;

/// A tier on which every step holds; it writes down what it was asked.
struct Recording {
    scenario: String,
    log: Log,
}

impl Recording {
    fn ok(&mut self, call: &str) -> TierFuture<'_> {
        self.log
            .borrow_mut()
            .push(format!("{}: {call}", self.scenario));
        async { Ok(()) }.boxed_local()
    }
}

impl Tier for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }
    fn configure(&mut self, _: Setting) -> TierFuture<'_> {
        self.ok("configure")
    }
    fn set_chain(&mut self, _: Node, _: Chain) -> TierFuture<'_> {
        self.ok("set_chain")
    }
    fn set_reachability(&mut self, _: Node, _: Reachability) -> TierFuture<'_> {
        self.ok("set_reachability")
    }
    fn change_chain(&mut self, _: Node, _: Chain) -> TierFuture<'_> {
        self.ok("change_chain")
    }
    fn change_reachability(&mut self, _: Node, _: Reachability) -> TierFuture<'_> {
        self.ok("change_reachability")
    }
    fn set_p2pool_network_height(&mut self, _: u64) -> TierFuture<'_> {
        self.ok("set_p2pool_network_height")
    }
    fn refuse_docker_calls(&mut self, _: u32) -> TierFuture<'_> {
        async {
            Err(TierError::Unsupported {
                tier: "recording",
                what: "an engine that refuses calls".into(),
            })
        }
        .boxed_local()
    }
    fn release_miners(&mut self) -> TierFuture<'_> {
        self.ok("release_miners")
    }
    fn restart_runtime(&mut self) -> TierFuture<'_> {
        self.ok("restart_runtime")
    }
    fn advance(&mut self, span: Duration) -> TierFuture<'_> {
        self.ok(&format!("advance {}s", span.as_secs()))
    }
    fn expect(&mut self, condition: Condition) -> TierFuture<'_> {
        self.ok(&format!("expect {condition}"))
    }
    fn expect_for(&mut self, condition: Condition, _: Duration) -> TierFuture<'_> {
        self.ok(&format!("expect_for {condition}"))
    }
    fn expect_started_once(&mut self, _: &str) -> TierFuture<'_> {
        self.ok("expect_started_once")
    }
    fn expect_no_stop_since_release(&mut self) -> TierFuture<'_> {
        self.ok("expect_no_stop_since_release")
    }
    fn start_by_hand(&mut self, container: &str) -> TierFuture<'_> {
        self.ok(&format!("start_by_hand {container}"))
    }
}

/// An `io::Write` the test reads back after the run.
#[derive(Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn run_with(tiers: Registry) -> (Report, String) {
    let junit = Buffer::default();
    let report = run(Options {
        features: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiers"),
        only: None,
        seed: Some(1),
        pretty: Box::new(io::sink()),
        junit: Box::new(junit.clone()),
        show_record: false,
        tiers,
    });
    let xml = String::from_utf8(junit.0.take()).expect("UTF-8 XML");
    (report, xml)
}

fn titles(list: &[(String, String)]) -> Vec<&str> {
    let mut out: Vec<&str> = list
        .iter()
        .map(|(t, _)| t.split(" (").next().unwrap_or(t))
        .collect();
    out.sort();
    out
}

fn reason_of<'a>(report: &'a Report, scenario: &str) -> &'a str {
    report
        .other_tier
        .iter()
        .find(|(title, _)| title.contains(scenario))
        .map(|(_, reason)| reason.as_str())
        .unwrap_or_else(|| panic!("{scenario:?} should be skipped; report: {report:#?}"))
}

// One test: cucumber runs one world at a time, and the runs share the recording.
#[test]
fn a_registered_tier_receives_exactly_the_scenarios_that_name_it() {
    let log = Log::default();
    let made = Log::default();
    let (tier_log, tier_made) = (Rc::clone(&log), Rc::clone(&made));
    let tiers = Registry::empty().with(TierTag::Live, move |cx| {
        tier_made
            .borrow_mut()
            .push(format!("{} seed {}", cx.scenario, cx.seed));
        Ok(Box::new(Recording {
            scenario: cx.scenario.to_owned(),
            log: Rc::clone(&tier_log),
        }))
    });
    let (report, xml) = run_with(tiers);

    assert_eq!(report.tiers, vec![TierTag::Live]);
    assert_eq!(
        *made.borrow(),
        vec![
            "live only seed 1",
            "sim and live seed 1",
            "live but a step this tier cannot perform seed 1"
        ],
        "one fresh driver per @live scenario, and only those"
    );
    assert_eq!(
        *log.borrow(),
        vec![
            "live only: advance 30s",
            "live only: expect the miners are held",
            "sim and live: advance 30s",
            "sim and live: expect workers are accepted",
        ]
    );
    let mut passed = report.passed.clone();
    passed.sort();
    assert_eq!(passed.len(), 2, "{report:#?}");
    assert!(passed[0].contains("live only") && passed[1].contains("sim and live"));

    let why = reason_of(&report, "sim only");
    assert!(why.contains("tagged @sim: no runner"), "{why}");
    assert!(why.contains("tiers with a runner: @live"), "{why}");
    assert!(reason_of(&report, "mini-stack only").contains("tagged @mini-stack"));
    assert!(reason_of(&report, "no tier at all").contains("no tier tag"));
    assert_eq!(report.other_tier.len(), 3, "{report:#?}");
    assert_eq!(report.pending["live-matrix"].len(), 1, "{report:#?}");
    assert!(report.failed.is_empty(), "{report:#?}");
    // A step the tier cannot perform skips its scenario with the tier's reason: never passed,
    // never failed, and no later step of it runs.
    assert_eq!(
        titles(&report.unsupported),
        vec!["Tiers from the factory › live but a step this tier cannot perform"]
    );
    assert_eq!(
        report.unsupported[0].1,
        "unsupported on the recording tier: an engine that refuses calls"
    );
    assert!(
        report.fails_build(),
        "a tag outside the grammar fails the build"
    );
    assert_eq!(
        titles(&report.invalid),
        vec!["Tiers from the factory › a tag outside the grammar"]
    );
    assert!(report.invalid[0].1.contains("warp-speed"), "{report:#?}");

    // Every scenario is in the JUnit XML; the ones not run are skipped with their reason.
    assert_eq!(xml.matches("<testcase").count(), 8, "{xml}");
    assert_eq!(xml.matches("<skipped").count(), 5, "{xml}");
    assert!(xml.contains("Unsupported Step"), "{xml}");
    assert!(xml.contains("pending: waits for live-matrix"), "{xml}");
    assert!(
        xml.contains("tagged @mini-stack: no runner for that tier exists"),
        "{xml}"
    );
    assert!(xml.contains("unknown tag"), "{xml}");
    assert!(xml.contains("Scenario: sim only: "), "{xml}");

    // No tier at all: nothing runs, everything says why, and the build fails.
    let (report, xml) = run_with(Registry::empty());
    assert_eq!(report.ran(), 0);
    assert!(report.fails_build());
    assert!(reason_of(&report, "live only").contains("tiers with a runner: none"));
    assert_eq!(xml.matches("<skipped").count(), 7, "{xml}");
    let mut summary = Vec::new();
    report.print(&mut summary).expect("print to a Vec");
    let summary = String::from_utf8(summary).expect("UTF-8 summary");
    assert!(summary.contains("tiers with a runner: none"), "{summary}");
}
