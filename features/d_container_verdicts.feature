# Catalog section D — container health verdicts printed by `pithead status`.
# On the simulation the runtime judges the whole stack's containers (/api/state `services`) and
# `pithead status`'s own functions must agree with it; the fault-injection scenarios run on a real
# box through the live matrix (`cargo xtask test-live --catalog`).
@section-D
Feature: Container health verdicts — pithead status tells me what needs attention
  As an operator running `pithead status`,
  I want every expected service judged running, starting, unhealthy or missing, with exit 0 only
  when nothing needs attention, so that a script or a glance can trust the verdict.

  @sim @live
  Scenario: All expected services healthy exits 0
    Given every expected service is running and healthy
    When I run pithead status
    Then it prints a "✓ <name> running" line for each service
    And it prints "All expected services are up."
    And it exits 0

  @sim
  Scenario Outline: A service that is <state> is printed as "<line>" and <verdict>
    Given monerod is <state>
    When I run pithead status
    Then it prints "<line>"
    And monerod <verdict>

    Examples:
      | state               | line                                         | verdict                  |
      | running and healthy | ✓ monerod running                            | needs no attention       |
      | running, no check   | ✓ monerod running                            | needs no attention       |
      | running, starting   | … monerod starting (health check pending)    | needs no attention       |
      | running, unhealthy  | ⚠ monerod running but UNHEALTHY              | needs attention          |
      | restarting          | ✗ monerod restarting (possible crash loop — check logs) | needs attention |
      | exited              | ✗ monerod exited                             | needs attention          |
      | missing             | ✗ monerod missing                            | needs attention          |

  @sim @live
  Scenario Outline: A required node <fault> exits 1
    Given a healthy local-node box
    When monerod is <fault>
    And I run pithead status
    Then monerod is reported <verdict>
    And it prints "1 service(s) need attention"
    And it exits 1

    Examples:
      | fault                   | verdict |
      | stopped (docker stop)   | exited  |
      | removed (docker rm)     | missing |

  @live
  Scenario: Fault injection — stopping monerod exits 1 and stops xmrig-proxy, starting it again exits 0
    Given a real, synced, mining box
    When the live matrix stops monerod
    Then pithead status exits 1
    And xmrig-proxy is reported exited
    When the live matrix starts monerod again
    Then pithead status exits 0 once the workers are readmitted

  @live
  Scenario: A running but unhealthy monerod (SIGSTOP) exits 1
    Given a real, synced, mining box
    When the live matrix freezes monerod with SIGSTOP until its health check fails
    Then pithead status reports "⚠ monerod running but UNHEALTHY"
    And it exits 1
    When the live matrix resumes monerod with SIGCONT
    Then pithead status exits 0 again

  @sim @live
  Scenario Outline: A miner stopped on purpose under <reason> exits 0
    Given <situation>
    And <miner> is exited
    When I run pithead status
    Then it prints "⚠ <miner> exited — likely intentional: <why>"
    And <miner> is not counted as needing attention
    And it exits 0

    Examples:
      | reason     | situation                                | miner       | why                                                                          |
      | sync hold  | the sync hold is on                      | p2pool      | held until the required chains finish syncing                                |
      | sync hold  | the sync hold is on                      | xmrig-proxy | held until the required chains finish syncing                                |
      | failover   | monerod is down and workers are rejected | xmrig-proxy | a node is down, so workers were rejected to fail over to their backup pools |

  @sim
  Scenario: A missing miner is still a problem, even under the sync hold
    Given the sync hold is on
    And the xmrig-proxy container does not exist
    When I run pithead status
    Then it prints "✗ xmrig-proxy missing"
    And it exits 1

  @sim @live
  Scenario Outline: Remote mode does not expect <service> when its profile is off
    Given COMPOSE_PROFILES does not include <profile>
    And no <service> container exists
    When I run pithead status
    Then <service> is not listed as expected
    And it exits 0

    Examples:
      | service | profile    |
      | monerod | local_node |
      | tari    | local_tari |
