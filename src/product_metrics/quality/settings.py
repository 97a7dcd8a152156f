"""Where the data-quality gate looks and its thresholds, each configurable from the CLI
(`product-metrics validate --help`)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Schemas:
    """Where each layer lives. Defaults are the embedded target's exact schema names; `dev*`
    targets prefix them (`dbt_alice_metrics`) and pass their own."""

    metrics: str = "metrics"
    staging: str = "staging"
    audit: str = "audit"
    intermediate: str = "intermediate"
    raw: str = "raw"


@dataclass(frozen=True)
class QualitySettings:
    """Every threshold of the gate."""

    schemas: Schemas = Schemas()
    reject_share_limit: float = 0.05       # rejected / raw rows per source
    min_raw_rows: int = 1                  # volume: a source with fewer rows is empty or broken
    anomaly_k: float = 3.0                 # |value − trailing mean| > k × trailing stddev
    anomaly_window: int = 12               # trailing periods (days for daily series, months for monthly)
    anomaly_min_points: int = 4            # trailing points needed before a value is judged
    include_layers: tuple[str, ...] = ("metrics", "staging", "raw")
    tables: tuple[str, ...] = ()           # only these metric tables (default: all)
    # The raw relations the build read, (table, schema, identifier), from the manifest
    # (product_metrics.relations); empty: schema `raw`, or the sample seeds when dbt built from them.
    raw_inputs: tuple[tuple[str, str, str], ...] = ()
    metrics_schema_option: str | None = None  # --metrics-schema: wins over the manifest's

    def with_(self, **changes) -> QualitySettings:
        return replace(self, **changes)

    def located(self, relations) -> QualitySettings:
        """These settings on the tables as dbt built them (product_metrics.relations.Relations)."""
        schemas = Schemas(metrics=self.metrics_schema_option or relations.metrics_schema,
                          staging=relations.staging_schema, audit=relations.audit_schema,
                          intermediate=relations.intermediate_schema, raw=self.schemas.raw)
        raw_inputs = tuple((table, relation.schema, relation.identifier)
                           for table, relation in relations.raw_inputs.items())
        return replace(self, schemas=schemas, raw_inputs=raw_inputs or self.raw_inputs)
