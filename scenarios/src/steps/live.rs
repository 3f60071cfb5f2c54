//! The live matrix's steps (sections A, D, H on a real box): each parses the operator's words
//! into a [`LiveFact`], [`LiveAction`] or [`LiveOutcome`] and calls one driver method.

use cucumber::{given, then, when};

use crate::driver::{
    bare_value, CliOutcome, HostCapability, LiveAction, LiveFact, LiveOutcome, TierError,
};
use crate::world::CatalogWorld;

async fn given(world: &mut CatalogWorld, fact: LiveFact) -> Result<(), TierError> {
    world.tier().live_given(fact).await
}

async fn when(world: &mut CatalogWorld, action: LiveAction) -> Result<(), TierError> {
    world.tier().live_when(action).await
}

async fn then(world: &mut CatalogWorld, outcome: LiveOutcome) -> Result<(), TierError> {
    world.tier().live_expect(outcome).await
}

fn https(scheme: &str) -> bool {
    scheme.starts_with("https")
}

#[given(regex = r"^the baseline config with ([a-z0-9_.]+) set to (.+)$")]
async fn baseline_with(w: &mut CatalogWorld, path: String, value: String) -> Result<(), TierError> {
    let value = bare_value(&value);
    given(w, LiveFact::Override { path, value }).await
}

#[given(regex = r"^a real, synced(, mining)? box$")]
async fn real_box(w: &mut CatalogWorld, _mining: String) -> Result<(), TierError> {
    given(w, LiveFact::Ready).await
}

#[when("the live matrix applies it with pithead apply -y")]
async fn apply(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::Apply).await
}

#[when("the live matrix stops monerod")]
async fn stop_monerod(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::StopMonerod).await
}

#[when("the live matrix starts monerod again")]
async fn start_monerod(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::StartMonerod).await
}

#[when("the live matrix freezes monerod with SIGSTOP until its health check fails")]
async fn freeze_monerod(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::FreezeMonerod).await
}

#[when("the live matrix resumes monerod with SIGCONT")]
async fn resume_monerod(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::ResumeMonerod).await
}

#[when(
    regex = r"^the live matrix checks (the Caddy TLS scheme|Tor onion provisioning|the prune DB size|HugePages and AVX2|real disk pressure)$"
)]
async fn check(w: &mut CatalogWorld, capability: String) -> Result<(), TierError> {
    let capability = match capability.as_str() {
        "the Caddy TLS scheme" => HostCapability::CaddyTls,
        "Tor onion provisioning" => HostCapability::TorOnions,
        "HugePages and AVX2" => HostCapability::HugePagesAvx2,
        "real disk pressure" => HostCapability::DiskPressure,
        _ => HostCapability::PruneDbSize,
    };
    when(w, LiveAction::Check(capability)).await
}

#[then("the stack becomes ready")]
async fn ready(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::StackReady).await
}

#[then("a second apply reports no configuration changes")]
async fn second_apply(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::SecondApplyNoop).await
}

#[then(regex = r#"^\.env sets ([A-Z0-9_]+) to "?([^"]*)"?$"#)]
async fn env_sets(w: &mut CatalogWorld, key: String, value: String) -> Result<(), TierError> {
    then(w, LiveOutcome::EnvSets { key, value }).await
}

#[then("monerod runs under the local_node profile and the dashboard reads it as the local node")]
async fn monerod_local(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::MonerodLocal).await
}

#[then("no monerod container is expected and the runtime talks to monero.remote.host")]
async fn monerod_remote(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::MonerodRemote).await
}

#[then("the tari container runs under the local_tari profile")]
async fn tari_local(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::TariLocal).await
}

#[then("no tari container is expected and the runtime dials the remote node")]
async fn tari_remote(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::TariRemote).await
}

#[then("no tari container is expected and Tari never gates the release")]
async fn tari_off(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::TariOff).await
}

#[then(regex = r"^the Monero RPC port is (reachable|not reachable) from the LAN$")]
async fn rpc_from_lan(w: &mut CatalogWorld, reach: String) -> Result<(), TierError> {
    let reachable = reach == "reachable";
    then(w, LiveOutcome::RpcFromLan { reachable }).await
}

#[then(regex = r"^the rendered Caddyfile serves (https with tls internal|plain http)$")]
async fn caddyfile_serves(w: &mut CatalogWorld, scheme: String) -> Result<(), TierError> {
    let https = https(&scheme);
    then(w, LiveOutcome::CaddyfileServes { https }).await
}

#[then(regex = r"^the dashboard answers over (https with tls internal|plain http)$")]
async fn dashboard_answers(w: &mut CatalogWorld, scheme: String) -> Result<(), TierError> {
    let https = https(&scheme);
    then(w, LiveOutcome::DashboardAnswers { https }).await
}

#[then(regex = r"^/api/state shows the XvB engine (on|off)$")]
async fn xvb_engine(w: &mut CatalogWorld, state: String) -> Result<(), TierError> {
    let on = state == "on";
    then(w, LiveOutcome::XvbEngine { on }).await
}

#[then("a syncing Tari keeps the miners held")]
async fn syncing_tari_holds(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::SyncingTari { blocks: true }).await
}

#[then(r#"a syncing Tari shows the passive "Tari syncing N%" badge instead"#)]
async fn syncing_tari_passive(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::SyncingTari { blocks: false }).await
}

#[then(regex = r"^p2pool reports the (main|mini|nano) sidechain once the pool is ready$")]
async fn side_chain(w: &mut CatalogWorld, chain: String) -> Result<(), TierError> {
    then(w, LiveOutcome::P2poolSideChain(chain)).await
}

