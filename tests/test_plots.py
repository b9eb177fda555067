"""The paper's figures: each function writes a readable PNG, and ``ro-bench plot`` writes them."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import ro_bench
from ro_bench import algorithms, harness, plots, protocols
from ro_bench.cli import main

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SEVERITY = ("max_of_three-s2=1.5", "max_of_three-s2=3.0")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two seeds of ``random`` on two Max of Three protocols, written under ``out``."""
    out = tmp_path_factory.mktemp("runs")
    results = [harness.train("random", protocol, seed, out, progress=False)
               for protocol in SEVERITY for seed in (0, 1)]
    return out, results


def with_samples(result, records, **changes):
    """``result`` with ``action_samples`` (and ``changes``): the RunResult field when it has one,
    else a stand-in with the same attributes."""
    try:
        return dataclasses.replace(result, action_samples=tuple(records), **changes)
    except TypeError:
        values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
        return SimpleNamespace(**{**values, **changes}, action_samples=tuple(records))


def sample_records(protocol: str, steps=(0, 250, 500, 750, 1000, 1250, 1500, 1750), n=200):
    """Joint actions that move from the first mode to the second over training."""
    spec = protocols.get(protocol)
    game = ro_bench.make_vec(spec.env_id, 1, **spec.env_kwargs)
    rng = np.random.default_rng(0)
    records = []
    for k, step in enumerate(steps):
        second = rng.random(n) < k / (len(steps) - 1)
        u = np.where(second[:, None], *reversed(game.modes)) + rng.normal(0, 1.0, (n, 3))
        u = np.clip(u, -game.action_bound, game.action_bound)
        records.append({"env_steps": step, "actions": u.tolist(),
                        "rewards": game.payoff(u[..., None]).tolist()})
    return records


def assert_png(path):
    """A PNG file whose pixels are not all the same."""
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = imread(path)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100
    assert pixels[..., :3].var() > 0


def test_learning_curves(runs, tmp_path):
    _, results = runs
    by_algo = {"random": [r for r in results if r.protocol == SEVERITY[0]]}
    path = plots.learning_curves(by_algo, SEVERITY[0], tmp_path / "curves.png")
    assert path == tmp_path / "curves.png"
    assert_png(path)
    again = plots.learning_curves(by_algo, SEVERITY[0], tmp_path / "again.png")
    assert again.read_bytes() == path.read_bytes()  # deterministic: no version, no timestamp


def test_learning_curves_align_seeds_on_their_shared_steps(runs):
    _, results = runs
    a, b = (r for r in results if r.protocol == SEVERITY[0])
    shorter = SimpleNamespace(protocol=a.protocol, curve=a.curve[::2])
    steps, mean, std = plots._curve_stats("random", a.protocol, [shorter, b])
    assert steps.tolist() == [s for s, _ in a.curve[::2]]
    pairs = np.array([[dict(r.curve)[s] for s in steps] for r in (a, b)])
    np.testing.assert_allclose(mean, pairs.mean(axis=0))
    np.testing.assert_allclose(std, pairs.std(axis=0))


def test_learning_curves_refuse_runs_of_another_protocol(runs, tmp_path):
    _, results = runs
    with pytest.raises(ValueError, match="max_of_three-s2=3.0 given for max_of_three-s2=1.5"):
        plots.learning_curves({"random": results}, SEVERITY[0], tmp_path / "x.png")


def test_joint_action_samples(runs, tmp_path):
    result = with_samples(runs[1][0], sample_records(SEVERITY[0]))
    assert_png(plots.joint_action_samples(result, tmp_path / "samples.png"))


def test_samples_panels_are_evenly_spaced_and_end_at_the_last():
    assert plots._evenly_spaced(8, 6) == [0, 1, 3, 4, 6, 7]
    assert plots._evenly_spaced(21, 6) == [0, 4, 8, 12, 16, 20]
    assert plots._evenly_spaced(2, 6) == [0, 1]


def test_perceived_density(runs, tmp_path):
    result = with_samples(runs[1][0], sample_records("two_modalities"), protocol="two_modalities")
    assert_png(plots.perceived_density(result, tmp_path / "density.png"))


