"""Tuning: `mlplab tune` searches a space with Optuna (TPE and a pruner) on a study database, runs every trial
as an ordinary run folder, and ends with the best configuration against the defaults over fresh seeds."""
