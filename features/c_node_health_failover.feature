# Catalog section C — node health and failover (#31): a node that has been up and then stays
# unreachable for the down window rejects workers (xmrig-proxy stopped, so miners fail over to
# their backup pools); it is readmitted only after the recovery window of steady reachability.
#
# Every scenario here runs on the deterministic simulation (@sim) with the shared step library;
# @mini-stack marks the ones the container mini-stack repeats when that harness runs.
# Windows are set explicitly where a scenario times them; "stay ... for N seconds" checks every
# cycle of that span, so it proves the runtime does not act early.
@section-C @issue-31
Feature: Node health and failover — reject workers while a required node is down, readmit on recovery
  As an operator whose miners have backup pools,
  I want xmrig-proxy stopped while a required node is really down and started again once it is
  steadily back, so that hashrate never goes to a dead node and a blip never costs me shares.

  @sim @mini-stack
  Scenario: monerod down past the down window rejects workers while p2pool keeps running
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 90 seconds
    And the miners have been released
    When monerod goes down
    Then workers stay accepted for 80 seconds
    When 30 seconds pass
    Then workers are rejected
    And xmrig-proxy is stopped
    And p2pool is running
    And the badge "monerod DOWN" is shown
    And the badge "Workers rejected" is shown
    And the api reports workers_rejected as true

  @sim @mini-stack
  Scenario: monerod back and steady readmits the workers
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then workers are rejected
    When monerod comes back
    And 60 seconds pass
    Then workers are accepted
    And xmrig-proxy is running
    And p2pool is running
    And the badge "monerod DOWN" is not shown
    And the badge "Workers rejected" is not shown
    And the api reports workers_rejected as false

  @sim @mini-stack
  Scenario: A required Tari down rejects workers, and Tari back readmits them
    Given the stack boots with default settings
    And Tari is required
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When Tari goes down
    And 60 seconds pass
    Then workers are rejected
    And xmrig-proxy is stopped
    And p2pool is running
    And the badge "Tari DOWN" is shown
    And the badge "Workers rejected" is shown
    When Tari comes back
    And 60 seconds pass
    Then workers are accepted
    And xmrig-proxy is running
    And the badge "Tari DOWN" is not shown

  @sim @mini-stack @issue-51
  Scenario: Tari optional — Tari down never rejects workers
    Given the stack boots with default settings
    And Tari is not required
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the miners have been released
    When Tari goes down
    Then workers stay accepted for 600 seconds
    And xmrig-proxy is running
    And no container was stopped after the release
    And the badge "Workers rejected" is not shown

  @sim @mini-stack @issue-51
  Scenario: Tari optional — monerod down still rejects, and monerod alone readmits
    Given the stack boots with default settings
    And Tari is not required
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When Tari goes down
    And monerod goes down
    And 60 seconds pass
    Then workers are rejected
    And p2pool is running
    When monerod comes back
    And 60 seconds pass
    Then workers are accepted
    And xmrig-proxy is running

  @sim
  Scenario: Recovery hysteresis — readmit only after the recovery window of steady reachability
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 60 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then workers are rejected
    When monerod comes back
    Then workers stay rejected for 50 seconds
    When 30 seconds pass
    Then workers are accepted
    And xmrig-proxy is running

  @sim
  Scenario: A node that flaps during recovery stays rejected until it is steadily back
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 60 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then workers are rejected
    When monerod comes back
    And 30 seconds pass
    And monerod goes down
    And 10 seconds pass
    And monerod comes back
    Then workers stay rejected for 50 seconds
    When 30 seconds pass
    Then workers are accepted

  @sim
  Scenario: A transient blip shorter than the down window rejects nobody
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 90 seconds
    And the miners have been released
    When monerod goes down
    And 40 seconds pass
    And monerod comes back
    Then workers stay accepted for 300 seconds
    And no container was stopped after the release
    And the badge "monerod DOWN" is not shown
    And the badge "Workers rejected" is not shown

  @sim
  Scenario: A node that was never reachable is not yet up, not down — no false reject
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And monerod was never reachable
    When 600 seconds pass
    Then the miners are held
    And the badge "monerod DOWN" is not shown
    And the badge "Workers rejected" is not shown
    And the api reports workers_rejected as false

  @sim @mini-stack
  Scenario Outline: Double outage — one node back is not enough, readmit only when both are healthy (<first> back first)
    Given the stack boots with default settings
    And Tari is required
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When monerod goes down
    And Tari goes down
    And 60 seconds pass
    Then workers are rejected
    And the badge "monerod DOWN" is shown
    And the badge "Tari DOWN" is shown
    When <first> comes back
    Then workers stay rejected for 120 seconds
    When <second> comes back
    And 60 seconds pass
    Then workers are accepted
    And xmrig-proxy is running
    And p2pool is running

    Examples:
      | first   | second  |
      | monerod | Tari    |
      | Tari    | monerod |

  @sim @mini-stack @issue-35
  Scenario: The #35 latch and #31 failover coexist after the release
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then workers are rejected
    And p2pool is running
    And the api reports miner_released as true
    And the badge "Miner held (sync)" is not shown
    When monerod comes back
    And 60 seconds pass
    Then workers are accepted
    And the miners are released
    And p2pool is running
    And the api reports miner_released as true

  @sim @mini-stack
  Scenario: monerod answering BUSY counts as unreachable — rejected, then readmitted when it clears
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When monerod becomes busy
    And 60 seconds pass
    Then workers are rejected
    And p2pool is running
    When monerod comes back
    And 60 seconds pass
    Then workers are accepted
    And xmrig-proxy is running

  @sim @mini-stack
  Scenario Outline: A reachable Tari that is <readiness> after the release keeps workers accepted
    Given the stack boots with default settings
    And Tari is required
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the miners have been released
    When Tari becomes <readiness>
    Then workers stay accepted for 600 seconds
    And xmrig-proxy is running
    And no container was stopped after the release
    And the badge "Workers rejected" is not shown
    And the badge "Tari DOWN" is not shown

    Examples:
      | readiness |
      | starting  |
      | migrating |
      | syncing   |

  @sim
  Scenario: A refused stop is retried next cycle until the workers are rejected
    Given the stack boots with default settings
    And the update interval is 10 seconds
    And the node down window is 30 seconds
    And the miners have been released
    And the docker engine refuses the next 2 calls
    When monerod goes down
    And 120 seconds pass
    Then workers are rejected
    And xmrig-proxy is stopped
    And p2pool is running

  @sim
  Scenario: A refused start is retried next cycle until the workers are readmitted
    Given the stack boots with default settings
    And the update interval is 10 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then workers are rejected
    Given the docker engine refuses the next 2 calls
    When monerod comes back
    And 120 seconds pass
    Then workers are accepted
    And xmrig-proxy is running

  # Alerts (#18): every sink gets each edge of debounced state once; a sink that is down gets
  # it once it answers again; a restart replays nothing. The sinks are the recording fakes on
  # the simulation's `sinks` host (Telegram, a signed webhook, ntfy with a token).
  @sim
  Scenario: A monerod outage sends one down alert and one recovery to every sink
    Given the stack boots with default settings
    And alerts go to Telegram, a webhook and ntfy
    And the update interval is 10 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then exactly one "node_down" alert reached every sink
    And exactly 0 "node_recovered" alerts reached every sink
    When monerod comes back
    And 60 seconds pass
    Then exactly one "node_recovered" alert reached every sink
    And exactly one "node_down" alert reached every sink

  @sim
  Scenario: A sink down for 10 minutes gets the alert once, after it recovers
    Given the stack boots with default settings
    And alerts go to Telegram, a webhook and ntfy
    And the update interval is 10 seconds
    And the node down window is 30 seconds
    And the miners have been released
    And the ntfy sink is down
    When monerod goes down
    And 600 seconds pass
    Then exactly one "node_down" alert reached Telegram
    And exactly one "node_down" alert reached the webhook
    And exactly 0 "node_down" alerts reached ntfy
    When the ntfy sink comes back
    Then exactly one "node_down" alert reached ntfy
    And exactly one "node_down" alert reached every sink

  @sim
  Scenario: A runtime restart during an outage sends no duplicate alert
    Given the stack boots with default settings
    And alerts go to Telegram, a webhook and ntfy
    And the update interval is 10 seconds
    And the node down window is 30 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then exactly one "node_down" alert reached every sink
    When the runtime restarts
    And 180 seconds pass
    Then exactly one "node_down" alert reached every sink