#[then(regex = r"^pithead status exits (\d+)$")]
async fn status_exits(w: &mut CatalogWorld, code: i32) -> Result<(), TierError> {
    then(w, LiveOutcome::StatusExits(code)).await
}

#[then(regex = r"^pithead status exits (\d+) once the workers are readmitted$")]
async fn status_exits_readmitted(w: &mut CatalogWorld, code: i32) -> Result<(), TierError> {
    then(w, LiveOutcome::StatusExits(code)).await?;
    let service = crate::driver::XMRIG_PROXY.to_owned();
    let verdict = "running".to_owned();
    then(w, LiveOutcome::ReportedAs { service, verdict }).await
}

#[then(regex = r"^pithead status exits (\d+) again$")]
async fn status_exits_again(w: &mut CatalogWorld, code: i32) -> Result<(), TierError> {
    then(w, LiveOutcome::StatusExits(code)).await
}

#[then(regex = r"^it exits (\d+)$")]
async fn it_exits(w: &mut CatalogWorld, code: i32) -> Result<(), TierError> {
    // `pithead status`'s exit: the CLI's world where a tier has one, else the live box's.
    w.tier().cli_expect(CliOutcome::Exits(code)).await
}

#[then(regex = r#"^pithead status reports "(.+)"$"#)]
async fn status_reports(w: &mut CatalogWorld, line: String) -> Result<(), TierError> {
    then(w, LiveOutcome::StatusPrints(line)).await
}

#[then(regex = r"^(\S+) is reported (exited|missing|running)$")]
async fn reported_as(
    w: &mut CatalogWorld,
    service: String,
    verdict: String,
) -> Result<(), TierError> {
    w.tier()
        .cli_expect(CliOutcome::ReportedAs { service, verdict })
        .await
}

#[then("the dashboard answers on the scheme dashboard.secure asks for")]
async fn caddy_tls(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::Capability(HostCapability::CaddyTls)).await
}

#[then("the onion addresses exist and are preserved across apply")]
async fn onions(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::Capability(HostCapability::TorOnions)).await
}

#[then("the chain database size matches the configured prune mode")]
async fn prune_db_size(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::Capability(HostCapability::PruneDbSize)).await
}

#[given("a real box with XvB enabled")]
async fn xvb_enabled(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, LiveFact::XvbEnabled).await
}

#[given(regex = r"^the XvB stats endpoint is (reachable|failing)$")]
async fn xvb_endpoint(w: &mut CatalogWorld, condition: String) -> Result<(), TierError> {
    let reachable = condition == "reachable";
    given(w, LiveFact::XvbEndpoint { reachable }).await
}

#[when("the engine runs a cycle")]
async fn engine_cycle(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::EngineCycle).await
}

#[then("the engine reads fresh 1-hour and 24-hour averages")]
async fn xvb_fresh(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::XvbStats { stale: false }).await
}

#[then("the engine holds the fraction and the dashboard shows it stale")]
async fn xvb_stale(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::XvbStats { stale: true }).await
}

#[given("a fresh real box")]
async fn fresh_box(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, LiveFact::FreshBox).await
}

#[when("the live matrix runs pithead setup, up, status, apply -y, restart and down in turn")]
async fn lifecycle_sequence(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::LifecycleSequence).await
}

#[then("each step succeeds and pithead status exits 0 while the stack is up")]
async fn sequence_succeeded(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::SequenceSucceeded).await
}

#[then("repeating apply -y is a no-op")]
async fn repeating_apply(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::SecondApplyNoop).await
}

#[then("the secret fingerprints are the same before and after")]
async fn fingerprints_kept(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::FingerprintsKept).await
}

#[then(regex = r"^monerod runs with pruning (enabled|disabled)$")]
async fn monerod_pruning(w: &mut CatalogWorld, pruning: String) -> Result<(), TierError> {
    let enabled = pruning == "enabled";
    then(w, LiveOutcome::MonerodPruning { enabled }).await
}

#[then(regex = r"^the chain database size is in the (Pruned|Full) range$")]
async fn db_size_range(w: &mut CatalogWorld, mode: String) -> Result<(), TierError> {
    let pruned = mode == "Pruned";
    then(w, LiveOutcome::DbSizeInRange { pruned }).await
}

#[then(regex = r#"^the dashboard reports monero.mode as "(\w+)" with the badge "XMR (\w+)"$"#)]
async fn monero_mode(w: &mut CatalogWorld, mode: String, badge: String) -> Result<(), TierError> {
    if mode != badge {
        return Err(TierError::Scenario(format!(
            "the mode {mode:?} and the badge \"XMR {badge}\" name different modes"
        )));
    }
    then(w, LiveOutcome::MoneroMode(mode)).await
}

#[when("the live matrix reads /api/state")]
async fn read_state(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::ReadState).await
}

#[then("the sync block, the Monero mode, the workers and the badges match what the daemons report")]
async fn state_matches(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::StateMatchesDaemons).await
}

#[given("a real, synced box with a worker connected to xmrig-proxy")]
async fn worker_connected(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, LiveFact::WorkerConnected).await
}

#[when("the worker hashes for a while")]
async fn worker_hashes(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, LiveAction::WorkerHashes).await
}

#[then("p2pool records a share found")]
async fn share_found(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::ShareFound).await
}

#[then("the dashboard shows a non-zero hashrate for the worker")]
async fn worker_hashrate(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::WorkerHashrate).await
}

#[then("the dashboard reports HugePages and the CPU supports AVX2")]
async fn hugepages_avx2(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::Capability(HostCapability::HugePagesAvx2)).await
}

#[then("the disk badge reflects the real data disk usage")]
async fn disk_pressure(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, LiveOutcome::Capability(HostCapability::DiskPressure)).await
}
