//! Section E steps: the XvB engine. Each parses the operator's words into an [`XvbFact`],
//! [`XvbEvent`] or [`XvbOutcome`] and calls one driver method.

use cucumber::{given, then, when};

use crate::driver::{TierError, XvbEvent, XvbFact, XvbOutcome};
use crate::world::CatalogWorld;

/// `9,000` → 9000.0.
fn hs(text: &str) -> f64 {
    text.replace(',', "").parse().unwrap_or(f64::NAN)
}

/// `3,000` → 3000.
fn whole(text: &str) -> u64 {
    text.replace(',', "").parse().unwrap_or(u64::MAX)
}

async fn given(world: &mut CatalogWorld, fact: XvbFact) -> Result<(), TierError> {
    world.tier().xvb_given(fact).await
}

async fn when(world: &mut CatalogWorld, event: XvbEvent) -> Result<(), TierError> {
    world.tier().xvb_when(event).await
}

async fn then(world: &mut CatalogWorld, outcome: XvbOutcome) -> Result<(), TierError> {
    world.tier().xvb_expect(outcome).await
}

#[given("the XvB engine with an otherwise sustainable VIP tier")]
async fn sustainable_vip(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::SustainableVip).await
}

#[given("the engine is disabled")]
async fn disabled(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::Disabled).await
}

#[given("I have no P2Pool share inside the PPLNS window")]
async fn no_share(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::NoShare).await
}

#[given(regex = r"^XvB reports a fail_count of (\d+) for my donor id$")]
async fn fail_count(w: &mut CatalogWorld, n: u64) -> Result<(), TierError> {
    given(w, XvbFact::FailCount(n)).await
}

#[given("no tier is reachable with my stable hashrate")]
async fn no_tier(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::NoTierReachable).await
}

#[given(
    regex = r"^p2pool runs the (main|mini|nano) side chain with the default pplns_window of (\d+) blocks$"
)]
async fn side_chain(w: &mut CatalogWorld, chain: String, blocks: u64) -> Result<(), TierError> {
    let chain = match chain.as_str() {
        "mini" => "mini",
        "nano" => "nano",
        _ => "main",
    };
    given(w, XvbFact::SideChain(chain, blocks)).await
}

#[given(regex = r"^my last P2Pool share was found (\d+) seconds ago$")]
async fn last_share(w: &mut CatalogWorld, age: u64) -> Result<(), TierError> {
    given(w, XvbFact::LastShareAge(age)).await
}

#[given(
    regex = r"^a VIP target with my XvB 1-hour average at ([\d,]+) H/s and ([\d,]+) H/s current hashrate$"
)]
async fn vip_at(w: &mut CatalogWorld, avg: String, current: String) -> Result<(), TierError> {
    let fact = XvbFact::VipAt {
        avg_1h_hs: hs(&avg),
        current_hs: hs(&current),
    };
    given(w, fact).await
}

#[given("my XvB 1-hour average has been falling steadily")]
async fn falling(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::Falling).await
}

#[given(regex = r"^the engine last commanded ([\d.]+) before restart$")]
async fn persisted(w: &mut CatalogWorld, fraction: String) -> Result<(), TierError> {
    given(w, XvbFact::Persisted(Some(hs(&fraction)))).await
}

#[given(regex = r"^the engine last commanded a fraction of ([\d.]+)$")]
async fn commanded(w: &mut CatalogWorld, fraction: String) -> Result<(), TierError> {
    given(w, XvbFact::Persisted(Some(hs(&fraction)))).await
}

#[given(regex = r"^the fraction is ([\d.]+)$")]
async fn fraction_is(w: &mut CatalogWorld, fraction: String) -> Result<(), TierError> {
    given(w, XvbFact::Persisted(Some(hs(&fraction)))).await
}

#[given("no fraction was persisted but a standby exists")]
async fn standby(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::Standby).await
}

#[given("nothing was persisted and no standby exists")]
async fn nothing_persisted(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::Persisted(None)).await
}

