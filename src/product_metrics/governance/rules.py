"""The governance rules `product-metrics governance check` enforces. Each returns `Violation`s that
say which metric (or table, model, group, exposure), which field, what is wrong and what to do about it.

Two kinds: metric governance (the `meta.governance` of every metric) and dbt model governance (every
model has a group with an owner; the metric tables, models under models/marts/, are public,
contracted and versioned; nothing else is public). Both apply to the product_metrics package's
metrics and models, and to a user's own metrics and models that carry governance meta; never to the
rest of a user's project (Registry.in_scope)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from product_metrics.governance.contract import ROLES_NEEDING_GUARDRAILS, TARGETS_VAR, parse_targets
from product_metrics.governance.definitions import (
    Decisions,
    changed_parts,
    definition_parts,
    upstream_metrics,
)
from product_metrics.governance.registry import Metric, Model, Registry

# Rule ids, in the order a report lists them, with what each enforces.
RULES: dict[str, str] = {
    "missing_field": "every metric carries every governance field",
    "invalid_field": "every governance field has an allowed value",
    "north_star_count": "exactly one certified north star",
    "missing_guardrail": "every north star and KPI names at least one guardrail",
    "unknown_guardrail": "guardrails name metrics that exist",
    "deprecated_guardrail": "guardrails of a live metric are not deprecated",
    "review_overdue": "last_reviewed + review_cadence is not before today",
    "deprecated_dependency": "no certified metric or exposure depends on a deprecated metric",
    "unknown_table_metric": "metric tables list only metrics that exist",
    "lives_in": "lives_in names a model and columns that exist, and that table lists the metric",
    "decomposition": "a decomposition names metrics that exist, with lives_in, as the decomposed metric has",
    "targets": "var product_metrics__metric_targets sets valid targets on known metrics with lives_in",
    "model_group": "every model belongs to a group whose owner has a name and an email",
    "model_access": "metric tables (models/marts/) are public, and no other model is",
    "model_contract": "metric tables enforce their contract, with a data_type on every column",
    "model_version": "metric tables are versioned models (latest_version and versions)",
    "unversioned_change": "a changed definition has a higher version",
    "missing_decision": "a new version has its DECISIONS.md entry",
}

# Rules that the passing of time alone can break, with no change to the project. They are warnings
# everywhere (build, refresh, `governance check`, catalog, alerts, report), so that no shipped file
# fails a build when the calendar moves; `governance check --strict` fails on them.
CALENDAR_RULES = frozenset({"review_overdue"})


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str  # a metric name, `table <model>`, `model <model>`, `group <name>`, `exposure <name>` or `project`
    field: str
    problem: str
    fix: str
    summary: str = ""  # one line naming the subject, for a finding shown as a warning

    @property
    def line(self) -> str:
        return self.summary or f"{self.rule}: {self.subject} ({self.field}): {self.problem}"


@dataclass
class CheckResult:
    metrics: int
    violations: list[Violation] = field(default_factory=list)
    tables: int = 0
    exposures: int = 0
    models: int = 0
    compared_with: str | None = None

    @property
    def ok(self) -> bool:
        return not self.violations


def _status(metric: Metric | None) -> str | None:
    return metric.governance.status if metric and metric.governance else None


def field_rules(registry: Registry, today: dt.date) -> list[Violation]:
    violations = []
    for metric in sorted(registry.scoped_metrics(), key=lambda m: m.name):
        governance = metric.governance
        if governance is None:
            violations.append(Violation(
                "missing_field", metric.name, "governance", "the metric has no governance meta",
                f"add config: meta: governance: {{owner, description, formula, …}} to the metric in {metric.path}"))
            continue
        for problem in governance.problems:
            violations.append(Violation("missing_field" if problem.missing else "invalid_field", metric.name,
                                        problem.field, problem.problem, problem.fix))
        if governance.last_reviewed and governance.last_reviewed > today:
            violations.append(Violation(
                "invalid_field", metric.name, "last_reviewed",
                f"last_reviewed {governance.last_reviewed} is after today ({today})",
                "set last_reviewed to the date the definition was last reviewed"))
    return violations


def north_star_rules(registry: Registry) -> list[Violation]:
    stars = sorted(m.name for m in registry.governed()
                   if m.governance.role == "north_star" and m.governance.status == "certified")
    if not stars:
        return [Violation("north_star_count", "project", "role", "no metric is a certified north star",
                          "certify exactly one metric with role: north_star and status: certified")]
    if len(stars) > 1:
        return [Violation("north_star_count", "project", "role",
                          f"{len(stars)} certified north stars: {', '.join(stars)}",
                          "keep one certified north star; make the others draft, deprecated or kpi")]
    return []


def guardrail_rules(registry: Registry) -> list[Violation]:
    violations = []
    for metric in sorted(registry.governed(), key=lambda m: m.name):
        governance = metric.governance
        if governance.guardrails is None or governance.status == "deprecated":
            continue
        if not governance.guardrails and governance.role in ROLES_NEEDING_GUARDRAILS:
            violations.append(Violation(
                "missing_guardrail", metric.name, "guardrails",
                f"a {governance.role.replace('_', ' ')} without a guardrail can be optimised at any cost",
                "name at least one counter-metric in guardrails (e.g. nps, a churn or quality metric)"))
        for name in governance.guardrails:
            guardrail = registry.metrics.get(name)
            if guardrail is None:
                violations.append(Violation(
                    "unknown_guardrail", metric.name, "guardrails", f"guardrail {name!r} is not a metric",
                    "name an existing metric (`dbt ls --resource-type metric`) or remove it"))
            elif _status(guardrail) == "deprecated":
                violations.append(Violation(
                    "deprecated_guardrail", metric.name, "guardrails", f"guardrail {name!r} is deprecated",
                    f"replace {name} with the metric that superseded it"))
    return violations


def is_review_overdue(due: dt.date | None, status: str | None, today: dt.date) -> bool:
    """The review_overdue rule on one metric: its review was due before today (deprecated metrics
    need no review). The catalog and the report use it on the catalog's columns."""
    return due is not None and due < today and status != "deprecated"