@pytest.mark.parametrize("draw", [plots.joint_action_samples, plots.perceived_density])
def test_plots_of_samples_need_recorded_samples(runs, tmp_path, draw):
    with pytest.raises(ValueError, match=r"no action samples: re-run with --record-samples N"):
        draw(runs[1][0], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_severity_points_read_s2_from_the_protocol(runs):
    _, results = runs
    points = plots.severity_points(results)
    assert list(points) == ["random"]
    assert [s2 for s2, _ in points["random"]] == [1.5, 3.0]
    for s2, finals in points["random"]:
        expected = [r.final_metric for r in results if r.protocol == f"max_of_three-s2={s2}"]
        assert finals == expected


def test_severity_points_need_max_of_three_runs():
    other = SimpleNamespace(protocol="climbing", algorithm="random", final_metric=0.0)
    with pytest.raises(ValueError, match="max_of_three.*got protocols: climbing"):
        plots.severity_points([other])


def test_ro_severity(tmp_path):
    points = {"a": [(1.5, [0.0, 0.1, -0.1]), (3.0, [9.9, 10.0])], "b": [(1.5, [9.8]), (2.0, [9.9])]}
    assert_png(plots.ro_severity(points, tmp_path / "severity.png", optimum=10.0, trap=0.0))


def test_styles_tell_every_algorithm_apart_and_keep_it_across_figures():
    zoo = algorithms.names()
    names = [*zoo, "my_method", "other:Agent", "svnr+tuned"]
    look = plots.styles(names)
    pairs = [(look[n]["color"], look[n]["marker"]) for n in names if not n.endswith("+tuned")]
    assert len(zoo) > len(plots.COLOURS) and len(set(pairs)) == len(pairs)
    assert plots.styles(["mmq", "svnr"])["svnr"] == look["svnr"]  # the same in a smaller figure
    tuned = look["svnr+tuned"]
    assert (tuned["color"], tuned["marker"]) == (look["svnr"]["color"], look["svnr"]["marker"])
    assert tuned["linestyle"] == "--" and "linestyle" not in look["svnr"]


def test_figures_with_many_algorithms_put_the_legend_beside_the_axes(runs, tmp_path):
    from matplotlib.image import imread

    _, results = runs
    few = {"random": [r for r in results if r.protocol == SEVERITY[0]]}
    many = few | {f"method_{k}": few["random"] for k in range(plots.LEGEND_INSIDE)}
    narrow = imread(plots.learning_curves(few, SEVERITY[0], tmp_path / "few.png"))
    wide = imread(plots.learning_curves(many, SEVERITY[0], tmp_path / "many.png"))
    assert wide.shape[1] > narrow.shape[1] and wide.shape[0] == narrow.shape[0]
    points = {name: [(1.5, [0.0]), (3.0, [1.0])] for name in many}
    assert_png(plots.ro_severity(points, tmp_path / "severity.png"))


def test_cli_plots_curves_and_severity(runs, tmp_path, capsys):
    out, _ = runs
    assert main(["plot", "curves", "--runs", str(out), "--out", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert sorted(written) == sorted(str(tmp_path / f"curves_{p}.png") for p in SEVERITY)
    assert main(["plot", "severity", "--runs", str(out / SEVERITY[0]),
                 str(out / SEVERITY[1] / "random" / "seed_0" / "result.json"),
                 "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "ro_severity.png")]
    for path in [*map(Path, written), tmp_path / "ro_severity.png"]:
        assert_png(path)


def test_cli_plots_recorded_samples(tmp_path, capsys):
    harness.train("random", "two_modalities", 0, tmp_path / "runs", progress=False,
                  record_samples=50)
    for kind in ("samples", "density"):
        assert main(["plot", kind, "--runs", str(tmp_path / "runs"), "--out",
                     str(tmp_path)]) == 0
        written = capsys.readouterr().out.split()
        assert written == [str(tmp_path / f"{kind}_two_modalities_random_seed_0.png")]
        assert_png(Path(written[0]))


def test_cli_reports_plot_errors(runs, tmp_path, capsys):
    out, _ = runs
    assert main(["plot", "samples", "--runs", str(out), "--out", str(tmp_path)]) == 2
    assert "none of the 4 runs has action samples" in capsys.readouterr().err
    assert main(["plot", "curves", "--runs", str(tmp_path / "missing"), "--out", "x"]) == 2
    assert re.search(r"missing: no such file or directory", capsys.readouterr().err)
    result = out / SEVERITY[0] / "random" / "seed_0" / "result.json"
    assert main(["plot", "curves", "--runs", str(result), str(result.parent.parent),
                 "--out", str(tmp_path)]) == 0  # the same file twice counts once
    capsys.readouterr()
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "seed_0.json").write_bytes(result.read_bytes())
    assert main(["plot", "curves", "--runs", str(result), str(tmp_path / "copy"),
                 "--out", str(tmp_path)]) == 2
    assert "two results of random on max_of_three-s2=1.5, seed 0" in capsys.readouterr().err


def test_missing_matplotlib_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails as if missing
    with pytest.raises(ro_bench.MissingDependencyError, match=r"pip install 'ro-bench\[board\]'"):
        plots.ro_severity({"a": [(1.5, [0.0])]}, tmp_path / "severity.png")


def test_shared_references_are_the_protocols_optimum_and_trap(runs):
    _, results = runs
    assert plots.shared_references(results) == (10.0, 0.0)
    lifted = SimpleNamespace(protocol="max_of_three-s2=7.0")  # not registered: no references
    assert plots.shared_references([*results, lifted]) == (None, None)