#[given(
    regex = r"^a side-chain difficulty and PPLNS window that need a reserve of ([\d,]+) H/s for P2Pool$"
)]
async fn reserve(w: &mut CatalogWorld, needed: String) -> Result<(), TierError> {
    given(w, XvbFact::Reserve(hs(&needed))).await
}

#[given(regex = r"^my current hashrate is ([\d,]+) H/s$")]
async fn current(w: &mut CatalogWorld, rate: String) -> Result<(), TierError> {
    given(w, XvbFact::Current(hs(&rate))).await
}

#[given(regex = r"^I won an XvB raffle round ([\d,]+) seconds ago$")]
async fn raffle(w: &mut CatalogWorld, age: String) -> Result<(), TierError> {
    given(w, XvbFact::RaffleWon(whole(&age))).await
}

#[given("my 1-hour average is above the reference")]
async fn above_reference(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::AboveReference).await
}

#[given(regex = r"^the last fresh XvB stats read was (\d+) seconds ago$")]
async fn stats_age(w: &mut CatalogWorld, age: u64) -> Result<(), TierError> {
    given(w, XvbFact::StatsAge(age)).await
}

/// "More than N" is N plus one update interval of the default 30 s.
#[given(regex = r"^the XvB stats have been stale for more than ([\d,]+) seconds$")]
async fn stale_for(w: &mut CatalogWorld, age: String) -> Result<(), TierError> {
    given(w, XvbFact::StatsAge(whole(&age).saturating_add(30))).await
}

#[given(regex = r"^a 600-second cycle and a decided fraction of ([\d.]+)$")]
async fn planned_fraction(w: &mut CatalogWorld, fraction: String) -> Result<(), TierError> {
    given(w, XvbFact::Fraction(hs(&fraction))).await
}

#[given(regex = r"^donation_level is (auto|donor|vip|whale|mega)$")]
async fn level(w: &mut CatalogWorld, word: String) -> Result<(), TierError> {
    let level = match word.as_str() {
        "donor" => "donor",
        "vip" => "vip",
        "whale" => "whale",
        "mega" => "mega",
        _ => "auto",
    };
    given(w, XvbFact::Level(level)).await
}

#[given(regex = r"^my 15-minute stable hashrate is ([\d,]+) H/s$")]
async fn stable(w: &mut CatalogWorld, rate: String) -> Result<(), TierError> {
    given(w, XvbFact::Stable(hs(&rate))).await
}

#[given("the engine is inside the XvB slice of a SPLIT cycle")]
async fn inside_slice(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::InsideXvbSlice).await
}

#[when("a cycle is decided")]
async fn decide(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::Decide).await
}

#[when("the first cycle is decided")]
async fn first_decided(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::Decide).await
}

#[when("the target tier is chosen")]
async fn tier_chosen(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::Decide).await
}

#[when("a cycle closes")]
async fn closes(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::CloseCycle).await
}

#[when("the loop asks for more than the cap")]
async fn above_cap(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::AskAboveCap).await
}

#[when("the cycle is planned")]
async fn planned(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::Plan).await
}

#[when(regex = r"^a re-read inside the cycle finds XvB's fail_count at (\d+)$")]
async fn re_read(w: &mut CatalogWorld, fail_count: u64) -> Result<(), TierError> {
    when(w, XvbEvent::ReRead { fail_count }).await
}

#[then(regex = r"^the mode is (P2POOL|XVB|SPLIT)( for the whole cycle)?$")]
async fn mode(w: &mut CatalogWorld, name: String, span: String) -> Result<(), TierError> {
    let whole = !span.is_empty();
    then(w, XvbOutcome::Mode { mode: name, whole }).await
}

#[then(regex = r#"^the decision names the "([^"]*)" guard$"#)]
async fn guard(w: &mut CatalogWorld, reason: String) -> Result<(), TierError> {
    then(w, XvbOutcome::Guard(reason)).await
}

#[then(regex = r"^the no-shares guard (fires|does not fire)$")]
async fn no_shares_guard(w: &mut CatalogWorld, fires: String) -> Result<(), TierError> {
    then(w, XvbOutcome::NoSharesGuard(fires == "fires")).await
}

