# Catalog section H — what only a real host can prove. Every scenario here runs on the live
# matrix against a real, synced box (`cargo xtask test-live --host user@box --catalog`): the
# dashboard's /api/state (workers and hashrate, HugePages, the disk level and badge) is compared
# with what the box's own daemons and host report (p2pool's local stats, /proc, df). A box
# without what a check needs (a real miner and p2pool, HugePages, AVX2) skips it as [missing].
@section-H
Feature: Host and infrastructure — the real box mines, serves and protects
  As an operator of a real box,
  I want proof that real merge-mining happens and the host is set up right,
  because no simulation can show a share landing or a TLS certificate being served.

  @live
  Scenario: A real merge-mining share lands and the dashboard shows real hashrate
    Given a real, synced box with a worker connected to xmrig-proxy
    When the worker hashes for a while
    Then p2pool records a share found
    And the dashboard shows a non-zero hashrate for the worker

  @live
  Scenario Outline: The real host provides <capability>
    Given a real, synced box
    When the live matrix checks <capability>
    Then <proof>

    Examples:
      | capability                | proof                                                             |
      | the Caddy TLS scheme      | the dashboard answers on the scheme dashboard.secure asks for     |
      | Tor onion provisioning    | the onion addresses exist and are preserved across apply          |
      | the prune DB size         | the chain database size matches the configured prune mode         |

  @live
  Scenario Outline: The real host's <capability> shows on the dashboard
    Given a real, synced box
    When the live matrix checks <capability>
    Then <proof>

    Examples:
      | capability                | proof                                                             |
      | HugePages and AVX2        | the dashboard reports HugePages and the CPU supports AVX2         |
      | real disk pressure        | the disk badge reflects the real data disk usage                  |
