//! Section F steps: the dashboard's read model. Each parses the operator's words into a
//! [`DashboardFact`], [`DashboardEvent`] or [`DashboardOutcome`] (or the shared
//! [`Condition::Api`]) and calls one driver method.

use cucumber::{given, then, when};

use crate::dashboard::{DashboardEvent, DashboardFact, DashboardOutcome, Resource};
use crate::driver::{bare_value, Condition, TierError};
use crate::world::CatalogWorld;

async fn given(world: &mut CatalogWorld, fact: DashboardFact) -> Result<(), TierError> {
    world.tier().dashboard_given(fact).await
}

async fn when(world: &mut CatalogWorld, event: DashboardEvent) -> Result<(), TierError> {
    world.tier().dashboard_when(event).await
}

async fn then(world: &mut CatalogWorld, outcome: DashboardOutcome) -> Result<(), TierError> {
    world.tier().dashboard_expect(outcome).await
}

#[given(regex = r"^a (local|remote) Monero node with monero.prune set to (true|false)$")]
async fn monero_node(w: &mut CatalogWorld, node: String, prune: String) -> Result<(), TierError> {
    let fact = DashboardFact::MoneroNode {
        local: node == "local",
        prune: prune == "true",
    };
    given(w, fact).await
}

#[given(regex = r"^a local monerod reporting a database size of (\d+) bytes$")]
async fn database_size(w: &mut CatalogWorld, bytes: u64) -> Result<(), TierError> {
    given(w, DashboardFact::DatabaseSize(bytes)).await
}

#[given(regex = r"^the data disk is (\d+)% full$")]
async fn disk_full(w: &mut CatalogWorld, percent: u8) -> Result<(), TierError> {
    given(w, DashboardFact::Usage(Resource::Disk, percent)).await
}

#[given(regex = r"^the host's (cpu|mem|disk) usage is (\d+)%$")]
async fn usage(w: &mut CatalogWorld, resource: String, percent: u8) -> Result<(), TierError> {
    let resource = match resource.as_str() {
        "cpu" => Resource::Cpu,
        "mem" => Resource::Mem,
        _ => Resource::Disk,
    };
    given(w, DashboardFact::Usage(resource, percent)).await
}

#[given("the host has HugePages disabled")]
async fn hugepages_off(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, DashboardFact::HugePagesOff).await
}

#[given("xmrig-proxy lists two workers, one hashing on p2pool and one gone quiet")]
async fn two_workers(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, DashboardFact::TwoWorkers).await
}

#[given("hashrate history recorded every 30 seconds with a 10-minute gap")]
async fn history_with_gap(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, DashboardFact::HistoryWithGap).await
}

#[given("the history database file is corrupt")]
async fn corrupt_history(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, DashboardFact::CorruptHistory).await
}

#[given(regex = r"^XvB is enabled with a fixed tier of (donor|VIP|whale|mega)$")]
async fn xvb_fixed_tier(w: &mut CatalogWorld, tier: String) -> Result<(), TierError> {
    let tier = match tier.as_str() {
        "donor" => "donor",
        "VIP" => "vip",
        "whale" => "whale",
        _ => "mega",
    };
    given(w, DashboardFact::XvbFixedTier(tier)).await
}

/// `10,000` is read as 10000; anything unparsable as 0 (no fleet can be below it).
#[given(regex = r"^the stable hashrate is below ([\d,]+) H/s$")]
async fn stable_below(w: &mut CatalogWorld, rate: String) -> Result<(), TierError> {
    let bound = rate.replace(',', "").parse().unwrap_or(0);
    given(w, DashboardFact::StableHashrateBelow(bound)).await
}

#[when("the dashboard refreshes")]
async fn refreshes(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, DashboardEvent::Refresh).await
}

#[when("the dashboard draws the chart")]
async fn draws_chart(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, DashboardEvent::DrawChart).await
}

#[when("the runtime starts")]
async fn runtime_starts(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, DashboardEvent::RuntimeStarts).await
}

/// `/api/state reports <path> as "<value>"` (quoted: a string) or a bare JSON word.
#[then(regex = r"^/api/state reports (\S+) as (.+)$")]
async fn api_state_reports(
    w: &mut CatalogWorld,
    path: String,
    value: String,
) -> Result<(), TierError> {
    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(text) => serde_json::Value::String(text.to_owned()),
        None => bare_value(&value),
    };
    w.tier().expect(Condition::Api { path, value }).await
}

#[then(regex = r"^proxy_workers reports (\d+)$")]
async fn proxy_workers(w: &mut CatalogWorld, n: u64) -> Result<(), TierError> {
    let condition = Condition::Api {
        path: "proxy_workers".to_owned(),
        value: n.into(),
    };
    w.tier().expect(condition).await
}

#[then(regex = r#"^the prune badge reads "([^"]*)"$"#)]
async fn prune_badge(w: &mut CatalogWorld, badge: String) -> Result<(), TierError> {
    let badge = (badge != "(none)").then_some(badge);
    then(w, DashboardOutcome::PruneBadge(badge)).await
}

#[then(regex = r#"^the badge "([^"]*)" is (shown|not shown) with variant (\w+)$"#)]
async fn badge_variant(
    w: &mut CatalogWorld,
    text: String,
    shown: String,
    variant: String,
) -> Result<(), TierError> {
    let variant = (shown == "shown").then_some(variant);
    then(w, DashboardOutcome::Badge { text, variant }).await
}

#[then(regex = r#"^the badge "([^"]*)" is shown as a warning$"#)]
async fn badge_warning(w: &mut CatalogWorld, text: String) -> Result<(), TierError> {
    let variant = Some("warn".to_owned());
    then(w, DashboardOutcome::Badge { text, variant }).await
}

#[then("/api/state lists both workers with their 15-minute and 1-hour hashrates")]
async fn both_workers(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, DashboardOutcome::BothWorkersListed).await
}

#[then(regex = r#"^the hashing worker is online on pool "(\w+)" and the quiet one is offline$"#)]
async fn worker_statuses(w: &mut CatalogWorld, pool: String) -> Result<(), TierError> {
    then(w, DashboardOutcome::HashingOnlineQuietOffline { pool }).await
}

#[then("both the p2pool and the xvb series carry a null point at the middle of the gap")]
async fn chart_breaks(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, DashboardOutcome::ChartBreaksAtTheGapOnly).await
}

#[then("no break is drawn across the regular 30-second gaps")]
async fn no_regular_breaks(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, DashboardOutcome::ChartBreaksAtTheGapOnly).await
}

#[then("the corrupt file is moved aside and a fresh database is created")]
async fn history_recreated(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, DashboardOutcome::HistoryRecreated).await
}
