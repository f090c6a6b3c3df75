"""What the benchmarks share: the seed notebook's DataLoader pipeline, the machine line, the compute floor."""

from __future__ import annotations

import itertools
import time

import torch
import torchvision
from torchvision import transforms

from mlplab.device import bf16_support, cpu_model

# torchvision class and the usual published per-dataset Normalize constants of the notebooks
TORCHVISION = {
    "mnist": (torchvision.datasets.MNIST, (0.1307,), (0.3081,)),
    "fashion-mnist": (torchvision.datasets.FashionMNIST, (0.2860,), (0.3530,)),
}


def machine_line() -> str:
    """CPU model, threads, torch version and which bf16 hardware there is: the first line of every table."""
    _, bf16 = bf16_support(torch.device("cpu"))
    return (
        f"CPU {cpu_model()} ({torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"capability {torch.backends.cpu.get_cpu_capability()}); bf16: {bf16}"
    )


def seed_pipeline(name: str, root: str, batch: int, workers: int = 0, seed: int = 0):
    """(train loader, test tensors) the notebook way: per-sample ToTensor + Normalize through a DataLoader,
    shuffled by a seeded generator. The test set is converted once (checks are not timed)."""
    cls, mean, std = TORCHVISION[name]
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    train = cls(root, train=True, download=False, transform=tf)
    test = cls(root, train=False, download=False, transform=tf)
    loader = torch.utils.data.DataLoader(
        train, batch_size=batch, shuffle=True, num_workers=workers, generator=torch.Generator().manual_seed(seed)
    )
    xt, yt = next(iter(torch.utils.data.DataLoader(test, batch_size=len(test))))
    return loader, (xt, yt)


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 4096) -> float:
    """Test accuracy in eval mode, fp32 (the training mode is restored after)."""
    was = model.training
    model.eval()
    correct = sum(int((model(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum()) for i in range(0, len(x), batch))
    model.train(was)
    return correct / len(x)


def training_flops(sizes: list[int], n: int) -> float:
    """Forward 2*W, weight gradients 2*W, input gradients 2*W for every layer but the first (per example)."""
    weights = [a * b for a, b in itertools.pairwise(sizes)]
    return n * (4 * sum(weights) + 2 * sum(weights[1:]))


def matmul_flops_per_second(
    shape: tuple[int, int, int] = (2048, 2048, 2048), repeats: int = 10, dtype: torch.dtype = torch.float32
) -> float:
    """The best FLOP/s of an (m, k) @ (k, n) matmul here, now."""
    m, k, n = shape
    a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * m * k * n / best


def floor_seconds(sizes: list[int], batch: int, n: int) -> tuple[float, float]:
    """(seconds, FLOP/s): a model's training FLOPs at the best fp32 matmul rate of its own layer shapes."""
    weights = list(itertools.pairwise(sizes))
    seconds = 0.0
    for i, (a, b) in enumerate(weights):
        # forward (batch, a) @ (a, b); weight gradient (a, batch) @ (batch, b); input gradient (batch, b) @ (b, a)
        shapes = [(batch, a, b), (a, batch, b)] + ([(batch, b, a)] if i else [])
        seconds += sum(2 * m * k * q / matmul_flops_per_second((m, k, q), repeats=20) for m, k, q in shapes)
    seconds *= n / batch
    return seconds, training_flops(sizes, n) / seconds