def overdue_line(metric: str, owner: str | None, due: dt.date) -> str:
    """How an overdue review is shown as a warning, one line per metric."""
    return f"review overdue: {metric} (owner: {owner or 'none'}) was due {due}"


def review_rules(registry: Registry, today: dt.date) -> list[Violation]:
    violations = []
    for metric in sorted(registry.governed(), key=lambda m: m.name):
        governance = metric.governance
        due = governance.next_review_due()
        if is_review_overdue(due, governance.status, today):
            owner = governance.owner.name if governance.owner else None
            violations.append(Violation(
                "review_overdue", metric.name, "last_reviewed",
                f"review was due {due} (last reviewed {governance.last_reviewed}, {governance.review_cadence})",
                f"review the definition with {owner or 'the owner'} and set last_reviewed to the review date",
                summary=overdue_line(metric.name, owner, due)))
    return violations


def deprecation_rules(registry: Registry) -> list[Violation]:
    violations = []
    for metric in sorted(registry.governed(), key=lambda m: m.name):
        if metric.governance.status != "certified":
            continue
        for name, path in sorted(upstream_metrics(registry, metric.name).items()):
            if _status(registry.metrics.get(name)) == "deprecated":
                violations.append(Violation(
                    "deprecated_dependency", metric.name, "status",
                    f"certified metric depends on deprecated {name} ({' → '.join(path)})",
                    f"rebuild {metric.name} on the metric that replaced {name}, or un-certify it"))
    for exposure in sorted(registry.exposures.values(), key=lambda e: e.name):
        for unique_id in exposure.depends_on:
            metric = registry.metric_by_id(unique_id)
            if metric is not None and _status(metric) == "deprecated":
                violations.append(Violation(
                    "deprecated_dependency", f"exposure {exposure.name}", "depends_on",
                    f"reads deprecated metric {metric.name}",
                    f"point the {exposure.type or 'exposure'} at the metric that replaced {metric.name}"))
            model = registry.models.get(unique_id)
            for name in (model.listed_metrics if model else ()):
                if _status(registry.metrics.get(name)) == "deprecated":
                    violations.append(Violation(
                        "deprecated_dependency", f"exposure {exposure.name}", "depends_on",
                        f"reads table {model.name}, which holds deprecated metric {name}",
                        f"move the {exposure.type or 'exposure'} off {name} (and drop {name} from "
                        f"{model.name}'s governance.metrics once nothing reads it)"))
    return violations


