//! Alert steps (sections C and F): each parses the operator's words into an [`AlertFact`],
//! [`AlertEvent`] or [`AlertOutcome`] and calls one driver method.

use cucumber::{given, then, when};

use crate::alerts::{sink_named, AlertEvent, AlertFact, AlertOutcome, SinkClass};
use crate::driver::TierError;
use crate::world::CatalogWorld;

fn sink(word: &str) -> Result<SinkClass, TierError> {
    sink_named(word).map_err(TierError::Check)
}

async fn given(world: &mut CatalogWorld, fact: AlertFact) -> Result<(), TierError> {
    world.tier().alerts_given(fact).await
}

async fn when(world: &mut CatalogWorld, event: AlertEvent) -> Result<(), TierError> {
    world.tier().alerts_when(event).await
}

async fn then(world: &mut CatalogWorld, outcome: AlertOutcome) -> Result<(), TierError> {
    world.tier().alerts_expect(outcome).await
}

#[given("alerts go to Telegram, a webhook and ntfy")]
async fn every_sink(w: &mut CatalogWorld) -> Result<(), TierError> {
    given(w, AlertFact::EverySink).await
}

#[given(regex = r"^the (Telegram|webhook|ntfy) sink is down$")]
async fn sink_down(w: &mut CatalogWorld, name: String) -> Result<(), TierError> {
    given(w, AlertFact::SinkDown(sink(&name)?)).await
}

#[when(regex = r"^the (Telegram|webhook|ntfy) sink comes back$")]
async fn sink_back(w: &mut CatalogWorld, name: String) -> Result<(), TierError> {
    when(w, AlertEvent::SinkBack(sink(&name)?)).await
}

#[then(
    regex = r#"^exactly (one|two|\d+) "([a-z_]+)" alerts? reached (Telegram|the webhook|ntfy|every sink)$"#
)]
async fn reached(
    w: &mut CatalogWorld,
    count: String,
    event: String,
    name: String,
) -> Result<(), TierError> {
    let count = match count.as_str() {
        "one" => 1,
        "two" => 2,
        n => n
            .parse()
            .map_err(|_| TierError::Check(format!("not a count: {n:?}")))?,
    };
    let sink = if name == "every sink" {
        None
    } else {
        Some(sink(&name)?)
    };
    then(w, AlertOutcome::Reached { event, sink, count }).await
}

#[then(regex = r"^no alert reached (Telegram|the webhook|ntfy)$")]
async fn none_reached(w: &mut CatalogWorld, name: String) -> Result<(), TierError> {
    then(w, AlertOutcome::NoneReached(sink(&name)?)).await
}

#[then(
    regex = r"^the api counts (at least )?(\d+) (sent|retried|dropped) alerts? for (Telegram|the webhook|ntfy)$"
)]
async fn counted(
    w: &mut CatalogWorld,
    at_least: String,
    count: u64,
    counter: String,
    name: String,
) -> Result<(), TierError> {
    let sink = sink(&name)?;
    let outcome = AlertOutcome::Counted {
        sink,
        counter,
        count,
        at_least: !at_least.is_empty(),
    };
    then(w, outcome).await
}

#[then(regex = r"^the api's sent count for (Telegram|the webhook|ntfy) matches what reached it$")]
async fn sent_matches(w: &mut CatalogWorld, name: String) -> Result<(), TierError> {
    then(w, AlertOutcome::SentMatches(sink(&name)?)).await
}

#[then("no sink secret appears in any log line, error or /api/state")]
async fn no_secret(w: &mut CatalogWorld) -> Result<(), TierError> {
    then(w, AlertOutcome::NoSecretLeaked).await
}
