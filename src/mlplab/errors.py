"""Errors a user can act on: the CLI prints them as one line and exits with their code."""


class UserError(Exception):
    """Bad input (config, data, paths): one clear line, exit code 2."""

    exit_code = 2


class RunFailed(Exception):
    """A run that started correctly but could not finish (NaN loss, diverged): exit code 1."""

    exit_code = 1