def table_rules(registry: Registry) -> list[Violation]:
    violations = []
    for model in sorted(registry.models.values(), key=lambda m: m.name):
        governance = model.governance
        if governance is None:
            continue
        subject = f"table {model.name}"
        if not isinstance(governance, Mapping) or not isinstance(governance.get("metrics"), list) \
                or not all(isinstance(name, str) for name in governance["metrics"]):
            violations.append(Violation(
                "invalid_field", subject, "governance.metrics",
                f"governance is {governance!r}, not {{metrics: [metric names]}}",
                "write config: meta: governance: {metrics: [<metric name>, ...]} on the model"))
            continue
        extra = sorted(set(governance) - {"metrics"})
        if extra:
            violations.append(Violation(
                "invalid_field", subject, "governance", f"unknown keys {extra} in a table's governance",
                "a table lists only its metrics; the fields belong on the metric"))
        for name in governance["metrics"]:
            if name not in registry.metrics:
                violations.append(Violation(
                    "unknown_table_metric", subject, "governance.metrics", f"lists {name!r}, which is not a metric",
                    "fix the name, or remove it (`dbt ls --resource-type metric` lists the metrics)"))
    return violations


def _check_columns(metric: Metric, table: Model) -> list[Violation]:
    lives_in = metric.governance.lives_in
    if not table.columns:  # undocumented columns: nothing to compare with
        return []
    wanted = {"column": lives_in.column, "time_column": lives_in.time_column,
              "complete_column": lives_in.complete_column}
    return [Violation("lives_in", metric.name, f"lives_in.{key}", f"{table.name} has no column {column!r}",
                      f"name a column of {table.name} ({', '.join(table.columns)})")
            for key, column in wanted.items() if column and column not in table.columns]


def lives_in_rules(registry: Registry) -> list[Violation]:
    violations = []
    for metric in sorted(registry.governed(), key=lambda m: m.name):
        lives_in = metric.governance.lives_in
        if lives_in is None:
            continue
        table = registry.model_named(lives_in.table)
        if table is None:
            violations.append(Violation(
                "lives_in", metric.name, "lives_in.table", f"{lives_in.table!r} is not a dbt model",
                "name the metric table (a model under models/marts/) that holds the metric's values"))
            continue
        violations += _check_columns(metric, table)
        if metric.name not in table.listed_metrics:
            violations.append(Violation(
                "lives_in", metric.name, "lives_in.table", f"{table.name} does not list {metric.name}",
                f"add {metric.name} to config: meta: governance: metrics: of {table.name}"))
    return violations


def decomposition_rules(registry: Registry) -> list[Violation]:
    """The tree attribution reads every value through lives_in: the metric and its inputs need it."""
    violations = []
    for metric in sorted(registry.governed(), key=lambda m: m.name):
        decomposition = metric.governance.decomposition
        if decomposition is None:
            continue
        if metric.governance.lives_in is None:
            violations.append(Violation("decomposition", metric.name, "decomposition",
                                        "a decomposed metric has no lives_in: its change cannot be read",
                                        "add lives_in (the table and column holding the metric's values)"))
        for name in decomposition.metrics:
            child = registry.metrics.get(name)
            if child is None:
                violations.append(Violation("decomposition", metric.name, "decomposition",
                                            f"{name!r} is not a metric", "name an existing metric or remove it"))
            elif child.governance is None or child.governance.lives_in is None:
                violations.append(Violation("decomposition", metric.name, "decomposition",
                                            f"{name} has no lives_in: its values cannot be read",
                                            f"add lives_in to {name}, or leave it out of the decomposition"))
    return violations


