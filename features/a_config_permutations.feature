# Catalog section A — the deploy-time axes of config.json. Each value changes a real runtime path,
# so each is proven on a real box by the live matrix: push config.json, `pithead apply -y`, wait for
# readiness (status ok, monero synced, miner running, pool ready), run the assertion battery, and
# check that a second `apply -y` is a no-op.
# They run on a box with `cargo xtask test-live --host user@box --catalog` (the loopback proof runs
# them in `cargo xtask test`); a step a box cannot perform is skipped with its class.
@section-A
Feature: Configuration permutations — every config axis value takes effect on a real box
  As an operator editing config.json,
  I want each setting I choose to change exactly the runtime path it names,
  so that the box I deploy is the box I configured.

  @live
  Scenario Outline: monero.mode <mode> <effect>
    Given the baseline config with monero.mode set to "<mode>"
    When the live matrix applies it with pithead apply -y
    Then the stack becomes ready
    And <effect>
    And a second apply reports no configuration changes

    Examples:
      | mode   | effect                                                                                  |
      | local  | monerod runs under the local_node profile and the dashboard reads it as the local node |
      | remote | no monerod container is expected and the runtime talks to monero.remote.host           |

  @live @sim @issue-32
  Scenario Outline: monero.prune <prune> gives a <mode> node and the dashboard says so
    Given the baseline config with monero.prune set to <prune>
    When the live matrix applies it with pithead apply -y
    Then monerod runs with pruning <pruning>
    And the chain database size is in the <mode> range
    And the dashboard reports monero.mode as "<mode>" with the badge "XMR <mode>"

    Examples:
      | prune | pruning  | mode   |
      | true  | enabled  | Pruned |
      | false | disabled | Full   |

  @live
  Scenario Outline: monero.rpc_lan_access <value> binds the Monero RPC to <bind>
    Given the baseline config with monero.rpc_lan_access set to <value>
    When the live matrix applies it with pithead apply -y
    Then .env sets MONERO_RPC_BIND to <bind>
    And the Monero RPC port is <reachability> from the LAN

    Examples:
      | value | bind      | reachability  |
      | true  | 0.0.0.0   | reachable     |
      | false | 127.0.0.1 | not reachable |

  @live
  Scenario Outline: dashboard.secure <value> serves the dashboard over <scheme>
    Given the baseline config with dashboard.secure set to <value>
    When the live matrix applies it with pithead apply -y
    Then the rendered Caddyfile serves <scheme>
    And the dashboard answers over <scheme>

    Examples:
      | value | scheme                    |
      | true  | https with tls internal   |
      | false | plain http                |

  @live
  Scenario Outline: xvb.enabled <value> turns the XvB engine <state>
    Given the baseline config with xvb.enabled set to <value>
    When the live matrix applies it with pithead apply -y
    Then .env sets XVB_ENABLED to <value>
    And /api/state shows the XvB engine <state>

    Examples:
      | value | state |
      | true  | on    |
      | false | off   |

  @live @issue-51
  Scenario Outline: dashboard.tari_required <value> makes Tari <role> for the release
    Given the baseline config with dashboard.tari_required set to <value>
    When the live matrix applies it with pithead apply -y
    Then .env sets TARI_REQUIRED to <value>
    And a syncing Tari <effect>

    Examples:
      | value | role        | effect                                            |
      | true  | blocking    | keeps the miners held                             |
      | false | passive     | shows the passive "Tari syncing N%" badge instead |

  @live
  Scenario Outline: p2pool.pool <pool> runs the <pool> sidechain
    Given the baseline config with p2pool.pool set to "<pool>"
    When the live matrix applies it with pithead apply -y
    Then .env sets P2POOL_FLAGS to "<flags>"
    And p2pool reports the <pool> sidechain once the pool is ready

    Examples:
      | pool | flags  |
      | main |        |
      | mini | --mini |
      | nano | --nano |

  @live
  Scenario Outline: tari.mode <mode> <effect>
    Given the baseline config with tari.mode set to "<mode>"
    When the live matrix applies it with pithead apply -y
    Then <effect>

    Examples:
      | mode   | effect                                                              |
      | local  | the tari container runs under the local_tari profile                |
      | remote | no tari container is expected and the runtime dials the remote node |
      | off    | no tari container is expected and Tari never gates the release      |
