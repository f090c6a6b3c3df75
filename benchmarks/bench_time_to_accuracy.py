"""Time to accuracy: seconds of training until test accuracy first reaches a target, three ways, in one run.

  seed recipe, DataLoader   the seed notebook: 784-1024-2048-256-10, batch 2048, Adam 1e-3, torchvision dataset
                            with per-sample ToTensor + Normalize through a DataLoader
  seed recipe, mlplab       the same model, batch, optimizer and lr on mlplab's Trainer (resident tensors)
  mlplab preset=fast        `mlplab run classify preset=fast`'s recipe (mlplab.experiments.classify.FAST), built by
                            the same code as that command: build_classifier + Trainer.from_config

Test accuracy is checked after every epoch (the checks are not timed: the clock stops for them). Each contestant
trains once per dataset and every target of that dataset is read off the same run. The ratio column is the seed
recipe's DataLoader time over each contestant's, for the same target, in this run.

    python benchmarks/bench_time_to_accuracy.py --data ../shared/data [--quick] [--max-epochs 30]
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import accuracy, machine_line, seed_pipeline  # noqa: E402

from mlplab.data import load_dataset  # noqa: E402
from mlplab.experiments.classify import FAST, ClassifyConfig  # noqa: E402
from mlplab.nn import MLPClassifier  # noqa: E402
from mlplab.train import Trainer  # noqa: E402
from mlplab.train.classifier import build_classifier  # noqa: E402

TARGETS = {"mnist": (0.98, 0.985), "fashion-mnist": (0.90,)}
SEED_HIDDEN, SEED_BATCH, SEED_LR = [1024, 2048, 256], 2048, 1e-3


@dataclass
class Race:
    """One contestant's run on one dataset: test accuracy and cumulative training seconds after each check."""

    name: str
    accuracies: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def record(self, acc: float, seconds: float) -> None:
        self.accuracies.append(acc)
        self.seconds.append(seconds)

    def reached(self, target: float) -> tuple[int, float] | None:
        """(epochs, seconds of training) at the first check at or above `target`; None if never."""
        for i, (a, s) in enumerate(zip(self.accuracies, self.seconds)):
            if a >= target:
                return i + 1, s
        return None


def seed_dataloader(name: str, root: str, targets: tuple[float, ...], max_epochs: int) -> Race:
    loader, (xt, yt) = seed_pipeline(name, root, SEED_BATCH)
    torch.manual_seed(0)
    model = MLPClassifier(784, SEED_HIDDEN, 10).net
    opt = torch.optim.Adam(model.parameters(), lr=SEED_LR)
    loss_fn = nn.CrossEntropyLoss()
    race, total = Race("seed recipe, DataLoader"), 0.0
    for _ in range(max_epochs):
        t0 = time.perf_counter()
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        total += time.perf_counter() - t0
        race.record(accuracy(model, xt, yt), total)
        if race.reached(max(targets)):
            break
    return race


def on_trainer(race: Race, name: str, root: str, cfg: ClassifyConfig, model: nn.Module,
               targets: tuple[float, ...], max_epochs: int | None = None) -> Race:
    """Train `model` with the Trainer of `cfg`, checking test accuracy after each epoch (not timed)."""
    ds = load_dataset(name, data_dir=root, val_size=0, download=False)
    trainer = Trainer.from_config(model, cfg, generator=torch.Generator().manual_seed(cfg.seed), progress=False,
                                  print_rows=False, epochs=max_epochs)
    total = 0.0

    def check(trainer: Trainer, row: dict) -> None:
        nonlocal total
        total += row["epoch_seconds"]
        race.record(accuracy(trainer.model, ds.test.x, ds.test.y), total)
        trainer.stop_requested = race.reached(max(targets)) is not None

    trainer.callbacks.append(check)
    trainer.fit(ds.train, None)
    return race


def seed_mlplab(name: str, root: str, targets: tuple[float, ...], max_epochs: int) -> Race:
    cfg = ClassifyConfig(dataset=name, hidden=SEED_HIDDEN, batch_size=SEED_BATCH, lr=SEED_LR, optimizer="adam",
                         schedule="none", dropout=0.0, epochs=max_epochs)
    torch.manual_seed(0)
    model = build_classifier(cfg, 784, 10)
    return on_trainer(Race("seed recipe, mlplab"), name, root, cfg, model, targets)


def fast_preset(name: str, root: str, target: float, epochs: int) -> Race:
    """preset=fast with `epochs` (its schedule is planned for that many)."""
    cfg = replace(ClassifyConfig(dataset=name, preset="fast"), **FAST, epochs=epochs)
    torch.manual_seed(cfg.seed)
    model = build_classifier(cfg, 784, 10)
    return on_trainer(Race(f"mlplab preset=fast, epochs={epochs}"), name, root, cfg, model, (target,))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 epochs of the seed recipes, MNIST 98.0%% only")
    p.add_argument("--max-epochs", type=int, default=30, help="the seed recipes give up after this many epochs")
    args = p.parse_args()
    targets = {"mnist": (0.98,)} if args.quick else TARGETS
    max_epochs = 2 if args.quick else args.max_epochs
    print(machine_line())
    print(f"preset=fast: {FAST}")
    for name, goals in targets.items():
        races = [seed_dataloader(name, args.data, goals, max_epochs), seed_mlplab(name, args.data, goals, max_epochs)]
        fast = {goal: fast_preset(name, args.data, goal, FAST_EPOCHS[(name, goal)]) for goal in goals}
        for goal in goals:
            print(f"\n{name} to {100 * goal:.1f}% test accuracy (seconds of training; checks after every epoch, "
                  f"not timed)")
            print(f"  {'contestant':34s} {'epochs':>6s} {'seconds':>8s} {'vs DataLoader':>14s}  test accuracy per epoch")
            base = races[0].reached(goal)
            for race in (*races, fast[goal]):
                hit = race.reached(goal)
                curve = " ".join(f"{100 * a:.2f}" for a in race.accuracies)
                if hit is None:
                    print(f"  {race.name:34s} {'-':>6s} {'-':>8s} {'not reached':>14s}  {curve} "
                          f"({race.seconds[-1]:.1f} s in all)")
                    continue
                ratio = f"{base[1] / hit[1]:.1f}x sooner" if base else f">{race.seconds[-1] and races[0].seconds[-1] / hit[1]:.1f}x sooner"
                print(f"  {race.name:34s} {hit[0]:6d} {hit[1]:8.2f} {ratio:>14s}  {curve}")


# the budget (epochs) preset=fast is planned for, per (dataset, target): its schedule anneals over these
FAST_EPOCHS = {("mnist", 0.98): FAST["epochs"], ("mnist", 0.985): 12, ("fashion-mnist", 0.90): 12}

if __name__ == "__main__":
    main()