def target_rules(registry: Registry, targets_var: object = None) -> list[Violation]:
    """Var product_metrics__metric_targets (as dbt resolves it; None: unset): a mapping of known metric
    names to lists of targets, each metric with lives_in. Meta `targets` are checked with the other
    fields (invalid_field)."""
    if targets_var is None:
        return []
    example = "{pm_north_star_users: [{value: 12000, by: '2027-03-31', set_on: '2026-10-05'}]}"
    if not isinstance(targets_var, Mapping):
        return [Violation("targets", f"var {TARGETS_VAR}", TARGETS_VAR,
                          f"{TARGETS_VAR} is {targets_var!r}, not a mapping of metric names to targets",
                          f"set it to e.g. {example}, or {{}}")]
    violations = []
    for name, value in sorted(targets_var.items(), key=lambda item: str(item[0])):
        metric = registry.metrics.get(str(name))
        if metric is None:
            prefixed = f"pm_{name}"
            hint = (f"did you mean {prefixed}?" if prefixed in registry.metrics
                    else "name a metric (`dbt ls --resource-type metric` lists them)")
            violations.append(Violation("targets", f"var {TARGETS_VAR}", f"{TARGETS_VAR}.{name}",
                                        f"{name!r} is not a metric", hint))
            continue
        _, problem = parse_targets(value)
        if problem:
            violations.append(Violation("targets", metric.name, f"{TARGETS_VAR}.{name}", problem,
                                        "write targets as [{value: <number>, by: YYYY-MM-DD, set_on: YYYY-MM-DD}] "
                                        "(set_on optional)"))
        elif value and (metric.governance is None or metric.governance.lives_in is None):
            violations.append(Violation("targets", metric.name, f"{TARGETS_VAR}.{name}",
                                        f"{metric.name} has no lives_in: no value to measure progress with",
                                        f"add lives_in to {metric.name}'s governance, or drop its targets"))
    return violations


GROUPS_FILE = "models/_groups.yml"


def _models_file(model: Model) -> str:
    """Where a model's properties live: the `_<folder>__models.yml` next to its SQL (house style)."""
    if not model.path or "/" not in model.path:
        return "its _<folder>__models.yml"
    folder = model.path.rsplit("/", 1)[0]
    return f"{folder}/_{folder.rsplit('/', 1)[-1]}__models.yml"


def scoped_models(registry: Registry) -> list[Model]:
    """The models model governance applies to: the governed package's (Registry.governed_package)
    and other models that carry governance meta (a user's metric table). A user's other models are
    theirs to govern."""
    return [m for m in registry.models.values() if m.resource_type == "model" and registry.in_scope(m)]


