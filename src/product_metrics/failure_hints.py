"""What a failed dbt data test means, for the tests whose failure has one known cause and fix.

A refresh (`product-metrics refresh`, and `product-metrics build` once the warehouse exists) re-derives
only the latest days of the incremental models. Raw rows older than that window that changed since
(loaded late, edited or deleted in place) are not re-derived; these tests catch them, and a full
refresh rebuilds them (DECISIONS.md, "What the lookback cannot catch", "Old raw rows changed in place").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from product_metrics.dbt import NodeResult

FULL_REFRESH_COMMAND = "product-metrics refresh --full-refresh"

# Data tests that fail when raw rows older than the refresh window changed.
_OLD_RAW_ROWS_TESTS = (
    "test.product_metrics.assert_raw_rows_reconcile",  # raw rows = accepted + rejected
    "test.product_metrics.assert_activation_has_each_cohorted_user",  # an old user loaded or changed late
)


@dataclass(frozen=True)
class FailureHint:
    detail: str  # what is wrong, one line for the stage table
    fix: str  # what to do: a command to copy


def failed_test_hint(failed: Iterable[NodeResult]) -> FailureHint | None:
    """The hint for the first failed node with a known cause; None when no failed node has one."""
    for node in failed:
        if node.unique_id in _OLD_RAW_ROWS_TESTS:
            test = node.unique_id.rsplit(".", 1)[-1]
            return FailureHint(
                detail=f"raw rows older than the refresh window changed ({test} failed)",
                fix=f"run: {FULL_REFRESH_COMMAND} (rebuilds every incremental model from all raw rows)",
            )
    return None


def add_failure_hint(result, failed: Iterable[NodeResult]) -> None:
    """Put the hint of a failed dbt stage (a StageResult) first: in its detail, and its fix first
    among the lines to see more. Nothing when no failed node has a known cause."""
    hint = failed_test_hint(failed)
    if hint is not None:
        result.detail = f"{hint.detail}; {result.detail}"
        result.how_to_see_more.insert(0, hint.fix)
