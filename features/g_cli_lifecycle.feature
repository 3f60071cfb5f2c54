# Catalog section G — the `pithead` CLI: config validation, secrets, apply guards and the full
# lifecycle. On the simulation the CLI's library runs against a temporary stack directory with a
# recording compose; the live matrix runs the lifecycle on a box with
# `cargo xtask test-live --lifecycle` (its catalog steps on the live tier are not built yet).
@section-G
Feature: CLI lifecycle — pithead configures, applies and operates the stack safely
  As an operator driving the box with `pithead`,
  I want bad config refused with a clear message, secrets kept across every apply, and
  destructive changes confirmed, so that routine changes never cost me a chain or a password.

  @sim
  Scenario Outline: Config validation refuses <problem>
    Given a config.json with <problem>
    When I run pithead apply
    Then it refuses with "<message>"
    And nothing is written

    Examples:
      | problem                              | message                                                               |
      | monero.mode "cloud"                  | monero.mode must be "local" or "remote" (got "cloud").               |
      | p2pool.pool "huge"                   | p2pool.pool must be "main", "mini", or "nano" (got "huge").          |
      | remote mode without a remote host    | monero.mode is "remote" but monero.remote.host is not set in config.json. |
      | no wallet addresses                  | Missing required wallet addresses in config.json.                     |

  @sim
  Scenario: A subaddress is refused because p2pool cannot pay subaddresses
    Given a config.json whose Monero wallet address starts with 8
    When I run pithead apply
    Then it refuses with a message saying p2pool cannot pay subaddresses

  @sim
  Scenario: A control character in any config string is refused
    Given a config.json with a newline inside p2pool.pool
    When I run pithead apply
    Then it refuses naming the offending key

  @sim
  Scenario: Secrets are generated once and preserved across every apply
    Given a first pithead setup has generated PROXY_AUTH_TOKEN, the onion addresses and the node RPC password
    When I change p2pool.pool and run pithead apply -y twice
    Then PROXY_AUTH_TOKEN, the onion addresses, the node RPC password and the wallet-RPC password are unchanged
    And the node RPC password is 32 alphanumerics
    And .env is written with mode 600

  @sim
  Scenario: Applying an unchanged config is a no-op
    Given an applied config.json
    When I run pithead apply again without changes
    Then it prints "No configuration changes detected. Nothing to apply."
    And no container is recreated

  @sim
  Scenario Outline: A <class> change <behaviour>
    Given an applied config.json
    When I change <key> and run pithead apply
    Then <behaviour>

    Examples:
      | class       | key                          | behaviour                                                                        |
      | INFO        | dashboard.secure             | it is applied without a question                                                 |
      | CONFIRM     | p2pool.pool                  | it asks "Proceed with applying these changes? (y/N):" unless -y is given         |
      | DESTRUCTIVE | monero.prune from true to false | it warns that the chain re-syncs from scratch before asking                   |

  @sim
  Scenario: A failed recreate leaves a marker so the next apply retries
    Given an apply whose container recreate fails
    When I run pithead apply -y again
    Then the apply-incomplete marker makes it retry the recreate
    And the marker is removed once the recreate succeeds

  @sim @issue-35
  Scenario Outline: Changing the <what> re-arms <part> of the sync gate
    Given the miners have been released
    When I point <what> at another node and run pithead apply -y
    Then the runtime re-arms <part> of the sync gate
    And the miners are held again until that node is synced

    Examples:
      | what                 | part             |
      | Monero node endpoint | the whole gate   |
      | Tari node address    | only the Tari part |

  @live
  Scenario: setup → up → status → apply → restart → down on a real box, idempotent and keeping secrets
    Given a fresh real box
    When the live matrix runs pithead setup, up, status, apply -y, restart and down in turn
    Then each step succeeds and pithead status exits 0 while the stack is up
    And repeating apply -y is a no-op
    And the secret fingerprints are the same before and after

  @live
  Scenario: upgrade pulls or rebuilds the images in the release staging smoke
    Given a real box on the previous release
    When I run pithead upgrade
    Then the images are pulled or rebuilt and the stack comes back healthy

  @live @sim
  Scenario: backup and restore round-trip reverts config and keeps secrets
    Given a real box with a known config
    When the live matrix runs pithead backup -y --no-encrypt
    Then the archive lists config.json and .env
    When the pool is changed and the archive is restored
    Then config.json is byte-identical to the backed-up one
    And the secret fingerprints are equal

  @live @sim
  Scenario: The safety backup rolls a failed destructive run back
    Given the live matrix runs with --safety-backup
    When a destructive scenario fails
    Then the box is taken down, restored and brought up again
    And config.json is byte-identical and the secret fingerprints are equal

  @sim
  Scenario Outline: pithead <command> works
    Given an applied box
    When I run pithead <command>
    Then <outcome>

    Examples:
      | command         | outcome                                                     |
      | reset-dashboard | the dashboard's history is reset, the latch and the config are kept |
      | doctor          | it reports each check with a verdict and never prints a secret |
      | version         | it prints the stack version                                 |
