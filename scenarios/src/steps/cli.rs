//! Sections D and G: `pithead status`'s verdicts and the CLI's lifecycle. Each step parses the
//! operator's words into a [`CliFact`], [`CliAction`] or [`CliOutcome`] and calls one driver
//! method.

use cucumber::{given, then, when};

use crate::driver::{CliAction, CliFact, CliOutcome, ConfigProblem, ContainerState, TierError};
use crate::world::CatalogWorld;

async fn given(world: &mut CatalogWorld, fact: CliFact) -> Result<(), TierError> {
    world.tier().cli_given(fact).await
}

async fn when(world: &mut CatalogWorld, action: CliAction) -> Result<(), TierError> {
    world.tier().cli_when(action).await
}

async fn then(world: &mut CatalogWorld, outcome: CliOutcome) -> Result<(), TierError> {
    world.tier().cli_expect(outcome).await
}

fn container(service: String, state: ContainerState) -> CliFact {
    CliFact::Container { service, state }
}

#[given("every expected service is running and healthy")]
async fn all_healthy(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::AllHealthy).await
}

#[given("a healthy local-node box")]
async fn healthy_local_node(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::HealthyLocalNode).await
}

#[given(
    regex = r"^(\S+) is (running and healthy|running, no check|running, starting|running, unhealthy|restarting|exited|missing)$"
)]
async fn container_is(
    w: &mut CatalogWorld,
    service: String,
    state: String,
) -> Result<(), TierError> {
    let state = match state.as_str() {
        "running and healthy" => ContainerState::Healthy,
        "running, no check" => ContainerState::NoCheck,
        "running, starting" => ContainerState::Starting,
        "running, unhealthy" => ContainerState::Unhealthy,
        "restarting" => ContainerState::Restarting,
        "exited" => ContainerState::Exited,
        _ => ContainerState::Missing,
    };
    given(w, container(service, state)).await
}

#[given(regex = r"^the (\S+) container does not exist$")]
async fn container_absent(w: &mut CatalogWorld, service: String) -> Result<(), TierError> {
    given(w, container(service, ContainerState::Missing)).await
}

#[given(regex = r"^no (\S+) container exists$")]
async fn no_container(w: &mut CatalogWorld, service: String) -> Result<(), TierError> {
    given(w, container(service, ContainerState::Missing)).await
}

#[given("the sync hold is on")]
async fn sync_hold(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::SyncHold).await
}

#[given("monerod is down and workers are rejected")]
async fn node_down(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::NodeDownRejected).await
}

#[given(regex = r"^COMPOSE_PROFILES does not include (\S+)$")]
async fn profile_off(w: &mut CatalogWorld, profile: String) -> Result<(), TierError> {
    given(w, CliFact::ProfileOff(profile)).await
}

#[when("I run pithead status")]
async fn run_status(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::Status).await
}

#[when(regex = r"^(\S+) is (stopped|removed) \(docker (?:stop|rm)\)$")]
async fn node_container(
    w: &mut CatalogWorld,
    service: String,
    how: String,
) -> Result<(), TierError> {
    let removed = how == "removed";
    when(w, CliAction::NodeContainer { service, removed }).await
}

#[then(r#"it prints a "✓ <name> running" line for each service"#)]
async fn each_running(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::EachRunning).await
}

#[then(regex = r#"^it prints "(.+)"$"#)]
async fn prints(w: &mut CatalogWorld, line: String) -> Result<(), TierError> {
    then(w, CliOutcome::Prints(line)).await
}

#[then(regex = r"^(\S+) (needs no attention|needs attention)$")]
async fn attention(
    w: &mut CatalogWorld,
    service: String,
    verdict: String,
) -> Result<(), TierError> {
    let needs = verdict == "needs attention";
    then(w, CliOutcome::Attention { service, needs }).await
}

#[then(regex = r"^(\S+) is not counted as needing attention$")]
async fn not_counted(w: &mut CatalogWorld, service: String) -> Result<(), TierError> {
    let needs = false;
    then(w, CliOutcome::Attention { service, needs }).await
}

#[then(regex = r"^(\S+) is not listed as expected$")]
async fn not_expected(w: &mut CatalogWorld, service: String) -> Result<(), TierError> {
    then(w, CliOutcome::NotExpected(service)).await
}

#[given(regex = r"^a config\.json with (.+)$")]
async fn bad_config(w: &mut CatalogWorld, problem: String) -> Result<(), TierError> {
    let problem = match problem.as_str() {
        r#"monero.mode "cloud""# => ConfigProblem::MoneroModeCloud,
        r#"p2pool.pool "huge""# => ConfigProblem::PoolHuge,
        "remote mode without a remote host" => ConfigProblem::RemoteWithoutHost,
        "no wallet addresses" => ConfigProblem::NoWallets,
        "a newline inside p2pool.pool" => ConfigProblem::ControlCharacter,
        other => {
            return Err(TierError::Scenario(format!(
                "unknown config.json problem {other:?}"
            )))
        }
    };
    given(w, CliFact::BadConfig(problem)).await
}

#[given("a config.json whose Monero wallet address starts with 8")]
async fn subaddress(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::BadConfig(ConfigProblem::Subaddress)).await
}

#[when("I run pithead apply")]
async fn apply(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::Apply { yes: false }).await
}

#[then(regex = r#"^it refuses with "(.+)"$"#)]
async fn refuses_with(w: &mut CatalogWorld, message: String) -> Result<(), TierError> {
    then(w, CliOutcome::RefusedWith(message)).await
}

