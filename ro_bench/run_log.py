"""What a training run writes as it goes, beside its checkpoints: the evaluation curve and the
agent's update metrics, as CSV files and TensorBoard scalars (when tensorboard is installed).

- ``curve.csv``: ``env_steps, metric, episode_return``, one row per evaluation point.
- ``metrics.csv``: ``env_steps, name, value``, the mean of each metric that ``update()`` returned
  over a window of env steps: ``budget / METRIC_ROWS`` steps, cut at every evaluation point too,
  so that a resumed run writes the same rows as one that was never stopped.
- ``tensorboard/``: ``eval/metric``, ``eval/episode_return`` and every metric under its own name
  (``losses/critic``, ``charts/alpha``, ...; a name without a group goes under ``train/``).

On resume both files are rewritten up to the checkpoint's step, so no row is lost or repeated.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

METRIC_ROWS = 200  # metric windows per run


class RunLog:
    """The logs of the run in ``directory``, continuing from ``steps`` env steps and the
    evaluations ``curve`` (``[[steps, metric], ...]``) and ``returns`` already done."""

    def __init__(self, directory: Path, budget: int, steps: int, curve: list,
                 returns: list) -> None:
        self.window = max(1, budget // METRIC_ROWS)
        self.curve_file = open(directory / "curve.csv", "w", newline="")
        self.curve = csv.writer(self.curve_file)
        self.curve.writerow(["env_steps", "metric", "episode_return"])
        for (done, metric), episode_return in zip(curve, returns):
            self.curve.writerow([done, repr(metric), repr(episode_return)])
        self.curve_file.flush()
        kept = _rows_until(directory / "metrics.csv", steps)
        self.metrics_file = open(directory / "metrics.csv", "w", newline="")
        self.metrics = csv.writer(self.metrics_file)
        self.metrics.writerows([["env_steps", "name", "value"], *kept])
        self.metrics_file.flush()
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.steps = steps
        self.tensorboard = _tensorboard_writer(directory, steps)

    def update(self, steps: int, metrics: dict[str, Any]) -> None:
        """Add the metrics of the updates done by ``steps`` env steps; write a window's means
        when ``steps`` ends one."""
        for name, value in metrics.items():
            try:
                self.sums[name] += float(value)
            except (TypeError, ValueError):
                raise ValueError(f"update() returned metric {name!r} = {value!r}: metrics must be "
                                 "numbers") from None
            self.counts[name] += 1
        if steps // self.window > self.steps // self.window:
            self.flush(steps)
        self.steps = steps

    def flush(self, steps: int) -> None:
        """Write the means of the window that ends at ``steps``."""
        for name in sorted(self.sums):
            mean = self.sums[name] / self.counts[name]
            self.metrics.writerow([steps, name, repr(mean)])
            if self.tensorboard is not None and math.isfinite(mean):
                self.tensorboard.add_scalar(name if "/" in name else f"train/{name}", mean, steps)
        self.metrics_file.flush()
        self.sums.clear()
        self.counts.clear()
        self.steps = steps

    def evaluation(self, steps: int, metric: float, episode_return: float) -> None:
        """An evaluation point: its row of the curve; it also ends the metrics' window."""
        self.flush(steps)
        self.curve.writerow([steps, repr(metric), repr(episode_return)])
        self.curve_file.flush()
        if self.tensorboard is not None:
            self.tensorboard.add_scalar("eval/metric", metric, steps)
            self.tensorboard.add_scalar("eval/episode_return", episode_return, steps)
            self.tensorboard.flush()

    def close(self) -> None:
        self.curve_file.close()
        self.metrics_file.close()
        if self.tensorboard is not None:
            self.tensorboard.close()


def _rows_until(path: Path, steps: int) -> list[list[str]]:
    """The rows of an earlier ``metrics.csv`` up to ``steps`` env steps (none on a fresh start)."""
    if steps == 0 or not path.is_file():
        return []
    with open(path, newline="") as file:
        rows = list(csv.reader(file))[1:]
    return [row for row in rows if len(row) == 3 and row[0].isdigit() and int(row[0]) <= steps]


def _tensorboard_writer(directory: Path, steps: int) -> Any:
    """A SummaryWriter, or None without tensorboard; on resume it hides what an earlier process
    wrote after the checkpoint at ``steps``."""
    try:
        import tensorboard  # noqa: F401  (SummaryWriter needs it)
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(directory / "tensorboard"), purge_step=steps + 1 if steps else None)
