"""Write-audit-publish on PostgreSQL: the schemas BI reads are built aside and swapped in at once.

dbt_project.yml gives the BI-facing folders (marts -> `metrics`, audit -> `audit`) the schema
`<live><suffix>` when PRODUCT_METRICS_PUBLISH_SUFFIX is set. A run that publishes:

1. `prepare`: (re)creates each pending schema `<live><suffix>` holding a copy of every table of
   the live schema (incremental models need their previous rows; history tables written by
   Python, such as audit.dq_results, keep their history), with the same table privileges;
2. runs dbt (and the Python writers: the gate, alerts, the catalog) against the pending schemas,
   with the suffix in dbt's environment;
3. `publish` when the whole run passed: ONE transaction replaces each live relation by its
   pending one (`drop`, then `alter ... set schema`) and drops the emptied pending schema.
   Readers see the old tables until the commit and the new ones after; an error rolls all of it
   back. Otherwise `discard`: the live schemas were never touched; the pending schemas stay for
   inspection, closed to the roles dbt's grants opened them to, until the next `prepare`.

psycopg2 is imported by PostgresSettings.connect.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from product_metrics.publish import PublishError
from product_metrics.warehouse import quote
from product_metrics.warehouses.postgres import PostgresSettings

SUFFIX_ENV = "PRODUCT_METRICS_PUBLISH_SUFFIX"
PENDING_SUFFIX = "__pending"
LIVE_SCHEMAS = ("metrics", "audit")
DEFAULT_LOCK_TIMEOUT_S = 60.0
_MAX_IDENTIFIER = 63
_SUFFIX = re.compile(r"[a-z0-9_]+")

# pg_class.relkind -> the keyword its DDL uses. Indexes, owned sequences and constraints move
# with their table.
_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}
_SQLSTATE_DEPENDENT_OBJECTS = "2BP01"
_SQLSTATE_LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    kind: str

    @property
    def sql(self) -> str:
        return f"{quote(self.schema)}.{quote(self.name)}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Prepared:
    """What `prepare` copied: rows per pending table (`<schema>.<table>`), and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0


@dataclass
class Published:
    """The relations `publish` moved into the live schemas (`<schema>.<name>`), and how long it took."""

    relations: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


def pending_schema(live: str, suffix: str = PENDING_SUFFIX) -> str:
    """The schema a run builds `live` in: `<live><suffix>` (dbt_project.yml names it the same way)."""
    name = f"{live}{_checked(suffix)}"
    if len(name.encode()) > _MAX_IDENTIFIER:
        raise ValueError(f"Schema name {name} is longer than PostgreSQL's {_MAX_IDENTIFIER} bytes: "
                         f"use a shorter {SUFFIX_ENV}.")
    return name


def dbt_env(suffix: str = PENDING_SUFFIX) -> dict[str, str]:
    """Environment for the dbt run that builds the pending schemas."""
    return {SUFFIX_ENV: _checked(suffix)}


def _checked(suffix: str) -> str:
    if not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"Publish suffix {suffix!r} must be lower-case letters, digits and _ (not empty: "
                         "the pending schema would be the live one).")
    return suffix


def prepare(settings: PostgresSettings, live_schemas: Iterable[str] = LIVE_SCHEMAS,
            suffix: str = PENDING_SUFFIX) -> Prepared:
    """(Re)create each pending schema as a copy of its live schema: every table, its rows, columns,
    defaults, constraints and indexes (`like ... including all`) and its table privileges.
    Views of the live schema are not copied (dbt recreates its own). One transaction; an error of
    the server raises PublishError (connection errors are raised as is)."""
    import psycopg2

    started = time.perf_counter()
    prepared = Prepared()
    schemas = [(live, pending_schema(live, suffix)) for live in live_schemas]
    try:
        _copy_live_schemas(settings, schemas, prepared)
    except psycopg2.Error as error:
        if error.pgcode is None:
            raise
        raise PublishError(f"Could not copy the live tables into {', '.join(p for _, p in schemas)}: "
                           f"{_first_line(error)}; {', '.join(live for live, _ in schemas)} unchanged.") from None
    prepared.elapsed_s = time.perf_counter() - started
    return prepared


