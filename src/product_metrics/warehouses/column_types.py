"""The columns of a DuckDB table of raw data, and the type each is loaded as in another warehouse."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


class UnsupportedColumnType(ValueError):
    pass


def loaded_type(duckdb_type: str, types: Mapping[str, str], decimal: str, warehouse: str) -> str:
    """`types[duckdb_type]`, or `decimal(precision, scale)` for a DuckDB DECIMAL.

    `types` keys are upper-case DuckDB type names; `decimal` is the warehouse's decimal type name.
    """
    duckdb_type = duckdb_type.upper()
    if duckdb_type in types:
        return types[duckdb_type]
    if match := _DECIMAL.match(duckdb_type):
        return f"{decimal}({match.group(1)}, {match.group(2)})"
    raise UnsupportedColumnType(f"No {warehouse} type for DuckDB type {duckdb_type}: load the column as text")


def duckdb_columns(source: DuckDBPyConnection, duckdb_path: str | os.PathLike[str], schema: str,
                   table: str) -> list[tuple[str, str]]:
    """The name and DuckDB type of each column of `schema.table` in `source`, in order."""
    columns = source.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    if not columns:
        raise ValueError(f"{duckdb_path} has no table {schema}.{table}")
    return columns
