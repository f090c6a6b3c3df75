"""The study database: SQLite in the study folder by default, or any URL SQLAlchemy reads (PostgreSQL to share one
study between machines). Opened with Optuna's heartbeat, so a trial whose process died is failed and asked again."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

from mlplab.errors import UserError

DB_FILE = "study.db"
HEARTBEAT_S, GRACE_S = 10, 30  # a RUNNING trial silent for GRACE_S is taken for dead (another machine's included)
MAX_RETRIES = 2  # a trial whose process dies is asked again at most this many times


def default_url(folder: Path) -> str:
    return f"sqlite:///{Path(folder).resolve() / DB_FILE}"


def shown(url: str) -> str:
    """The URL without its password, for messages and files."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show it as given
        return url


def _driver_url(url: str):
    """The URL SQLAlchemy gets: postgresql:// goes through psycopg (3) unless psycopg2 is the one installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(
            f"--storage {url!r} is not a database URL; give e.g. postgresql://USER@HOST:5432/DB, or leave it out "
            "for SQLite in the study folder"
        ) from None
    if parsed.drivername in ("postgresql", "postgres") and importlib.util.find_spec("psycopg2") is None:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_storage(url: str):
    """An Optuna RDBStorage at `url` (tables made if new); UserError naming the URL when it cannot be reached."""
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    parsed = _driver_url(url)
    backend = parsed.get_backend_name()
    connect = {"connect_timeout": 5} if backend == "postgresql" else {"timeout": 60} if backend == "sqlite" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # heartbeat and the retry callback are marked experimental
        try:
            return optuna.storages.RDBStorage(
                parsed.render_as_string(hide_password=False),
                engine_kwargs={"connect_args": connect},
                heartbeat_interval=HEARTBEAT_S,
                grace_period=GRACE_S,
                **_retry_callback(optuna),
            )
        except (SQLAlchemyError, ImportError, ValueError, OSError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise UserError(
                f"cannot open the study database {shown(url)}: {reason[0] if reason else type(exc).__name__}; "
                "check the URL and that its server runs, or leave out --storage for SQLite in the study folder"
            ) from None


def _retry_callback(optuna) -> dict:
    """Optuna's own re-ask of a trial whose heartbeat stopped (renamed in Optuna 4.9)."""
    new = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if new is not None:
        return {"heartbeat_stale_trial_callback": new(max_retry=MAX_RETRIES)}
    return {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=MAX_RETRIES)}


def retry(study, trial) -> None:
    """Ask `trial` (failed: its process was killed or interrupted) again, with the same parameters."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        next(iter(_retry_callback(optuna).values()))(study, trial)