def model_governance_rules(registry: Registry) -> list[Violation]:
    """dbt model governance of the governed package's models and of the metric tables that carry
    governance meta (other models, of the user's project or of other packages, are theirs to govern)."""
    violations = []
    models = scoped_models(registry)
    used_groups = {m.group for m in models}
    groups = [g for g in registry.groups.values() if g.package == registry.governed_package or g.name in used_groups]
    for group in sorted(groups, key=lambda g: g.name):
        if not (group.owner_name and group.owner_email):
            violations.append(Violation(
                "model_group", f"group {group.name}", "owner",
                f"the owner has {'no name' if not group.owner_name else 'no email'}: nobody to ask about its models",
                f"give the group owner: {{name: <team>, email: <address>}} in {group.path or GROUPS_FILE}, "
                "the team that owns its metrics"))
    for model in sorted(models, key=lambda m: (m.name, str(m.version or ""))):
        subject = f"model {model.versioned_name}"
        if not model.group:
            violations.append(Violation(
                "model_group", subject, "group", "the model belongs to no group: nobody answers for it",
                f"assign it a group of {GROUPS_FILE} (dbt_project.yml: +group: <group> on its folder)"))
        if not (model.is_mart or model.package != registry.governed_package):  # a user's table: metric table
            if model.access == "public":
                violations.append(Violation(
                    "model_access", subject, "access",
                    "only metric tables (models/marts/) are public; other projects could build on this internal model",
                    "make it protected or private, or move it under models/marts/ with a contract and a version"))
            continue
        if model.access != "public":
            violations.append(Violation(
                "model_access", subject, "access",
                f"a metric table is {model.access or 'protected'}, not public: other projects cannot ref it",
                "set access: public (dbt_project.yml: +access: public under marts:)"))
        if not model.contract_enforced:
            violations.append(Violation(
                "model_contract", subject, "contract",
                "the contract is not enforced: a renamed column or changed type would reach BI unnoticed",
                f"set config: contract: {{enforced: true}} and a data_type on every column ({_models_file(model)})"))
        elif model.untyped_columns:
            violations.append(Violation(
                "model_contract", subject, "columns.data_type",
                f"columns without a data_type: {', '.join(model.untyped_columns)}",
                f"add data_type to each (a type both DuckDB and PostgreSQL name alike) in {_models_file(model)}"))
        if model.version is None:
            violations.append(Violation(
                "model_version", subject, "versions",
                "the metric table has no version: a breaking change could not run next to the table BI reads",
                f"add latest_version: 1 and versions: [{{v: 1, defined_in: {model.name}, config: {{alias: "
                f"{model.name}}}}}] in {_models_file(model)} (the alias keeps the relation name)"))
    return violations


def version_rules(current: Registry, previous: Registry, decisions: Decisions) -> list[Violation]:
    violations = []
    where = decisions.path.name if decisions.path else "DECISIONS.md"
    for metric in sorted(current.governed(), key=lambda m: m.name):
        before = previous.metrics.get(metric.name)
        if before is None or before.governance is None or metric.governance.status == "deprecated":
            continue  # a new or newly governed metric is the baseline
        new, old = metric.governance.version, before.governance.version
        if new is None or old is None:
            continue  # an invalid version is reported by invalid_field
        changed = changed_parts(definition_parts(current, metric.name), definition_parts(previous, metric.name))
        if new < old:
            violations.append(Violation(
                "unversioned_change", metric.name, "version", f"version went down from {old} to {new}",
                f"versions only go up: set version: {old + 1 if changed else old}"))
            continue
        if changed and new == old:
            shown = ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
            violations.append(Violation(
                "unversioned_change", metric.name, "version",
                f"definition changed ({shown}) but version is still {old}",
                f"set version: {old + 1} and add a {where} entry '{metric.name} v{old + 1}' saying what "
                "changed and why"))
        elif new > old and decisions.entry_for(metric.name, new) is None:
            violations.append(Violation(
                "missing_decision", metric.name, "version",
                f"version {old} → {new} has no {where} entry naming '{metric.name} v{new}'",
                f"add a line to {where} naming '{metric.name} v{new}', e.g. the heading "
                f"'### <date> — {metric.name} v{new}: <what changed and why>'"))
    return violations


def check(registry: Registry, *, today: dt.date, previous: Registry | None = None,
          decisions: Decisions | None = None, targets_var: object = None) -> CheckResult:
    """Every rule over the registry; `previous` (an older manifest) enables the version rules;
    `targets_var`: var product_metrics__metric_targets as dbt resolves it (None: unset)."""
    violations = (field_rules(registry, today) + north_star_rules(registry) + guardrail_rules(registry)
                  + review_rules(registry, today) + deprecation_rules(registry) + table_rules(registry)
                  + lives_in_rules(registry) + decomposition_rules(registry) + target_rules(registry, targets_var)
                  + model_governance_rules(registry))
    if previous is not None:
        violations += version_rules(registry, previous, decisions or Decisions(""))
    order = list(RULES)
    violations.sort(key=lambda v: (order.index(v.rule), v.subject))
    return CheckResult(
        metrics=len(registry.scoped_metrics()), violations=violations,
        tables=sum(1 for m in registry.models.values() if m.governance is not None),
        exposures=len(registry.exposures), compared_with=previous.source if previous else None,
        models=len(scoped_models(registry)))
