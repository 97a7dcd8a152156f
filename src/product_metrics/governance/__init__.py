"""Metric governance: a registry the build enforces, BI can read, and people can look at.

Commands
--------
- `product-metrics governance check [--manifest-dir DIR] [--state DIR] [--today YYYY-MM-DD] [--decisions FILE]
  [--strict]` reads dbt's manifest.json and semantic_manifest.json (a fresh `dbt parse` into its own
  target path, or --manifest-dir) and exits 1 with a table of problems (metric, field, problem, what
  to do, rule) when a rule fails; exit 0 prints "N metrics, all rules pass". Exit 2: no manifest.
  Findings only the calendar brings (rules.CALENDAR_RULES: review_overdue) are warnings, one line
  per metric (`review overdue: <metric> (owner: <name>) was due <date>`), here and in build,
  refresh, catalog, alerts and the report; with --strict they fail (exit 1).
- `product-metrics catalog [--out DIR] [--database F | --url URL] [--manifest-dir DIR]` replaces
  table `metrics.metric_catalog` (one row per metric: every field, lists and mappings as JSON text,
  the tables it lives in, its latest value) and writes DIR/index.html (default
  target/metric_catalog/): one self-contained page with the metric tree (Graphviz SVG) and a card
  per metric; column is_review_overdue as of --today (default: today).
- `product-metrics alerts [--fail-on alert|warn|never] [--today YYYY-MM-DD]` compares each live
  metric's latest complete value with its thresholds and appends breaches to
  `audit.metric_alerts`; `--today` is an as-of date (only periods before it count; reviews due
  before it are listed as overdue, never in the exit code).

The metadata contract (on every MetricFlow metric)
---------------------------------------------------
```yaml
config:
  meta:
    governance:
      owner: {name: Growth Analytics, email: growth-analytics@example.com}
      description: Share of monthly active users active on a given day.
      formula: dau / mau
      unit: ratio            # ratio | users | usd | count | score | days | months | percent
      grain: day             # day | week | month | cohort_week | cohort_month
      role: kpi              # north_star | kpi | guardrail | diagnostic
      direction: higher_is_better   # or lower_is_better
      indicator: leading     # or lagging
      guardrails: [nps]      # other metrics' names; [] allowed for guardrail and diagnostic roles
      review_cadence: quarterly     # weekly | monthly | quarterly | yearly | <N>d
      last_reviewed: 2026-10-01
      status: certified      # draft | certified | deprecated
      version: 1             # integer ≥ 1, bumped on every definition change
      thresholds: {warn: 0.2, alert: 0.15}   # {} = no alerting; either key alone is allowed
      lives_in:              # optional: the metric table holding its values
        table: fct_stickiness_daily
        column: dau_mau_ratio
        time_column: activity_date
        complete_column: is_full_window   # optional: only rows where it is true count
        where: "cohort_granularity = 'week' and period_number = 4"   # optional, see below
      targets:               # optional: dated targets (needs lives_in), see below
        - {value: 0.3, by: 2027-03-31, set_on: 2026-10-05}   # set_on optional (the baseline)
```
Additions to the contract, all optional or stricter:
- `lives_in.where`: an SQL condition that picks one series from a table with several rows per
  period (retention by granularity and period, CAC by channel). Without it, a table with more than
  one row in the latest period has no single "latest value": the catalog leaves it empty and the
  alerts report the metric as unreadable.
- `lives_in` needs `table`, `column` and `time_column`; the table must be a dbt model that lists
  the metric in its governance.metrics, and the columns must be among its documented columns.
- Thresholds need lives_in (nothing to compare them with otherwise), and the alert threshold is the
  worse one: below warn for higher_is_better, above warn for lower_is_better.
- Keys other than the fields above are errors (a typo like `gaurdrails` would otherwise pass).
- `last_reviewed` may not be after today.
- `targets`: a list of {value (number), by (date), set_on (optional date before by)}. Var
  product_metrics__metric_targets ({metric: [targets]}, as dbt resolves vars) replaces a metric's meta
  targets (a host's targets on the package's metrics); rule `targets` checks it. Each target is judged
  as of the metric's latest complete period (product_metrics.governance.targets): progress, pace,
  projection and on_track / off_track / met / missed, in the catalog, and in `alerts` (off-track and
  missed targets are rows of kind 'target' in audit.metric_alerts).

Metric tables (models under models/marts/) carry `config: meta: governance: {metrics: [names]}`.

Rules (ids as `governance check` prints them; see product_metrics.governance.rules.RULES)
-----------------------------------------------------------------------------------------
missing_field, invalid_field; north_star_count (exactly one *certified* north star);
missing_guardrail (north star and KPI, unless deprecated); unknown_guardrail; deprecated_guardrail;
review_overdue (last_reviewed + cadence < today; monthly/quarterly/yearly add calendar months;
deprecated metrics are exempt); deprecated_dependency (a certified metric whose input metrics,
transitively, include a deprecated one; an exposure that reads a deprecated metric, or a table
listing one); unknown_table_metric; lives_in; targets; and, with --state, unversioned_change and
missing_decision.

dbt model governance (the project's own models; a metric table is a model under a `marts/` folder):
model_group (every model has a group; every group's owner has a name and an email), model_access
(metric tables public, no other model public), model_contract (metric tables enforce their contract,
every column has a data_type), model_version (metric tables are versioned: latest_version, versions).
A versioned model appears once per version (`model.<project>.fct_x.v1`); lives_in, exposures and the
definition fingerprints read the version `ref()` resolves (the latest).

Versions and the DECISIONS.md convention
----------------------------------------
With `--state DIR` (the previous manifest.json + semantic_manifest.json, e.g. from the main
branch), every metric that was governed before and is not deprecated now is compared part by part
(product_metrics.governance.definitions: its MetricFlow definition and its inputs', its formula,
unit and grain, its measures, the SQL of every model upstream of it including its lives_in table,
and the project macros those models call; comments and whitespace do not count):
- definition changed and version not higher → unversioned_change;
- version higher (whatever changed) and no DECISIONS.md entry → missing_decision;
- version lower → unversioned_change.

A DECISIONS.md entry for version N of metric M is any line of the project's DECISIONS.md that
contains M as a whole word (optionally in backticks), then whitespace, then `vN`
(case-insensitive), e.g. `### 2026-12-01 — nps v2: only the latest response per respondent counts`
or `- \\`nps\\` v2 — …`. The entry says what changed, why, and the alternatives, like every entry.
"""
