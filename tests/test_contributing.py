"""CONTRIBUTING.md's worked example runs as printed: the block is written into a package, found as
``module:Class``, trained through the harness, learns, logs its losses, and is described by
``--help`` with the shared fields' help."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from ro_bench import algorithms, harness, protocols  # noqa: E402
from ro_bench.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHORT = protocols.Protocol("test-contributing-max_of_two", 1, "max_of_two", budget=600,
                           eval_every=300, eval_episodes=50)


@pytest.fixture
def example(tmp_path, monkeypatch) -> str:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    code = re.search(r"```python\n# my_package/iddpg.py\n(.*?)```", text, re.S).group(1)
    package = tmp_path / "my_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "iddpg.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    if SHORT.name not in protocols.list():
        protocols.register(SHORT)
    yield "my_package.iddpg:IDDPG"
    for name in [m for m in sys.modules if m.startswith("my_package")]:
        del sys.modules[name]


def test_the_worked_example_trains_and_learns(example, tmp_path) -> None:
    result = harness.train(example, SHORT.name, 0, tmp_path / "a", progress=False)
    assert result.env_steps == SHORT.budget and result.decentralized
    assert math.isfinite(result.final_metric) and result.final_metric > result.curve[0][1]
    metrics = (harness.run_dir(tmp_path / "a", SHORT.name, example, 0) / "metrics.csv").read_text()
    assert "losses/critic" in metrics and "losses/actor" in metrics


def test_the_worked_example_is_described_with_the_shared_help(example, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--algo", example, "--help"])
    out = capsys.readouterr().out
    assert "actor_lr (float, default 0.001): Adam learning rate of the actors" in out
    assert "gamma (float, default 0.95): discount" in out
    assert algorithms.get(example)[0].__name__ == "IDDPG"