#[then("it refuses with a message saying p2pool cannot pay subaddresses")]
async fn refuses_subaddress(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::RefusedSubaddress).await
}

#[then("it refuses naming the offending key")]
async fn refuses_naming_key(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::RefusedNamingKey).await
}

#[then("nothing is written")]
async fn nothing_written(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::NothingWritten).await
}

#[given(
    "a first pithead setup has generated PROXY_AUTH_TOKEN, the onion addresses and the node RPC password"
)]
async fn first_setup(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::Applied).await
}

#[given(regex = r"^an applied (config\.json|box)$")]
async fn applied(w: &mut CatalogWorld, _what: String) -> Result<(), TierError> {
    given(w, CliFact::Applied).await
}

#[given("a real box with a known config")]
async fn known_config(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::Applied).await
}

#[when("I change p2pool.pool and run pithead apply -y twice")]
async fn change_pool_twice(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::ChangePoolApplyTwice).await
}

#[then(
    "PROXY_AUTH_TOKEN, the onion addresses, the node RPC password and the wallet-RPC password are unchanged"
)]
async fn secrets_unchanged(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::SecretsUnchanged).await
}

#[then("the node RPC password is 32 alphanumerics")]
async fn rpc_password(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::RpcPassword32).await
}

#[then(".env is written with mode 600")]
async fn env_mode(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::EnvMode600).await
}

#[when("I run pithead apply again without changes")]
async fn apply_again(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::Apply { yes: false }).await
}

#[then("no container is recreated")]
async fn nothing_recreated(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::NothingRecreated).await
}

#[when(regex = r"^I change (.+) and run pithead apply$")]
async fn change_and_apply(w: &mut CatalogWorld, key: String) -> Result<(), TierError> {
    when(w, CliAction::ChangeAndApply(key)).await
}

#[then("it is applied without a question")]
async fn without_question(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::AppliedWithoutQuestion).await
}

#[then(r#"it asks "Proceed with applying these changes? (y/N):" unless -y is given"#)]
async fn asks(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::AskedUnlessYes).await
}

#[then("it warns that the chain re-syncs from scratch before asking")]
async fn warns_resync(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::WarnedResync).await
}

#[given("an apply whose container recreate fails")]
async fn failing_recreate(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::FailingRecreate).await
}

#[when("I run pithead apply -y again")]
async fn apply_yes_again(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::Apply { yes: true }).await
}

#[then("the apply-incomplete marker makes it retry the recreate")]
async fn retried(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::RetriedRecreate).await
}

#[then("the marker is removed once the recreate succeeds")]
async fn marker_removed(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::MarkerRemoved).await
}

#[when(
    regex = r"^I point (Monero node endpoint|Tari node address) at another node and run pithead apply -y$"
)]
async fn point_elsewhere(w: &mut CatalogWorld, what: String) -> Result<(), TierError> {
    let monero = what.starts_with("Monero");
    when(w, CliAction::PointNodeElsewhere { monero }).await
}

#[then(regex = r"^the runtime re-arms (the whole gate|only the Tari part) of the sync gate$")]
async fn rearmed(w: &mut CatalogWorld, part: String) -> Result<(), TierError> {
    let monero = part == "the whole gate";
    then(w, CliOutcome::Rearmed { monero }).await
}

#[then("the miners are held again until that node is synced")]
async fn held_until_synced(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::HeldUntilSynced).await
}

#[when("the live matrix runs pithead backup -y --no-encrypt")]
async fn backup(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::Backup).await
}

#[then("the archive lists config.json and .env")]
async fn archive_lists(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::ArchiveLists).await
}

#[when("the pool is changed and the archive is restored")]
async fn change_and_restore(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::ChangePoolAndRestore).await
}

#[then("config.json is byte-identical to the backed-up one")]
async fn config_identical(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::ConfigIdentical).await
}

#[then("the secret fingerprints are equal")]
async fn fingerprints(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::FingerprintsEqual).await
}

#[given("the live matrix runs with --safety-backup")]
async fn safety_backup(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, CliFact::SafetyBackup).await
}

#[when("a destructive scenario fails")]
async fn destructive_fails(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::DestructiveRunFails).await
}

#[then("the box is taken down, restored and brought up again")]
async fn rolled_back(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::RolledBack).await
}

#[then("config.json is byte-identical and the secret fingerprints are equal")]
async fn identical_and_equal(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::ConfigIdentical).await?;
    then(w, CliOutcome::FingerprintsEqual).await
}

#[when(regex = r"^I run pithead (reset-dashboard|doctor|version)$")]
async fn run_command(w: &mut CatalogWorld, command: String) -> Result<(), TierError> {
    when(w, CliAction::Command(command)).await
}

#[then("the dashboard's history is reset, the latch and the config are kept")]
async fn reset_worked(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::CommandWorked("reset-dashboard".into())).await
}

#[then("it reports each check with a verdict and never prints a secret")]
async fn doctor_worked(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::CommandWorked("doctor".into())).await
}

#[then("it prints the stack version")]
async fn version_worked(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::CommandWorked("version".into())).await
}

#[given("a real box on the previous release")]
async fn previous_release(w: &mut CatalogWorld) -> Result<(), TierError> {
    // The box as deployed is the release the upgrade starts from.
    given(w, CliFact::AllHealthy).await
}

#[when("I run pithead upgrade")]
async fn run_upgrade(w: &mut CatalogWorld) -> Result<(), TierError> {
    when(w, CliAction::Upgrade).await
}

#[then("the images are pulled or rebuilt and the stack comes back healthy")]
async fn upgraded(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, CliOutcome::Upgraded).await
}
