"""The warehouse connection dbt uses: the project's profile, rendered by dbt's own code with the
run's environment, vars and target, so a user's own profiles.yml (a DuckDB path of its own, a
PostgreSQL server) is where this tool reads and writes, as dbt does.

dbt is imported only here and only when a profile is rendered (a second or two); the demo
project's profile reads PRODUCT_METRICS_DUCKDB_PATH, so with that variable (or --database) set
nothing is rendered at all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from product_metrics.errors import UserError, first_line


class ProfileError(UserError):
    """The profile cannot be read or rendered; the message says which and what to do."""


@dataclass(frozen=True)
class Target:
    """One rendered output of a profile: what dbt connects with."""

    profile: str
    name: str
    type: str
    settings: Mapping[str, Any]  # the rendered output, credentials included: never printed
    profiles_dir: Path

    def duckdb_path(self, root: Path) -> Path | None:
        """The DuckDB file of a duckdb target (relative paths are dbt's: from the project directory)."""
        if self.type != "duckdb":
            return None
        path = str(self.settings.get("path") or ":memory:")
        if path == ":memory:" or ":" in path.split("/", 1)[0]:  # in memory, md:, s3://: no local file
            return None
        resolved = Path(path).expanduser()
        return resolved if resolved.is_absolute() else root / resolved

    def postgres(self):
        """The PostgresSettings of a postgres target, None for other types."""
        if self.type != "postgres":
            return None
        from product_metrics.warehouses.postgres import PostgresSettings

        settings = self.settings
        return PostgresSettings(user=str(settings.get("user") or ""),
                                password=str(settings.get("password") or settings.get("pass") or ""),
                                dbname=str(settings.get("dbname") or settings.get("database") or ""),
                                schema=str(settings.get("schema") or "public"),
                                host=str(settings.get("host") or "127.0.0.1"), port=int(settings.get("port") or 5432))


def profiles_dir(root: Path, explicit: Path | None) -> Path:
    """Where dbt finds profiles.yml for a run in `root`: --profiles-dir / DBT_PROFILES_DIR, else the
    project directory when it has one, else ~/.dbt (dbt's own order; dbt runs in the project directory)."""
    if explicit is not None:
        return explicit
    if (root / "profiles.yml").is_file():
        return root
    return Path.home() / ".dbt"


def profile_name(root: Path) -> str:
    import yaml

    try:
        project = yaml.safe_load((root / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ProfileError(f"Cannot read {root / 'dbt_project.yml'}: {first_line(error)}") from None
    name = project.get("profile") if isinstance(project, dict) else None
    if not name:
        raise ProfileError(f"{root / 'dbt_project.yml'} names no profile: add `profile: <name>` as dbt requires.")
    return str(name)


_RENDERED: dict[tuple, Target] = {}


def load_target(root: Path, directory: Path, *, target: str | None, vars: Mapping[str, object],
                env: Mapping[str, str]) -> Target:
    """Render the project's profile as dbt does (dbt.config.profile: the target name first, then that
    output only), with `env` as the environment env_var() reads. Cached per process."""
    path = directory / "profiles.yml"
    try:
        text = path.read_text()
    except OSError:
        raise ProfileError(f"No profiles.yml in {directory}: set --profiles-dir (DBT_PROFILES_DIR) to the "
                           "directory of your dbt profile.") from None
    name = profile_name(root)
    key = (str(path), hashlib.sha1(text.encode()).hexdigest(), name, target, repr(sorted(vars.items(), key=str)),
           tuple(sorted(env.items())))
    if key in _RENDERED:
        return _RENDERED[key]
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from dbt_common.exceptions import DbtBaseException

    set_invocation_context(dict(env))
    try:
        profiles = read_profile(str(directory))
        if name not in profiles or not profiles[name]:
            raise ProfileError(f"{path} has no profile {name!r} (dbt_project.yml's profile): add it, or point "
                               "--profiles-dir at the right directory.")
        target_name, rendered = Profile.render_profile(profiles[name], name, target, ProfileRenderer(dict(vars)))
    except DbtBaseException as error:
        raise ProfileError(f"dbt cannot render profile {name!r} of {path}: {first_line(error)}") from None
    rendered = dict(rendered)
    loaded = Target(profile=name, name=str(target_name), type=str(rendered.get("type") or ""),
                    settings=rendered, profiles_dir=directory)
    _RENDERED[key] = loaded
    return loaded


def duckdb_override_dir(target: Target, duckdb_path: Path, under: Path) -> Path:
    """A profiles directory for one dbt run: the rendered DuckDB output with its path set to
    `duckdb_path` (a run's copy of the warehouse, or --database), for a profile that does not read
    PRODUCT_METRICS_DUCKDB_PATH. Written under `under` (the project's target directory)."""
    import yaml

    output = {**target.settings, "path": str(duckdb_path)}
    text = yaml.safe_dump({target.profile: {"target": target.name, "outputs": {target.name: output}}},
                          sort_keys=False)
    directory = under / "profiles" / hashlib.sha1(text.encode()).hexdigest()[:16]
    directory.mkdir(parents=True, exist_ok=True)
    file = directory / "profiles.yml"
    if not file.is_file() or file.read_text() != text:
        temporary = file.with_name(f"profiles.yml.{os.getpid()}.tmp")
        temporary.write_text(text)
        temporary.replace(file)
    return directory
