"""Errors a user can act on: the CLI prints them as one line and exits with their code."""


class UserError(Exception):
    """Bad input (config, data, paths): one clear line, exit code 2."""

    exit_code = 2


class RunFailed(Exception):
    """A run that started correctly but could not finish (NaN loss, diverged): exit code 1."""

    exit_code = 1


class DamagedFile(UserError):
    """A file in a run folder that exists but cannot be read (torn, truncated, not UTF-8, wrong format)."""

    def __init__(self, path, problem: str):
        self.path, self.problem = path, problem
        super().__init__(
            f"{path} is damaged ({problem}); restore it from a copy, or delete it and rebuild "
            "what you can with `mlplab report`"
        )


class RunLocked(UserError):
    """Another live process is writing the same run folder."""


def shown(value: object, limit: int = 80, quote: bool = True) -> str:
    """`repr(value)` (or `str` with quote=False) for a one-line message: at most `limit` characters, no
    line breaks, so a hostile or huge value can neither flood nor split the line that names it."""
    try:
        text = repr(value) if quote else str(value)
    except Exception:  # a value whose repr fails is still named
        text = f"<{type(value).__name__}>"
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 5] + "[...]"
