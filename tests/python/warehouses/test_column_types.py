import duckdb
import pytest

from product_metrics.warehouses.column_types import UnsupportedColumnType, duckdb_columns, loaded_type
from product_metrics.warehouses.postgres import postgres_type
from product_metrics.warehouses.spark import spark_type


def test_each_warehouse_maps_a_duckdb_type_and_keeps_a_decimal_s_precision_and_scale():
    assert postgres_type("varchar") == "text"
    assert spark_type("VARCHAR") == "string"
    assert postgres_type("DECIMAL(18, 2)") == "numeric(18, 2)"
    assert spark_type("DECIMAL(18,2)") == "decimal(18, 2)"


def test_a_type_without_a_mapping_is_refused_with_the_fix():
    with pytest.raises(UnsupportedColumnType, match="No Spark type for DuckDB type BLOB: load the column as text"):
        loaded_type("blob", {"VARCHAR": "string"}, "decimal", "Spark")


def test_duckdb_columns_are_in_table_order_and_a_missing_table_is_named():
    with duckdb.connect() as source:
        source.execute("create schema raw; create table raw.t (b integer, a varchar)")
        assert duckdb_columns(source, "demo.duckdb", "raw", "t") == [("b", "INTEGER"), ("a", "VARCHAR")]
        with pytest.raises(ValueError, match=r"demo\.duckdb has no table raw\.missing"):
            duckdb_columns(source, "demo.duckdb", "raw", "missing")
