"""The headline numbers a product team looks at first, read from the metric tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from product_metrics import formatting


@dataclass(frozen=True)
class Section:
    title: str
    columns: list[str]
    rows: list[tuple]
    note: str = ""


# Each query reads only the BI-facing metric tables; {fct_x} is the relation dbt built for model fct_x.
_SECTIONS: list[tuple[str, str, str]] = [
    (
        "Retention (latest complete cohort per period)",
        """
        select
            cohort_granularity as cohorts, period_number as period, cohort_start, cohort_size as size,
            retained_users as retained, retention_rate as rate
        from (
            select *, row_number() over (
                partition by cohort_granularity, period_number order by cohort_start desc) as recency
            from {fct_cohort_retention}
            where is_complete and (
                (cohort_granularity = 'week' and period_number in (1, 4))
                or (cohort_granularity = 'month' and period_number in (1, 3)))
        ) where recency = 1
        order by cohorts desc, period
        """,
        "retention_rate = retained users / cohort size",
    ),
    (
        "Stickiness (latest day)",
        """
        select activity_date as date, dau, wau, mau, dau_mau_ratio as "dau/mau", wau_mau_ratio as "wau/mau"
        from {fct_stickiness_daily}
        order by activity_date desc limit 1
        """,
        "",
    ),
    (
        "CAC by channel (latest month with spend or new customers)",
        """
        select month_start as month, channel, spend_usd as spend, new_customers, cac_usd as cac
        from {fct_cac_by_channel}
        where month_start = (select max(month_start) from {fct_cac_by_channel})
        order by is_paid_channel desc, channel
        """,
        "cac_usd = spend / new customers (null when no new customers)",
    ),
    (
        "LTV/CAC by channel (latest month, trailing window)",
        """
        select
            month_start as month, channel, arpa_usd as arpa, churn_rate as churn, ltv_usd as ltv, cac_usd as cac,
            ltv_cac_ratio as "ltv/cac", payback_months as payback
        from {fct_ltv_cac_by_channel}
        where month_start = (select max(month_start) from {fct_ltv_cac_by_channel})
        order by "ltv/cac" desc nulls last
        """,
        "ltv = arpa x gross margin / churn rate; payback = cac / (arpa x margin)",
    ),
    (
        "NPS (latest months)",
        """
        select month_start as month, responses, nps, nps_margin_of_error_95 as "± 95% margin"
        from {fct_nps_monthly}
        order by month_start desc limit 3
        """,
        "nps ± its 95% margin of error",
    ),
    (
        "K-factor (latest signup cohorts)",
        """
        select
            cohort_month, cohort_users as users, invites_sent as invites, invites_converted as converted,
            k_factor, is_complete as complete
        from {fct_k_factor_monthly}
        order by cohort_month desc limit 3
        """,
        "k_factor = converted invites / cohort users",
    ),
]


_TABLE = re.compile(r"\{(fct_\w+)\}")


def read_headline(duckdb_path: Path, relations=None) -> list[Section]:
    """The sections, read from the tables where `relations` (product_metrics.relations.Relations;
    default: the demo layout, schema `metrics`) says dbt built them."""
    import duckdb

    from product_metrics.errors import UserError, first_line
    from product_metrics.relations import Relations
    from product_metrics.warehouse import open_duckdb

    relations = relations or Relations.default()
    with open_duckdb(duckdb_path, read_only=True) as con:
        sections = []
        for title, sql, note in _SECTIONS:
            sql = _TABLE.sub(lambda match: relations.model(match.group(1)).sql, sql)
            try:
                relation = con.sql(sql)
            except duckdb.CatalogException as error:  # raw data only, or another project's file
                raise UserError(f"{duckdb_path} has no metric tables to read ({first_line(error)}). Build "
                                "them: `product-metrics build` (or `product-metrics demo`).") from error
            sections.append(Section(title, list(relation.columns), relation.fetchall(), note))
    return sections


# How a column of the sections reads (product_metrics.formatting): money, shares, multiples, months
# and scores carry their unit in the cell; counts read as numbers under a header that names what
# they count ('dau (users)').
_UNITS: dict[str, tuple[str, str | None]] = {
    "rate": ("ratio", None), "dau/mau": ("ratio", None), "wau/mau": ("ratio", None), "churn": ("ratio", None),
    "spend": ("usd", None), "cac": ("usd", None), "arpa": ("usd", None), "ltv": ("usd", None),
    "ltv/cac": ("ratio", "ltv_cac"), "k_factor": ("ratio", "k_factor"), "payback": ("months", None),
    "nps": ("score", None), "± 95% margin": ("score", None),
}
_COUNTS = {"size": "users", "retained": "users", "dau": "users", "wau": "users", "mau": "users",
           "new_customers": "customers", "invites": "invites", "converted": "invites"}


def header(column: str) -> str:
    """The column's header: a count's names what it counts, unless the name already says it."""
    noun = _COUNTS.get(column)
    return f"{column} ({noun})" if noun and noun not in column else column


def format_cell(column: str, value: object) -> str:
    """A cell of `column` in its unit ('$68.56', '13.7%', '2.76×', '2.2 months'); counts as numbers."""
    unit, metric = _UNITS.get(column, (None, None))
    return formatting.format_cell(value, unit, metric)
