# Catalog section E — the XvB switching engine: when to donate hashrate to XvB, how much, and how
# the switch is made. Everything runs on the simulation; the real XvB endpoint runs on a box through
# the live matrix (`cargo xtask test-live --catalog`).
# Figures from the domain facts: tiers donor 1,000 / VIP 10,000 / whale 100,000 / mega 1,000,000 H/s;
# a 600 s cycle; reference = target + min(5 % of target, 5,000 H/s).
@section-E
Feature: XvB switching engine — donate enough to hold the tier, never more than P2Pool can spare
  As an operator donating to XvB,
  I want the engine to keep my 1-hour and 24-hour XvB averages just above my tier,
  while P2Pool keeps enough hashrate to keep finding shares.

  @sim
  Scenario Outline: Guard — <guard> sends the whole cycle to P2Pool
    Given the XvB engine with an otherwise sustainable VIP tier
    But <guard>
    When a cycle is decided
    Then the mode is P2POOL for the whole cycle
    And the decision names the "<reason>" guard

    Examples:
      | guard                                                        | reason       |
      | the engine is disabled                                       | disabled     |
      | I have no P2Pool share inside the PPLNS window               | no shares    |
      | XvB reports a fail_count of 3 for my donor id                | fail count   |
      | no tier is reachable with my stable hashrate                 | no tier      |

  @sim
  Scenario: Guards are checked in order and the first one that fires is reported
    Given the engine is disabled
    And I have no P2Pool share inside the PPLNS window
    When a cycle is decided
    Then the mode is P2POOL
    And the decision names the "disabled" guard

  @sim
  Scenario Outline: The PPLNS window on the <pool> side chain is <seconds> seconds
    Given p2pool runs the <pool> side chain with the default pplns_window of 2160 blocks
    And my last P2Pool share was found <age> seconds ago
    When a cycle is decided
    Then the no-shares guard <fires>

    Examples:
      | pool | seconds | age   | fires        |
      | main | 21600   | 21000 | does not fire |
      | mini | 21600   | 22000 | fires         |
      | nano | 64800   | 60000 | does not fire |

  @sim @issue-70
  Scenario: Closed loop ramps up while the 1-hour average is below the reference
    Given a VIP target with my XvB 1-hour average at 9,000 H/s and 20,000 H/s current hashrate
    When a cycle closes
    Then the donated fraction rises by 0.03 × (reference − projected 1-hour average) / current hashrate

  @sim @issue-70
  Scenario: Closed loop backs off while the 1-hour average is above the reference
    Given a VIP target with my XvB 1-hour average at 14,000 H/s and 20,000 H/s current hashrate
    When a cycle closes
    Then the donated fraction falls, never below 0

  @sim @issue-70
  Scenario: A falling 1-hour average is projected ahead, but never raised and never below 75 %
    Given my XvB 1-hour average has been falling steadily
    When a cycle closes
    Then the loop steers on the average projected 1,200 seconds ahead
    And the projection is at least 0.75 × the measured average and never above it

  @sim @issue-70
  Scenario Outline: Cold start seeds the loop from <seed>
    Given <history>
    When the first cycle is decided
    Then the starting fraction is <fraction>

    Examples:
      | seed                        | history                                        | fraction                              |
      | the last commanded fraction | the engine last commanded 0.42 before restart  | 0.42                                  |
      | the standby value           | no fraction was persisted but a standby exists | the standby value                     |
      | feed-forward                | nothing was persisted and no standby exists    | reference / current hashrate          |

  @sim @issue-70
  Scenario: The VIP reserve caps the fraction so P2Pool keeps finding shares (anti-overshoot)
    Given a side-chain difficulty and PPLNS window that need a reserve of 6,000 H/s for P2Pool
    And my current hashrate is 20,000 H/s
    When the loop asks for more than the cap
    Then the fraction is clamped to min(0.85, 1 − 6,000 / 20,000) = 0.70

  @sim @issue-70
  Scenario: A raffle round won in the last 90 minutes blocks any downward step
    Given I won an XvB raffle round 3,000 seconds ago
    And my 1-hour average is above the reference
    When a cycle closes
    Then the donated fraction does not fall

  @sim @issue-70
  Scenario Outline: Stale XvB stats (<age> seconds old) <action>
    Given the last fresh XvB stats read was <age> seconds ago
    And the engine last commanded a fraction of 0.40
    When a cycle closes
    Then the fraction <result>

    Examples:
      | age  | action                  | result                           |
      | 600  | steer as usual          | follows the closed loop          |
      | 1000 | hold the fraction       | stays at 0.40                    |
      | 2000 | halve it every cycle    | becomes 0.20                     |

  @sim @issue-70
  Scenario: Long-stale stats halve the fraction to zero, never donating blind
    Given the XvB stats have been stale for more than 1,800 seconds
    And the fraction is 0.006
    When a cycle closes
    Then the fraction snaps to 0

  @sim
  Scenario Outline: The cycle splits into mode <mode> for a fraction of <fraction>
    Given a 600-second cycle and a decided fraction of <fraction>
    When the cycle is planned
    Then the mode is <mode>
    And <plan>

    Examples:
      | fraction | mode   | plan                                                                   |
      | 0        | P2POOL | all 600 seconds go to P2Pool                                           |
      | 0.01     | P2POOL | a slice under 15 seconds is not sent to XvB                            |
      | 0.5      | SPLIT  | the XvB slice comes first, with about 5 seconds of switching accounted |
      | 0.96     | XVB    | a P2Pool remainder under 30 seconds sends the whole cycle to XvB       |

  @sim
  Scenario Outline: donation_level <level> with a stable hashrate of <hashrate> H/s targets <tier>
    Given donation_level is <level>
    And my 15-minute stable hashrate is <hashrate> H/s
    When the target tier is chosen
    Then the engine targets <tier>

    Examples:
      | level | hashrate  | tier                               |
      | auto  | 5,000     | donor                              |
      | auto  | 40,000    | VIP                                |
      | auto  | 400       | no tier                            |
      | whale | 40,000    | whale, honoured as asked, never downgraded |

  @sim
  Scenario: Smart sleep ends the XvB slice early when a guard fires mid-cycle
    Given the engine is inside the XvB slice of a SPLIT cycle
    When a re-read inside the cycle finds XvB's fail_count at 3
    Then the engine switches back to P2Pool before the slice ends
    And the closed loop does not advance for that re-read

  @sim
  Scenario: The switch rewrites xmrig-proxy's pools and a failed switch changes nothing
    Given xmrig-proxy's /1/config lists the P2Pool and XvB pools
    When the engine switches to XvB
    Then it PUTs the whole config back with XvB first and enabled and P2Pool disabled
    And xmrig-proxy answers 204
    When the next switch is refused
    Then the engine's recorded mode is unchanged and the switch is retried next time

  @live
  Scenario Outline: The real XvB endpoint is <condition>
    Given a real box with XvB enabled
    And the XvB stats endpoint is <condition>
    When the engine runs a cycle
    Then <outcome>

    Examples:
      | condition | outcome                                                       |
      | reachable | the engine reads fresh 1-hour and 24-hour averages            |
      | failing   | the engine holds the fraction and the dashboard shows it stale |
