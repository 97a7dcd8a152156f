"""Where the dbt project and the warehouse live, resolved once for every command."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from product_metrics.errors import UserError, first_line

DUCKDB_PATH_ENV = "PRODUCT_METRICS_DUCKDB_PATH"
DEFAULT_DUCKDB_PATH = Path("warehouse") / "product_metrics.duckdb"
# dbt's file log (logs/dbt.log) at `info`: each node's start, result and error. dbt's default,
# `debug`, also writes every SQL statement, which cost 3-4 s of a 10M-event refresh (~12 %); the
# statements are in the run's target path anyway. DBT_LOG_LEVEL_FILE=debug in the caller's
# environment brings them back.
FILE_LOG_LEVEL_ENV = "DBT_LOG_LEVEL_FILE"
DEFAULT_FILE_LOG_LEVEL = "info"
# dbt rotates logs/dbt.log at this size and keeps 5 old files: at most 6 x 5 MB, whatever the schedule.
FILE_LOG_MAX_BYTES_ENV = "DBT_LOG_FILE_MAX_BYTES"
DEFAULT_FILE_LOG_MAX_BYTES = str(5 * 1024 * 1024)


class ProjectNotFound(UserError):
    pass


PACKAGE_NAME = "product_metrics"
# dbt's own variables for its --project-dir, --profiles-dir and --target: the CLI's options set them,
# so dbt, MetricFlow and this tool read one setting.
PROJECT_DIR_ENVS = ("DBT_PROJECT_DIR", "PRODUCT_METRICS_PROJECT_DIR")
PROFILES_DIR_ENV = "DBT_PROFILES_DIR"
TARGET_ENV = "DBT_TARGET"
# dbt has no environment variable for --vars: this one (YAML or JSON, as dbt's --vars) is passed to
# every dbt call of the tool.
VARS_ENV = "PRODUCT_METRICS_DBT_VARS"
# The root project of the demo and the test suite, inside the source checkout: it installs the
# package with `local: ../` as any user's project does.
DEMO_PROJECT_DIR = "integration_tests"
SOURCE_CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Project:
    """The root dbt project a command runs (the user's project, or the demo project), where dbt
    finds its profile, and the DuckDB warehouse of the embedded target."""

    root: Path
    duckdb_path: Path
    profiles_dir: Path | None = None  # None: dbt's own choice (the project directory, then ~/.dbt)
    target: str | None = None  # None: the profile's default target
    vars: Mapping[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def locate(cls, duckdb_path: str | os.PathLike[str] | None = None) -> Project:
        """The project of this command. The DuckDB file: --database (or PRODUCT_METRICS_DUCKDB_PATH),
        else the path of the profile's DuckDB target, else warehouse/product_metrics.duckdb."""
        root = _find_root()
        profiles = os.environ.get(PROFILES_DIR_ENV)
        project = cls(root=root, duckdb_path=root / DEFAULT_DUCKDB_PATH,
                      profiles_dir=Path(profiles).resolve() if profiles else None,
                      target=os.environ.get(TARGET_ENV) or None, vars=vars_from_environment())
        explicit = duckdb_path or os.environ.get(DUCKDB_PATH_ENV)
        if explicit:
            path = Path(explicit)
            return replace(project, duckdb_path=path if path.is_absolute() else Path.cwd() / path)
        from product_metrics.profile import ProfileError

        try:
            from_profile = project.profile_target().duckdb_path(root)
        except ProfileError:  # dbt says what is wrong with the profile when it runs
            from_profile = None
        return replace(project, duckdb_path=from_profile) if from_profile else project

    @property
    def profiles_path(self) -> Path:
        """The directory of the profiles.yml dbt reads for this project."""
        from product_metrics.profile import profiles_dir

        return profiles_dir(self.root, self.profiles_dir)

    def profile_target(self, env: Mapping[str, str] | None = None):
        """The profile's target as dbt renders it (product_metrics.profile.Target)."""
        from product_metrics.profile import load_target

        return load_target(self.root, self.profiles_path, target=self.target, vars=self.vars,
                           env=os.environ if env is None else env)

    @property
    def package_dir(self) -> Path:
        """Where the product_metrics package is: installed in the project, or the project itself."""
        installed = self.root / "dbt_packages" / PACKAGE_NAME
        if _is_package(self.root):
            return self.root
        return installed.resolve() if installed.is_dir() else SOURCE_CHECKOUT

    def dbt_var(self, name: str) -> object:
        """The value dbt gives the package's var `name`, resolved as dbt does: --vars
        (PRODUCT_METRICS_DBT_VARS), else the root project's dbt_project.yml (vars scoped to
        product_metrics first, then global ones), else the package's dbt_project.yml; None when none
        sets it. A value that is Jinja (`"{{ ... }}"`) is returned unrendered."""
        if name in self.vars:
            return self.vars[name]
        for directory in dict.fromkeys((self.root, self.package_dir)):
            declared = (_read_project(directory) or {}).get("vars") or {}
            scoped = declared.get(PACKAGE_NAME) if isinstance(declared.get(PACKAGE_NAME), dict) else {}
            for level in (scoped, declared):
                if name in level:
                    return level[name]
        return None

    @property
    def warehouse_url(self) -> str | None:
        """The SQLAlchemy URL of a server warehouse the run writes to; None: the DuckDB file."""
        return None

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: this project's profile, target and warehouse."""
        env = dict(os.environ)
        env.pop(PROJECT_DIR_ENVS[0], None)  # dbt runs in the project directory itself
        if self.profiles_dir is not None:
            env[PROFILES_DIR_ENV] = str(self.profiles_dir)
        elif (self.root / "profiles.yml").is_file():
            env[PROFILES_DIR_ENV] = str(self.root)
        else:
            env.pop(PROFILES_DIR_ENV, None)
        if self.target:
            env[TARGET_ENV] = self.target
        env[DUCKDB_PATH_ENV] = str(self.duckdb_path)
        if override := self._duckdb_profile_override(env):
            env[PROFILES_DIR_ENV] = str(override)
        env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        env.setdefault(FILE_LOG_LEVEL_ENV, DEFAULT_FILE_LOG_LEVEL)
        env.setdefault(FILE_LOG_MAX_BYTES_ENV, DEFAULT_FILE_LOG_MAX_BYTES)  # 0 (never rotate) only if asked
        return env


    def _duckdb_profile_override(self, env: Mapping[str, str]) -> Path | None:
        """A profiles directory pointing dbt at this project's DuckDB file, for a profile whose DuckDB
        target has a path of its own (a user's profiles.yml) that is not this run's file (the run's
        copy of the warehouse, or --database). None when dbt's own profile already leads there: a
        profile that reads PRODUCT_METRICS_DUCKDB_PATH (the demo's), or the same path."""
        from product_metrics.profile import ProfileError, duckdb_override_dir, profiles_dir

        directory = profiles_dir(self.root, Path(env[PROFILES_DIR_ENV]) if env.get(PROFILES_DIR_ENV) else None)
        try:
            if DUCKDB_PATH_ENV in (directory / "profiles.yml").read_text():
                return None
            target = self.profile_target(env)
        except (OSError, ProfileError):  # no readable profile: dbt reports it
            return None
        path = target.duckdb_path(self.root)
        if path is None or path.resolve() == self.duckdb_path.resolve():
            return None
        return duckdb_override_dir(target, self.duckdb_path, self.root / "target")


def vars_from_environment() -> dict[str, object]:
    """The user's `--vars` (PRODUCT_METRICS_DBT_VARS), parsed as dbt parses them (YAML, JSON too)."""
    text = os.environ.get(VARS_ENV, "").strip()
    if not text:
        return {}
    import yaml

    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UserError(f"--vars / {VARS_ENV} is not YAML or JSON: {first_line(error)}") from None
    if not isinstance(parsed, dict):
        raise UserError(f"--vars / {VARS_ENV} must be a mapping such as '{{my_var: 1}}', got {text!r}")
    return parsed


def _read_project(directory: Path) -> dict | None:
    manifest = directory / "dbt_project.yml"
    if not manifest.is_file():
        return None
    import yaml

    try:
        parsed = yaml.safe_load(manifest.read_text())
    except yaml.YAMLError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _is_package(directory: Path) -> bool:
    return (_read_project(directory) or {}).get("name") == PACKAGE_NAME


def _installs_package(directory: Path) -> bool:
    """A dbt project that installs product_metrics (packages.yml or dependencies.yml, or installed)."""
    if (directory / "dbt_packages" / PACKAGE_NAME).is_dir():
        return True
    for name in ("packages.yml", "dependencies.yml"):
        path = directory / name
        if path.is_file() and ("product_metrics" in path.read_text() or _local_package(directory, path)):
            return True
    return False


def _local_package(directory: Path, packages_file: Path) -> bool:
    import yaml

    try:
        packages = (yaml.safe_load(packages_file.read_text()) or {}).get("packages") or []
    except (yaml.YAMLError, AttributeError):
        return False
    return any(isinstance(entry, dict) and "local" in entry and _is_package((directory / str(entry["local"])).resolve())
               for entry in packages)


def _as_root(directory: Path) -> Path:
    """The root project to run for a project directory: the package itself runs as its demo project."""
    if _is_package(directory) and (directory / DEMO_PROJECT_DIR / "dbt_project.yml").is_file():
        return directory / DEMO_PROJECT_DIR
    return directory


def _find_root() -> Path:
    """--project-dir (DBT_PROJECT_DIR), else the nearest dbt project above the working directory,
    else the demo project of the source checkout."""
    for name in PROJECT_DIR_ENVS:
        if explicit := os.environ.get(name):
            directory = Path(explicit).resolve()
            if _read_project(directory) is None:
                raise ProjectNotFound(f"{name}={explicit}: no dbt_project.yml there. Point it at your dbt project.")
            return _checked_root(_as_root(directory))
    for directory in [Path.cwd(), *Path.cwd().parents]:
        if _read_project(directory) is not None:
            return _checked_root(_as_root(directory))
    demo = SOURCE_CHECKOUT / DEMO_PROJECT_DIR
    if (demo / "dbt_project.yml").is_file():
        return demo
    raise ProjectNotFound("No dbt project found: run from your dbt project's directory or pass --project-dir.")


def _checked_root(root: Path) -> Path:
    if _is_package(root) or _installs_package(root):
        return root
    raise ProjectNotFound(
        f"The dbt project in {root} does not install product_metrics: add it to packages.yml "
        "(README, \"Use it in your dbt project\") and run `dbt deps`."
    )
