# Catalog section F — the dashboard's one read model, /api/state, field by field.
#
# The sync block, the sync/held/rejected flags and the held / rejected / node-down / passive-Tari
# badges run on the simulation (@sim) with the shared step library; the rest of the read model
# (pruned/full, database size, disk and system levels, HugePages, workers, chart breaks, the
# history database) with the dashboard's steps (scenarios/src/steps/dashboard.rs). What needs
# another capability or a real box stays @pending.
@section-F
Feature: Dashboard /api/state — every field tells the operator the truth
  As an operator glancing at the dashboard,
  I want each field and badge of /api/state to reflect the box's real situation,
  so that I know at once whether it is syncing, held, rejecting workers or healthy.

  @sim
  Scenario Outline: monerod syncing at <height> of <target> reports state syncing at <percent>%
    Given the stack boots with default settings
    And monerod is syncing at <height> of <target>
    And Tari is synced
    When 30 seconds pass
    Then the api reports sync.monero.state as syncing
    And the api reports sync.monero.percent as <percent>
    And the api reports sync.monero.current as <height>
    And the api reports sync.monero.target as <target>
    And the api reports sync.monero.remaining as <remaining>
    And the api reports syncing as true

    Examples:
      | height | target | percent | remaining |
      | 1200   | 3000   | 40      | 1800      |
      | 2999   | 3000   | 99      | 1         |
      | 1      | 3000   | 0       | 2999      |

  @sim
  Scenario Outline: Tari syncing at <height> of <target> reports state syncing at <percent>%
    Given the stack boots with default settings
    And monerod is synced
    And Tari is syncing at <height> of <target>
    When 30 seconds pass
    Then the api reports sync.tari.state as syncing
    And the api reports sync.tari.percent as <percent>
    And the api reports sync.tari.current as <height>
    And the api reports sync.tari.target as <target>
    And the api reports sync.tari.remaining as <remaining>

    Examples:
      | height | target | percent | remaining |
      | 500    | 2000   | 25      | 1500      |
      | 1999   | 2000   | 99      | 1         |

  @sim
  Scenario: Both chains synced report state done and syncing false
    Given the stack boots with default settings
    And monerod is synced
    And Tari is synced
    When 30 seconds pass
    Then the api reports sync.monero.state as done
    And the api reports sync.tari.state as done
    And the api reports syncing as false
    And the badge "Syncing..." is not shown

  @sim
  Scenario: A monerod that has not answered yet reports state loading
    Given the stack boots with default settings
    And monerod was never reachable
    When 30 seconds pass
    Then the api reports sync.monero.state as loading
    And the api reports miner_released as false

  @sim
  Scenario Outline: The top-level syncing flag follows the gate (Tari <requirement>, monerod <monero>, Tari <tari>)
    Given the stack boots with default settings
    And Tari is <requirement>
    And monerod is <monero>
    And Tari is <tari>
    When 30 seconds pass
    Then the api reports syncing as <syncing>

    Examples:
      | requirement  | monero                    | tari                      | syncing |
      | required     | syncing at 100 of 3000    | synced                    | true    |
      | required     | synced                    | syncing at 100 of 2000    | true    |
      | not required | synced                    | syncing at 100 of 2000    | false   |
      | not required | syncing at 100 of 3000    | synced                    | true    |
      | required     | synced                    | synced                    | false   |

  @sim
  Scenario: miner_released and the held badge follow the gate
    Given the stack boots with default settings
    And monerod is syncing at 2900 of 3000
    And Tari is synced
    When 30 seconds pass
    Then the api reports miner_released as false
    And the badge "Miner held (sync)" is shown
    When monerod becomes synced
    And 60 seconds pass
    Then the api reports miner_released as true
    And the badge "Miner held (sync)" is not shown

  @sim
  Scenario: workers_rejected and the node-down badges follow a monerod outage
    Given the stack boots with default settings
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    When monerod goes down
    And 60 seconds pass
    Then the api reports workers_rejected as true
    And the badge "monerod DOWN" is shown
    And the badge "Workers rejected" is shown
    When monerod comes back
    And 60 seconds pass
    Then the api reports workers_rejected as false
    And the badge "monerod DOWN" is not shown
    And the badge "Workers rejected" is not shown

  @sim
  Scenario: A required Tari outage shows the Tari DOWN badge
    Given the stack boots with default settings
    And Tari is required
    And the update interval is 5 seconds
    And the node down window is 30 seconds
    And the miners have been released
    When Tari goes down
    And 60 seconds pass
    Then the badge "Tari DOWN" is shown
    And the badge "Workers rejected" is shown
    And the api reports workers_rejected as true

  @sim @issue-51
  Scenario Outline: The passive Tari badge shows Tari's own progress (<height> of <target>) when Tari is not required
    Given the stack boots with default settings
    And Tari is not required
    And monerod is synced
    And Tari is syncing at <height> of <target>
    When 60 seconds pass
    Then the badge "<badge>" is shown
    And the badge "Miner held (sync)" is not shown
    And the api reports syncing as false

    Examples:
      | height | target | badge            |
      | 400    | 1000   | Tari syncing 40% |
      | 1      | 1000   | Tari syncing 0%  |

  @sim
  Scenario: A required syncing Tari holds the miners instead of showing the passive badge
    Given the stack boots with default settings
    And Tari is required
    And monerod is synced
    And Tari is syncing at 400 of 1000
    When 60 seconds pass
    Then the badge "Tari syncing 40%" is not shown
    And the badge "Miner held (sync)" is shown

  @sim
  Scenario Outline: A released, healthy box shows no "<badge>" badge
    Given the stack boots with default settings
    And the miners have been released
    When 120 seconds pass
    Then the badge "<badge>" is not shown

    Examples:
      | badge             |
      | Syncing...        |
      | monerod DOWN      |
      | Tari DOWN         |
      | Workers rejected  |
      | Miner held (sync) |

  @sim @issue-32
  Scenario Outline: The Monero mode reads <mode> for a <node> node with prune <prune>
    Given a <node> Monero node with monero.prune set to <prune>
    When the dashboard refreshes
    Then /api/state reports monero.mode as "<mode>"
    And the prune badge reads "<badge>"

    Examples:
      | node   | prune | mode    | badge      |
      | local  | true  | Pruned  | XMR Pruned |
      | local  | false | Full    | XMR Full   |
      | remote | true  | Unknown | (none)     |

  @sim
  Scenario Outline: The database size reads "<shown>" when monerod reports <bytes> bytes
    Given a local monerod reporting a database size of <bytes> bytes
    When the dashboard refreshes
    Then /api/state reports monero.db_size as "<shown>"

    Examples:
      | bytes       | shown   |
      | 91268055040 | 85.0 GB |
      | 0           | —       |

  @sim
  Scenario Outline: The disk badge warns at 85% and turns bad at 95% (<percent>% full)
    Given the data disk is <percent>% full
    When the dashboard refreshes
    Then the badge "Disk <percent>% full" is <shown> with variant <variant>

    Examples:
      | percent | shown     | variant |
      | 84      | not shown | none    |
      | 85      | shown     | warn    |
      | 95      | shown     | bad     |

  @sim
  Scenario: HugePages off shows a warning badge
    Given the host has HugePages disabled
    When the dashboard refreshes
    Then the badge "HugePages off" is shown as a warning
    And /api/state reports system.hugepages.variant as "warn"

  @sim
  Scenario: Hashrate too low for the XvB tier shows the low-hashrate badge
    Given XvB is enabled with a fixed tier of VIP
    And the stable hashrate is below 10,000 H/s
    When the dashboard refreshes
    Then the badge "Hashrate low for tier" is shown as a warning

  @sim
  Scenario Outline: System level <resource> reads <level> at <percent>%
    Given the host's <resource> usage is <percent>%
    When the dashboard refreshes
    Then /api/state reports system.<resource>.level as "<level>"

    Examples:
      | resource | percent | level |
      | cpu      | 80      | ok    |
      | cpu      | 81      | high  |
      | mem      | 95      | high  |
      | disk     | 40      | ok    |

  @sim
  Scenario: Worker rows report pool and online status, and proxy_workers counts the online ones
    Given xmrig-proxy lists two workers, one hashing on p2pool and one gone quiet
    When the dashboard refreshes
    Then /api/state lists both workers with their 15-minute and 1-hour hashrates
    And the hashing worker is online on pool "p2pool" and the quiet one is offline
    And proxy_workers reports 1

  @sim
  Scenario: The hashrate chart breaks its lines across an outage
    Given hashrate history recorded every 30 seconds with a 10-minute gap
    When the dashboard draws the chart
    Then both the p2pool and the xvb series carry a null point at the middle of the gap
    And no break is drawn across the regular 30-second gaps

  @sim
  Scenario: A corrupt history database is moved aside and recreated
    Given the history database file is corrupt
    When the runtime starts
    Then the corrupt file is moved aside and a fresh database is created
    And /api/state reports db_healthy as true

  # Alerts (#18): the counters per sink, and no secret anywhere an operator or a log reader sees.
  @sim
  Scenario: /api/state counts what each alert sink was sent, retried and dropped
    Given the stack boots with default settings
    And alerts go to Telegram, a webhook and ntfy
    And the update interval is 10 seconds
    And the node down window is 30 seconds
    And the miners have been released
    And the webhook sink is down
    When monerod goes down
    And 120 seconds pass
    Then exactly one "node_down" alert reached ntfy
    And the api's sent count for ntfy matches what reached it
    And the api counts 0 retried alerts for ntfy
    And the api counts at least 1 retried alert for the webhook
    When the webhook sink comes back
    Then exactly one "node_down" alert reached the webhook
    And the api's sent count for the webhook matches what reached it
    And the api's sent count for Telegram matches what reached it
    And the api counts 0 dropped alerts for the webhook

  @sim
  Scenario: With every sink configured, no token, chat id or webhook secret appears in a log line, an error or /api/state
    Given the stack boots with default settings
    And alerts go to Telegram, a webhook and ntfy
    And the update interval is 10 seconds
    And the node down window is 30 seconds
    And the recovery window is 30 seconds
    And the miners have been released
    And the Telegram sink is down
    When monerod goes down
    And 120 seconds pass
    And the Telegram sink comes back
    And monerod comes back
    And 120 seconds pass
    Then exactly one "node_down" alert reached every sink
    And exactly one "node_recovered" alert reached every sink
    And no sink secret appears in any log line, error or /api/state

  @live
  Scenario: The dashboard reads the correct live state on a real stack
    Given a real, synced, mining box
    When the live matrix reads /api/state
    Then the sync block, the Monero mode, the workers and the badges match what the daemons report
