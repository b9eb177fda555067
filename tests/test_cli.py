"""The ro-bench command line."""

from __future__ import annotations

import re

import algorithms
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
    for name in algorithms.list_algorithms():
        assert re.search(rf"^\s+{re.escape(name)}$", out, re.M)


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
