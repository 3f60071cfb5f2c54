# Catalog section B — the sync gate (#35): hold p2pool and xmrig-proxy while the chains sync,
# release them once, and never take the release back.
#
# Every scenario here runs on the deterministic simulation (@sim) with the shared step library;
# @mini-stack marks the ones the container mini-stack repeats when that harness runs.
# `the api reports <field> as <value>` takes a dotted /api/state path and a bare JSON value.
@section-B @issue-35
Feature: Sync lifecycle — the miners wait for the chains, then are released for good
  As an operator bringing up a box whose chains are still syncing,
  I want p2pool and xmrig-proxy held until the nodes are synced and then released once,
  so that my miners never work on a stale chain and never get stopped again by a later sync blip.

  @sim @mini-stack
  Scenario: Cold start with both chains syncing holds p2pool and xmrig-proxy
    Given the stack boots with default settings
    And monerod is syncing at 1200 of 3000
    And Tari is syncing at 500 of 2000
    When 60 seconds pass
    Then the miners are held
    And p2pool is stopped
    And xmrig-proxy is stopped
    And the badge "Miner held (sync)" is shown
    And the badge "Syncing..." is shown
    And the api reports syncing as true
    And the api reports miner_released as false

  @sim @mini-stack
  Scenario: Monero synced while a required Tari is still syncing keeps the miners held
    Given the stack boots with default settings
    And Tari is required
    And monerod is syncing at 2900 of 3000
    And Tari is syncing at 500 of 2000
    When monerod becomes synced
    Then the miners stay held for 300 seconds
    And the badge "Miner held (sync)" is shown
    And the api reports syncing as true
    And the api reports sync.monero.state as done
    And the api reports sync.tari.state as syncing

  @sim @issue-51
  Scenario: Monero synced with Tari not required releases and shows the passive Tari badge
    Given the stack boots with default settings
    And Tari is not required
    And monerod is syncing at 2900 of 3000
    And Tari is syncing at 400 of 1000
    When monerod becomes synced
    And 60 seconds pass
    Then the miners are released
    And p2pool is running
    And xmrig-proxy is running
    And the badge "Tari syncing 40%" is shown
    And the badge "Miner held (sync)" is not shown
    And the api reports syncing as false
    And the api reports miner_released as true

  @sim @mini-stack @issue-51
  Scenario: Tari optional — the release waits on monerod alone, even while Tari is starting
    Given the stack boots with default settings
    And Tari is not required
    And monerod is syncing at 2000 of 3000
    And Tari is starting
    When monerod becomes synced
    And 60 seconds pass
    Then the miners are released
    And p2pool is running
    And xmrig-proxy is running

  @sim @mini-stack
  Scenario Outline: Both chains synced releases the miners exactly once, whichever finishes last (<order>)
    Given the stack boots with default settings
    And Tari is required
    And monerod is syncing at 2900 of 3000
    And Tari is syncing at 1900 of 2000
    When <first> becomes synced
    Then the miners stay held for 120 seconds
    When <second> becomes synced
    And 60 seconds pass
    Then the miners are released
    And p2pool is running
    And xmrig-proxy is running
    And p2pool was started exactly once
    And xmrig-proxy was started exactly once
    And the badge "Miner held (sync)" is not shown
    And the api reports miner_released as true

    Examples:
      | order        | first   | second  |
      | Monero first | monerod | Tari    |
      | Tari first   | Tari    | monerod |

  @sim
  Scenario: The release is a one-way latch — Tari falling back to syncing never re-holds the miners
    Given the stack boots with default settings
    And Tari is required
    And the miners have been released
    When Tari becomes syncing
    And 600 seconds pass
    Then the miners are released
    And p2pool is running
    And xmrig-proxy is running
    And no container was stopped after the release
    And the badge "Miner held (sync)" is not shown
    And the api reports miner_released as true

  @sim
  Scenario: p2pool's network height 0 (a UI override) does not deadlock the gate
    Given the stack boots with default settings
    And monerod is syncing at 2900 of 3000
    And Tari is synced
    And p2pool reports network height 0
    When monerod becomes synced
    And 60 seconds pass
    Then the miners are released
    And p2pool is running
    And xmrig-proxy is running
    And the api reports miner_released as true

  @sim
  Scenario: A restart mid-sync resumes holding
    Given the stack boots with default settings
    And monerod is syncing at 1000 of 3000
    And Tari is syncing at 100 of 2000
    When 60 seconds pass
    And the runtime restarts
    And 120 seconds pass
    Then the miners are held
    And p2pool is stopped
    And xmrig-proxy is stopped
    And the api reports miner_released as false

  @sim @mini-stack
  Scenario: A miner started by hand while the chains sync is stopped again
    Given the stack boots with default settings
    And monerod is syncing at 1200 of 3000
    When 60 seconds pass
    Then the miners are held
    When someone starts p2pool by hand
    Then p2pool is stopped
    And the miners are held
    And the api reports miner_released as false

  @sim @mini-stack
  Scenario: A restart after the release keeps the miners running
    Given the stack boots with default settings
    And the miners have been released
    When the runtime restarts
    And 120 seconds pass
    Then the miners are released
    And p2pool is running
    And xmrig-proxy is running
    And no container was stopped after the release
    And the api reports miner_released as true

  @sim
  Scenario: A restart after the release never re-holds, even while Tari re-syncs
    Given the stack boots with default settings
    And Tari is required
    And the miners have been released
    When Tari becomes syncing
    And the runtime restarts
    And 300 seconds pass
    Then the miners are released
    And no container was stopped after the release
    And the badge "Miner held (sync)" is not shown

  @sim
  Scenario: A refused hold is retried on the next cycle
    Given the stack boots with default settings
    And the update interval is 30 seconds
    And monerod is syncing at 1000 of 3000
    And the docker engine refuses the next 2 calls
    When 90 seconds pass
    Then the miners are held
    And p2pool is stopped
    And xmrig-proxy is stopped

  @sim
  Scenario: A refused release is retried on the next cycle and still starts each miner once
    Given the stack boots with default settings
    And the update interval is 30 seconds
    And monerod is syncing at 2900 of 3000
    And Tari is synced
    When 60 seconds pass
    Then the miners are held
    Given the docker engine refuses the next 2 calls
    When monerod becomes synced
    And 120 seconds pass
    Then the miners are released
    And p2pool is running
    And xmrig-proxy is running
    And p2pool was started exactly once
    And xmrig-proxy was started exactly once

  # Found against a real monerod (runtime/tests/contract_real_monerod_runtime.rs): a node that has
  # just started and has no peer yet answers synchronized=false with target_height 0.
  @sim @contract
  Scenario: A monerod with no peer yet (target height 0) keeps the miners held
    Given the stack boots with default settings
    And monerod is syncing at 1 of 0
    And Tari is synced
    When 300 seconds pass
    Then the miners are held
    And p2pool is stopped
    And the api reports sync.monero.state as loading
    And the api reports sync.monero.percent as 0
    And the badge "Syncing..." is shown
