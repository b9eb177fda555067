"""The ro-bench command line."""

from __future__ import annotations

import re

from ro_bench import algorithms
import ro_bench
from ro_bench import protocols
from ro_bench.cli import main


def test_list_prints_every_env(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for env_id in ro_bench.list_envs():
        assert re.search(rf"^\s+{re.escape(env_id)}\s", out, re.M)
    for name in protocols.list():
        assert re.search(rf"^\s+{re.escape(name)}\s", out, re.M)
    for name, entry_point in algorithms.entry_points().items():
        assert re.search(rf"^\s+{re.escape(name)}\s+{re.escape(entry_point)}$", out, re.M)


def test_play_prints_rewards_of_random_episodes(capsys):
    assert main(["play", "max_of_three", "--kwarg", "s2=2.0", "--episodes", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "optimum 10, RO trap 0" in out
    rewards = [float(r) for r in re.findall(r"team reward (-?[\d.]+)", out)]
    returns = [float(r) for r in re.findall(r"return (-?[\d.]+)", out)]
    assert len(rewards) == 2 and returns == rewards  # one-step episodes
    assert main(["play", "max_of_three", "--kwarg", "s2=2.0", "--episodes", "2", "--seed", "3"]) == 0
    assert capsys.readouterr().out == out  # seeded: the same episodes again


def test_play_repeated_game(capsys):
    assert main(["play", "climbing", "--kwarg", "episode_length=4"]) == 0
    assert len(re.findall(r"team reward", capsys.readouterr().out)) == 4


def test_errors_are_reported_not_raised(capsys):
    assert main(["play", "max_of_thre"]) == 2
    assert "Did you mean 'max_of_three'" in capsys.readouterr().err
    assert main(["play", "max_of_three", "--kwarg", "s2=-1"]) == 2
    assert "s2 must be" in capsys.readouterr().err
    assert main(["play", "max_of_three", "--kwarg", "s2"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_sweep_s2_runs_each_width_and_prints_the_curve(tmp_path, capsys):
    args = ["sweep-s2", "--algo", "fixed", "--s2", "1.5,3.0", "--seeds", "0-1", "--out",
            str(tmp_path), "--config", "actions=[7,7,-4]"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"s2 1\.5 +final metric +10\.0000", out)
    assert re.search(r"s2 3 +final metric +10\.0000", out)
    for s2 in ("1.5", "3.0"):
        for seed in (0, 1):
            assert (tmp_path / f"max_of_three-s2={s2}" / "fixed" / f"seed_{seed}" /
                    "result.json").is_file()


def test_sweep_s2_rejects_an_unregistered_width(tmp_path, capsys):
    assert main(["sweep-s2", "--algo", "random", "--s2", "1.7", "--out", str(tmp_path)]) == 2
    assert "max_of_three-s2=1.7" in capsys.readouterr().err