def _copy_live_schemas(settings: PostgresSettings, schemas: Sequence[tuple[str, str]], prepared: Prepared) -> None:
    with settings.transaction() as cursor:
        for live, pending in schemas:
            cursor.execute(f"drop schema if exists {quote(pending)} cascade")
            cursor.execute(f"create schema {quote(pending)}")
            for table in _relations(cursor, live, kinds=("r", "p")):
                copy = Relation(pending, table.name, table.kind)
                cursor.execute(f"create table {copy.sql} (like {table.sql} including all)")
                cursor.execute(f"insert into {copy.sql} select * from {table.sql}")
                prepared.rows[str(copy)] = cursor.rowcount
                for privilege, grantee, grantable in _table_grants(cursor, table):
                    option = " with grant option" if grantable else ""
                    cursor.execute(f"grant {privilege} on table {copy.sql} to {grantee}{option}")


def publish(settings: PostgresSettings, live_schemas: Iterable[str] = LIVE_SCHEMAS,
            suffix: str = PENDING_SUFFIX, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> Published:
    """Swap the pending schemas in, in one transaction: each live relation that has a pending one
    is dropped and the pending one moved in (`set schema`); live relations without a pending one
    stay. The schema grants dbt gave the pending schema (USAGE for the BI role) are given to the
    live one; the emptied pending schema is dropped. Raises PublishError, changing nothing, when a
    live relation cannot be dropped (another object depends on it), cannot be locked within
    `lock_timeout_s` (a long query reads it), or on any other error of the server (e.g. a live table
    owned by another role); a pending schema missing is one too. Connection errors are raised as is."""
    import psycopg2

    started = time.perf_counter()
    published = Published()
    schemas = [(live, pending_schema(live, suffix)) for live in live_schemas]
    try:
        with settings.transaction() as cursor:
            cursor.execute("select set_config('lock_timeout', %s, true)", [f"{int(lock_timeout_s * 1000)}ms"])
            for _live, pending in schemas:
                if not _schema_exists(cursor, pending):
                    raise PublishError(f"Nothing to publish: schema {pending} does not exist (build with "
                                       f"{SUFFIX_ENV}={suffix} after prepare); {_unchanged(schemas)}.")
            for live, pending in schemas:
                cursor.execute(f"create schema if not exists {quote(live)}")
                incoming = _relations(cursor, pending)
                names = {relation.name for relation in incoming}
                _drop_all(cursor, [r for r in _relations(cursor, live) if r.name in names], schemas)
                for relation in incoming:
                    cursor.execute(f"alter {_KINDS[relation.kind]} {relation.sql} set schema {quote(live)}")
                    published.relations.append(f"{live}.{relation.name}")
                for privilege, grantee in _schema_grants(cursor, pending):
                    cursor.execute(f"grant {privilege} on schema {quote(live)} to {grantee}")
                cursor.execute(f"drop schema {quote(pending)}")
    except psycopg2.Error as error:
        if error.pgcode is None:  # no answer from the server (unreachable, connection lost)
            raise
        if error.pgcode == _SQLSTATE_LOCK_NOT_AVAILABLE:
            raise PublishError(f"Could not lock a live table within {lock_timeout_s:g} s (a query or another "
                               f"publish holds it): publish again when it is done; "
                               f"{_unchanged(schemas)}.") from None
        raise PublishError(f"Publishing failed: {_first_line(error)}; {_unchanged(schemas)}.") from None
    published.elapsed_s = time.perf_counter() - started
    return published


def discard(settings: PostgresSettings, live_schemas: Iterable[str] = LIVE_SCHEMAS,
            suffix: str = PENDING_SUFFIX) -> list[str]:
    """After a run that must not be published: the live schemas were never touched. The pending
    schemas are kept for inspection (the next `prepare` replaces them), and every schema privilege
    on them is revoked (dbt's on-run-end gave the BI role USAGE), so only their owner reads them.
    Returns the pending schemas kept."""
    kept = []
    with settings.transaction() as cursor:
        for live in live_schemas:
            pending = pending_schema(live, suffix)
            if not _schema_exists(cursor, pending):
                continue
            for privilege, grantee in _schema_grants(cursor, pending):
                cursor.execute(f"revoke {privilege} on schema {quote(pending)} from {grantee}")
            kept.append(pending)
    return kept


def _drop_all(cursor, relations: Sequence[Relation], schemas: Sequence[tuple[str, str]]) -> None:
    """Drop the live relations being replaced, in whatever order their dependencies allow (a view
    of the set before the table it reads); never `cascade`: an object outside the set that depends
    on one of them is an error that names it."""
    remaining = list(relations)
    while remaining:
        blocked: list[tuple[Relation, Any]] = []  # (relation, the psycopg2 error that refused its drop)
        for relation in remaining:
            cursor.execute("savepoint product_metrics_drop")
            try:
                cursor.execute(f"drop {_KINDS[relation.kind]} {relation.sql}")
            except Exception as error:
                cursor.execute("rollback to savepoint product_metrics_drop")
                if getattr(error, "pgcode", None) != _SQLSTATE_DEPENDENT_OBJECTS:
                    raise
                blocked.append((relation, error))
            cursor.execute("release savepoint product_metrics_drop")
        if len(blocked) == len(remaining):
            relation, failure = blocked[0]
            detail = "; ".join(line.strip() for line in (failure.diag.message_detail or "").splitlines() if line.strip())
            raise PublishError(f"Cannot replace {relation}: {detail or str(failure).strip()}. Drop what depends on it "
                               f"(recreate it after publishing, or build it as a dbt model) and publish again; "
                               f"{_unchanged(schemas)}.")
        remaining = [relation for relation, _ in blocked]


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _unchanged(schemas: Sequence[tuple[str, str]]) -> str:
    live = ", ".join(live for live, _ in schemas)
    pending = ", ".join(pending for _, pending in schemas)
    return f"nothing was published ({live} unchanged; the new build is in {pending})"


def _relations(cursor, schema: str, kinds: Sequence[str] = tuple(_KINDS)) -> list[Relation]:
    cursor.execute("select c.relname, c.relkind from pg_catalog.pg_class c "
                   "join pg_catalog.pg_namespace n on n.oid = c.relnamespace "
                   "where n.nspname = %s and c.relkind = any(%s) and not c.relispartition order by c.relname",
                   [schema, list(kinds)])
    return [Relation(schema, name, kind) for name, kind in cursor.fetchall()]


def _schema_exists(cursor, schema: str) -> bool:
    cursor.execute("select 1 from pg_catalog.pg_namespace where nspname = %s", [schema])
    return cursor.fetchone() is not None


def _grantee_sql(grantee_oid: int, name: str | None) -> str:
    return "public" if grantee_oid == 0 else quote(name or "")


def _table_grants(cursor, table: Relation) -> list[tuple[str, str, bool]]:
    """(privilege, grantee, grantable) on a table, other than its owner's own."""
    cursor.execute("select a.privilege_type, a.grantee, r.rolname, a.is_grantable "
                   "from pg_catalog.pg_class c cross join lateral aclexplode(c.relacl) a "
                   "left join pg_catalog.pg_roles r on r.oid = a.grantee "
                   "where c.oid = %s::regclass and a.grantee <> c.relowner order by 3, 1",
                   [table.sql])
    return [(privilege, _grantee_sql(oid, name), grantable) for privilege, oid, name, grantable in cursor.fetchall()]


def _schema_grants(cursor, schema: str) -> list[tuple[str, str]]:
    """(privilege, grantee) on a schema, other than its owner's own."""
    cursor.execute("select a.privilege_type, a.grantee, r.rolname "
                   "from pg_catalog.pg_namespace n cross join lateral aclexplode(n.nspacl) a "
                   "left join pg_catalog.pg_roles r on r.oid = a.grantee "
                   "where n.nspname = %s and a.grantee <> n.nspowner order by 3, 1",
                   [schema])
    return [(privilege, _grantee_sql(oid, name)) for privilege, oid, name in cursor.fetchall()]