#[then(
    regex = r"^the donated fraction rises by 0\.03 × \(reference − projected 1-hour average\) / current hashrate$"
)]
async fn rises(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::RoseByLoopStep).await
}

#[then("the donated fraction falls, never below 0")]
async fn falls(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::Fell).await
}

#[then("the donated fraction does not fall")]
async fn does_not_fall(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::DidNotFall).await
}

#[then("the loop steers on the average projected 1,200 seconds ahead")]
async fn on_projection(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::SteeredOnProjection).await
}

#[then("the projection is at least 0.75 × the measured average and never above it")]
async fn projection_bounded(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::ProjectionBounded).await
}

#[then(regex = r"^the starting fraction is (.+)$")]
async fn starting(w: &mut CatalogWorld, seed: String) -> Result<(), TierError> {
    then(w, XvbOutcome::StartingFraction(seed)).await
}

#[then(regex = r"^the fraction is clamped to min\(0\.85, 1 − [\d,]+ / [\d,]+\) = ([\d.]+)$")]
async fn clamped(w: &mut CatalogWorld, value: String) -> Result<(), TierError> {
    then(w, XvbOutcome::FractionIs(hs(&value))).await
}

#[then(regex = r"^the fraction (follows the closed loop|stays at ([\d.]+)|becomes ([\d.]+))$")]
async fn fraction_result(
    w: &mut CatalogWorld,
    _whole: String,
    stays: String,
    becomes: String,
) -> Result<(), TierError> {
    let outcome = match (stays.is_empty(), becomes.is_empty()) {
        (false, _) => XvbOutcome::FractionIs(hs(&stays)),
        (_, false) => XvbOutcome::FractionIs(hs(&becomes)),
        _ => XvbOutcome::FollowsLoop,
    };
    then(w, outcome).await
}

#[then("the fraction snaps to 0")]
async fn snaps(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::FractionIs(0.0)).await
}

#[then(
    regex = r"^(all 600 seconds go to P2Pool|a slice under 15 seconds is not sent to XvB|the XvB slice comes first, with about 5 seconds of switching accounted|a P2Pool remainder under 30 seconds sends the whole cycle to XvB)$"
)]
async fn plan(w: &mut CatalogWorld, words: String) -> Result<(), TierError> {
    let kind = if words.starts_with("all 600") {
        "all-p2pool"
    } else if words.starts_with("a slice under") {
        "no-short-slice"
    } else if words.starts_with("the XvB slice") {
        "xvb-first"
    } else {
        "whole-to-xvb"
    };
    then(w, XvbOutcome::Plan(kind)).await
}

#[then(
    regex = r"^the engine targets (donor|VIP|whale|mega|no tier)(, honoured as asked, never downgraded)?$"
)]
async fn targets(w: &mut CatalogWorld, tier: String, _fixed: String) -> Result<(), TierError> {
    let tier = match tier.as_str() {
        "no tier" => "none".to_owned(),
        other => other.to_ascii_lowercase(),
    };
    then(w, XvbOutcome::Target(tier)).await
}

#[then("the engine switches back to P2Pool before the slice ends")]
async fn back_to_p2pool(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::SliceEndedEarly).await
}

#[then("the closed loop does not advance for that re-read")]
async fn loop_held(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::LoopHeld).await
}

#[given("xmrig-proxy's /1/config lists the P2Pool and XvB pools")]
async fn proxy_pools(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, XvbFact::ProxyPools).await
}

#[when("the engine switches to XvB")]
async fn switches_to_xvb(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::SwitchToXvb).await
}

#[when("the next switch is refused")]
async fn switch_refused(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, XvbEvent::NextSwitchRefused).await
}

#[then("it PUTs the whole config back with XvB first and enabled and P2Pool disabled")]
async fn xvb_first(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::XvbFirstInConfig).await
}

#[then("xmrig-proxy answers 204")]
async fn answers_204(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::PutAccepted).await
}

#[then("the engine's recorded mode is unchanged and the switch is retried next time")]
async fn refused_then_retried(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, XvbOutcome::RefusedThenRetried).await
}
