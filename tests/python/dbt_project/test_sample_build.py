"""A plain `dbt build` on a fresh clone: the sample seeds, every model, unit test and data test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

# The contract checker ships beside the repository, in ../shared/tools.
CONTRACT_CHECKER = Path(__file__).resolve().parents[4] / "shared" / "tools" / "check_contract.py"

SOURCES = ["users", "events", "orders", "marketing_spend", "nps_responses", "invites",
           "ai_suggestions", "model_predictions"]


def test_every_raw_row_is_accepted_or_rejected(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    for source in SOURCES:
        raw = con.execute(f"select count(*) from raw_sample.{source}").fetchone()[0]
        accepted = con.execute(f"select count(*) from staging.stg_raw__{source}").fetchone()[0]
        rejected = con.execute(f"select count(*) from audit.rejected_rows where source_table = '{source}'").fetchone()[0]
        assert raw == accepted + rejected, source
        assert rejected > 0, f"the sample of {source} should hold at least one bad row"


def test_sample_rejections_are_the_hand_listed_ones(sample_warehouse):
    con = duckdb.connect(str(sample_warehouse), read_only=True)
    got = set(con.execute("select source_table, source_key, reason from audit.rejected_rows").fetchall())
    assert ("events", "e039", "before_signup") in got
    assert ("events", "e002", "duplicate") in got
    # marketing_spend has no key: its garbage copy of a valid row is rejected for its own reason.
    assert ("marketing_spend", "2026-01-05|paid_search|brand|-100.00", "invalid_amount") in got
    assert ("marketing_spend", "2026-01-07||brand|10.00", "missing_channel") in got
    assert ("nps_responses", "r15", "score_out_of_range") in got
    assert ("invites", "i11", "self_invite") in got
    assert ("invites", "i10", "unknown_user") in got
    assert ("ai_suggestions", "s12", "invalid_outcome") in got
    assert ("model_predictions", "p09", "invalid_value") in got
    assert len(got) == con.execute("select count(*) from audit.rejected_rows").fetchone()[0]
    # ... and the valid row it copies counts (its raw record sorts after the copy's).
    assert con.execute("select sum(spend_usd) from staging.stg_raw__marketing_spend where spend_date = "
                       "'2026-01-05' and channel = 'paid_search' and campaign = 'brand'").fetchone()[0] == 100


def test_warehouse_meets_the_table_contract(sample_warehouse):
    if not CONTRACT_CHECKER.is_file():
        import pytest

        pytest.skip("../shared/tools/check_contract.py is not beside this checkout")
    result = subprocess.run([sys.executable, str(CONTRACT_CHECKER), str(sample_warehouse)],
                            check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert "10/10 tables meet the contract" in result.stdout
