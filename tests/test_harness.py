"""The harness: budget, evaluation, determinism, resume after SIGKILL, decentralization, errors."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ro_bench import algorithms
from ro_bench.agents import EnvSpaces  # noqa: E402
from harness_doubles import (SMALL, SMALL_GAME, SMALL_MUJOCO, SPARSE_CHECKPOINTS, UNSCORABLE,
                             Centralized, Spy, register_small_protocol)
from ro_bench import diagnostics, harness, protocols
from ro_bench.cli import main
from ro_bench.evaluation import is_decentralized
from ro_bench.results import RunResult, RunResultError

TESTS = Path(__file__).parent
NUMBERS = ("curve", "final_metric", "final_return", "success", "decentralized", "env_steps",
           "config", "config_hash", "seed", "protocol", "protocol_version", "algorithm",
           "diagnostics", "action_samples", "returns", "episode_returns")


@pytest.fixture(autouse=True)
def small_protocol():
    register_small_protocol()


def numbers(result: RunResult) -> dict:
    return {name: getattr(result, name) for name in NUMBERS}


def test_budget_is_honoured_exactly_and_evaluation_uses_separate_envs(tmp_path):
    Spy.calls = []
    result = harness.train("harness_doubles:Spy", SMALL.name, 0, tmp_path, progress=False)
    acts = [c for c in Spy.calls if c[0] == "act"]
    train_acts = [c for c in acts if c[1]]
    eval_acts = [c for c in acts if not c[1]]
    observed = [c[1] for c in Spy.calls if c[0] == "observe"]
    assert len(train_acts) == len(observed) == SMALL.budget == result.env_steps
    assert sum(1 for c in Spy.calls if c[0] == "update") == SMALL.budget
    assert all(len(c[2]) == SMALL.num_envs for c in train_acts)
    # Evaluation: explore=False, on a batch of eval_episodes envs: 25 steps per evaluation, then
    # the decentralization check's calls (one reference, one per agent, on copies of the agent).
    assert len(eval_acts) == (25 + 1 + 4) * len(SMALL.eval_points())
    assert all(len(c[2]) == SMALL.eval_episodes for c in eval_acts)
    # The training env never moved during evaluations: each transition continues the last one.
    for before, after in zip(observed, observed[1:]):
        if not (before.terminated.any() or before.truncated.any()):
            np.testing.assert_array_equal(before.next_obs, after.obs)
    assert [p for p, _ in result.curve] == SMALL.eval_points()


def test_same_seed_same_numbers(tmp_path):
    first = harness.train("random", SMALL.name, 5, tmp_path / "a", progress=False)
    second = harness.train("random", SMALL.name, 5, tmp_path / "b", progress=False)
    other = harness.train("random", SMALL.name, 6, tmp_path / "c", progress=False)
    assert numbers(first) == numbers(second)
    assert first.curve != other.curve


# Particle Gather's case is slow (about 20 s); the Max of Three case runs in every CI.
@pytest.mark.parametrize("protocol, record", [
    pytest.param(SMALL, 0, id="particle_gather", marks=pytest.mark.slow),
    pytest.param(SMALL_GAME, 20, id="max_of_three-record_samples")])
def test_killed_run_resumes_to_the_same_numbers(tmp_path, protocol, record):
    script = [sys.executable, str(TESTS / "harness_doubles.py")]
    flags = ["--record-samples", str(record)] if record else []
    # The doubles, then whatever ro-bench this process tests (a source tree on PYTHONPATH).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, (str(TESTS), os.environ.get("PYTHONPATH"))))}
    run = harness.run_dir(tmp_path / "killed", protocol.name, "harness_doubles:SlowRandom", 3)
    latest = run / "checkpoints" / "LATEST"
    process = subprocess.Popen(script + [str(tmp_path / "killed")] + flags, env=env)
    deadline = time.monotonic() + 60
    while not (latest.exists() and latest.read_text().strip() >= "step_000000000500"):
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (run / "result.json").exists()  # killed mid-run
    subprocess.run(script + [str(tmp_path / "killed"), "--resume"] + flags, env=env, check=True)
    subprocess.run(script + [str(tmp_path / "whole")] + flags, env=env, check=True)
    whole = harness.run_dir(tmp_path / "whole", protocol.name, "harness_doubles:SlowRandom", 3)
    resumed, uninterrupted = (RunResult.read(d / "result.json") for d in (run, whole))
    assert numbers(resumed) == numbers(uninterrupted)
    csv_rows = (run / "curve.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + len(protocol.eval_points())  # the curve has no duplicated rows
    # The update metrics: the rows the killed run wrote after its checkpoint were dropped.
    assert (run / "metrics.csv").read_text() == (whole / "metrics.csv").read_text()
    # Samples recorded before the kill survived it, once each.
    assert [r["env_steps"] for r in resumed.action_samples] == (
        protocol.eval_points() if record else [])


def test_update_metrics_are_logged_as_window_means(tmp_path):
    import csv

    harness.train("harness_doubles:Counting", SMALL.name, 0, tmp_path, progress=False)
    run = harness.run_dir(tmp_path, SMALL.name, "harness_doubles:Counting", 0)
    with open(run / "metrics.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    updates = [(int(r["env_steps"]), float(r["value"])) for r in rows
               if r["name"] == "charts/updates"]
    steps = [s for s, _ in updates]
    assert steps == sorted(set(steps)) and steps[-1] == SMALL.budget
    assert set(SMALL.eval_points()) - {0} <= set(steps)  # every evaluation ends a window
    assert max(b - a for a, b in zip([0, *steps], steps)) == SMALL.budget // 200
    # update k reports k (one update per env step here): a window (a, b] has mean (a + 1 + b) / 2
    assert all(value == (a + 1 + b) / 2 for a, (b, value) in zip([0, *steps], updates))
    assert {r["name"] for r in rows} == {"charts/updates", "calls"}
    if importlib.util.find_spec("tensorboard") is not None:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        events = EventAccumulator(str(run / "tensorboard"))
        events.Reload()
        assert {"charts/updates", "train/calls", "eval/metric"} <= set(events.Tags()["scalars"])
        assert [e.step for e in events.Scalars("charts/updates")] == steps


def test_decentralization_check():
    import ro_bench

    vec = ro_bench.make_vec("particle_gather", 8)
    obs, _ = vec.reset(seed=0)
    spaces = EnvSpaces.from_vec(vec)
    random_agent = algorithms.get("random")[0](algorithms.get("random")[1](), spaces, 0)
    centralized = Centralized(algorithms.get("random")[1](), spaces, 0)
    assert is_decentralized(random_agent, obs, np.random.default_rng(0))
    assert not is_decentralized(centralized, obs, np.random.default_rng(0))


def test_centralized_double_is_recorded_in_the_run_result(tmp_path):
    result = harness.train("harness_doubles:Centralized", SMALL.name, 0, tmp_path, progress=False)
    assert result.decentralized is False
    assert harness.train("random", SMALL.name, 0, tmp_path, progress=False).decentralized


def test_fixed_agent_scores_the_optimum_of_max_of_three(tmp_path, capsys):
    argv = ["evaluate", "--algo", "fixed", "--protocol", "max_of_three-s2=1.5", "--seeds", "0-1",
            "--out", str(tmp_path), "--config", "actions=[7,7,-4]"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "final metric 10.0000 +- 0.0000" in out and "successes 2/2" in out
    result = RunResult.read(harness.run_dir(tmp_path, "max_of_three-s2=1.5", "fixed", 1)
                            / "result.json")
    assert result.final_metric == 10.0 and result.success and result.env_steps == 5000
    assert result.command[:4] == ("ro-bench", "train", "--algo", "fixed")


def test_evaluate_with_workers_writes_valid_results(tmp_path, capsys):
    argv = ["evaluate", "--algo", "random", "--protocol", "max_of_two", "--seeds", "0-2",
            "--workers", "2", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "successes 0/3" in capsys.readouterr().out
    for seed in range(3):
        RunResult.read(harness.run_dir(tmp_path, "max_of_two", "random", seed) / "result.json")


@pytest.mark.parametrize(
    "config, message",
    [
        (["actoins=[1,2,3]"], r"no field 'actoins'\. Did you mean 'actions'\? Valid keys: actions"),
        (["actions='x'"], r"actions must be of type tuple\[float, \.\.\.\]"),
        (["actions=[1,2]"], r"fixed needs --config actions=\[\.\.\.\] with 3 numbers"),
    ],
)
def test_bad_config_overrides_are_rejected(tmp_path, capsys, config, message):
    argv = ["train", "--algo", "fixed", "--protocol", "max_of_three-s2=1.5", "--seed", "0",
            "--out", str(tmp_path)] + [w for c in config for w in ("--config", c)]
    assert main(argv) == 2
    import re

    assert re.search(message, capsys.readouterr().err)


def test_unknown_algorithm_and_protocol(tmp_path, capsys):
    base = ["train", "--seed", "0", "--out", str(tmp_path)]
    assert main(base + ["--algo", "randm", "--protocol", "max_of_two"]) == 2
    assert "Did you mean 'random'" in capsys.readouterr().err
    assert main(base + ["--algo", "random", "--protocol", "max_of_too"]) == 2
    assert "Did you mean 'max_of_two'" in capsys.readouterr().err
    assert main(base + ["--algo", "nowhere:Agent", "--protocol", "max_of_two"]) == 2
    assert "cannot load algorithm 'nowhere:Agent'" in capsys.readouterr().err


def test_external_algorithm_through_module_class(tmp_path):
    agent_cls, config_cls = algorithms.get("harness_doubles:SlowRandom")
    assert agent_cls.__name__ == "SlowRandom" and config_cls().delay == 0.002
    result = harness.train("harness_doubles:SlowRandom", SMALL.name, 1, tmp_path,
                           {"delay": 0.0}, progress=False)
    assert result.config == {"delay": 0.0} and result.algorithm == "harness_doubles:SlowRandom"


def test_malformed_run_result_is_rejected(tmp_path):
    result = harness.train("random", SMALL.name, 0, tmp_path, progress=False)
    document = json.loads(result.to_json())
    document["final_metric"] = "high"
    with pytest.raises(RunResultError, match="final_metric"):
        RunResult.from_json(json.dumps(document))
    del document["final_metric"]
    with pytest.raises(RunResultError, match="final_metric"):
        RunResult.from_json(json.dumps(document))


def test_protocol_numbers():
    p = protocols.get("particle_gather")
    assert (p.budget, p.eval_episodes, p.seeds) == (125_000, 100, (0, 1, 2, 3, 4))
    assert (p.optimum, p.trap, p.success_threshold) == (5.0, 0.0, 2.5)
    for name in ("max_of_three-s2=1.5", "max_of_three-s2=2.0", "max_of_three-s2=3.0",
                 "two_modalities", "max_of_two", "climbing", "penalty-k=-100"):
        q = protocols.get(name)
        assert (q.budget, q.eval_episodes, q.seeds) == (5000, 1000, (0, 1, 2, 3, 4))
    assert protocols.get("max_of_three-s2=2.0").env_kwargs == {"s2": 2.0}
    for name in protocols.list():  # the protocols before MaMuJoCo's are unchanged
        q = protocols.get(name)
        if not name.startswith(("mamujoco", "test-")):
            assert (q.final_episodes, q.checkpoint_every, q.has_success, q.version) == (
                q.eval_episodes, None, True, 2 if name in ("climbing", "penalty-k=-100") else 1)
    assert dataclasses.is_dataclass(p)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.budget = 1
    with pytest.raises(ValueError, match="Did you mean 'particle_gather'"):
        protocols.get("particle_gathr")


def test_external_algorithm_through_an_entry_point(monkeypatch, tmp_path):
    from importlib import metadata

    from ro_bench import algorithms as registry

    plugin = metadata.EntryPoint("slow-plugin", "harness_doubles:SlowRandom", registry.ENTRY_POINT_GROUP)
    installed = metadata.EntryPoints([plugin])

    def entry_points(group=None, name=None):
        found = installed.select(group=group) if group else installed
        return found.select(name=name) if name else found

    monkeypatch.setattr(registry.metadata, "entry_points", entry_points)
    assert "slow-plugin" in algorithms.names()
    assert algorithms.get("slow-plugin")[0].__name__ == "SlowRandom"
    result = harness.train("slow-plugin", SMALL.name, 2, tmp_path, {"delay": 0.0}, progress=False)
    assert result.algorithm == "slow-plugin"


def test_load_agent_restores_the_trained_agent(tmp_path):
    result = harness.train("random", SMALL.name, 4, tmp_path, progress=False)
    agent, env, loaded = harness.load_agent(harness.run_dir(tmp_path, SMALL.name, "random", 4))
    assert loaded == result and env.num_envs == 1
    obs, _ = env.reset(seed=0)
    # The random agent's generator continues from where training left it, so two loads agree.
    again, _, _ = harness.load_agent(harness.run_dir(tmp_path, SMALL.name, "random", 4))
    np.testing.assert_array_equal(agent.act(obs, explore=True), again.act(obs, explore=True))


def test_diagnose_reports_basin_shares(tmp_path, capsys):
    harness.train("fixed", "two_modalities", 0, tmp_path, {"actions": [7.0, 7.0, -3.0]},
                  progress=False)
    run = harness.run_dir(tmp_path, "two_modalities", "fixed", 0)
    assert main(["diagnose", "--run", str(run), "--samples", "50", "--alpha", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "ERO gap 0.0000 (per agent 0.0000, 0.0000, 0.0000), executed reward 10.0000" in out
    assert "basin of mode 1 [7.0, 7.0, -3.0]: sampled 1.000, target 0.175" in out
    assert main(["diagnose", "--run", str(run)]) == 2
    assert "give --alpha" in capsys.readouterr().err


# --- RO diagnostics and action samples ------------------------------------------------------


def test_diagnostics_of_the_final_agent_are_recorded(tmp_path):
    result = harness.train("random", SMALL_GAME.name, 2, tmp_path, progress=False)
    agent, env, _ = harness.load_agent(harness.run_dir(tmp_path, SMALL_GAME.name, "random", 2))
    # The final agent's own measurement, at the evaluation seed: the same numbers exactly.
    assert result.diagnostics == diagnostics.measure(agent, env, seed=harness.EVAL_SEED + 2)
    assert result.diagnostics["samples"] == 1000
    assert result.diagnostics["modes"] == [[-5.0, -5.0, 3.0], [7.0, 7.0, -4.0]]
    assert len(result.diagnostics["ero_gap_per_agent"]) == 3
    assert result.diagnostics["ero_gap"] > 1.0  # uniform actions are far from coordinated
    assert sum(result.diagnostics["mode_coverage"]) == pytest.approx(1.0)
    assert result.action_samples == ()


def test_no_diagnostics_on_particle_gather(tmp_path):
    result = harness.train("random", SMALL.name, 0, tmp_path, progress=False)
    assert result.diagnostics is None and result.action_samples == ()


def test_action_samples_are_recorded_at_each_evaluation(tmp_path):
    import ro_bench

    result = harness.train("random", SMALL_GAME.name, 1, tmp_path, progress=False,
                           record_samples=7)
    assert [r["env_steps"] for r in result.action_samples] == SMALL_GAME.eval_points()
    game = ro_bench.make_vec("max_of_three", 7)
    for record in result.action_samples:
        actions = np.array(record["actions"])
        assert actions.shape == (7, 3) and len(record["rewards"]) == 7
        assert (np.abs(actions) <= 10).all()
        np.testing.assert_array_equal(record["rewards"],
                                      game.payoff(actions[..., None].astype(np.float32)))
    assert not np.array_equal(result.action_samples[0]["actions"],
                              result.action_samples[1]["actions"])
    assert result.command[-2:] == ("--record-samples", "7")
    assert RunResult.read(harness.run_dir(tmp_path, SMALL_GAME.name, "random", 1)
                          / "result.json") == result


@pytest.mark.parametrize("protocol", [SMALL_GAME.name, "climbing"])
def test_sampling_does_not_change_the_training_numbers(tmp_path, protocol):
    plain = harness.train("random", protocol, 0, tmp_path / "a", progress=False)
    sampled = harness.train("random", protocol, 0, tmp_path / "b", progress=False,
                            record_samples=50)
    assert sampled.curve == plain.curve and sampled.final_metric == plain.final_metric
    assert sampled.final_return == plain.final_return
    assert sampled.diagnostics == plain.diagnostics
    assert len(sampled.action_samples) == len(plain.curve) and not plain.action_samples
    assert "--record-samples" not in plain.command


def test_cli_records_samples(tmp_path):
    argv = ["train", "--algo", "fixed", "--protocol", "climbing", "--seed", "0",
            "--out", str(tmp_path), "--config", "actions=[-1,-1]", "--record-samples", "3"]
    assert main(argv) == 0  # climbing's protocol acts in [-1, 1]: -1 picks the first row/column
    result = RunResult.read(harness.run_dir(tmp_path, "climbing", "fixed", 0) / "result.json")
    assert len(result.action_samples) == len(protocols.get("climbing").eval_points())
    assert all(r["actions"] == [[-1.0, -1.0]] * 3 and r["rewards"] == [11.0] * 3
               for r in result.action_samples)
    assert result.command == ("ro-bench", "train", "--algo", "fixed", "--protocol", "climbing",
                              "--seed", "0", "--out", str(tmp_path), "--config",
                              "actions=[-1.0, -1.0]", "--record-samples", "3")


def test_record_samples_needs_a_stateless_game(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"record_samples=5 needs a stateless game .*"
                                         r"'particle_gather', of the 'particle' family"):
        harness.train("random", SMALL.name, 0, tmp_path, progress=False, record_samples=5)
    with pytest.raises(ValueError, match=r"record_samples must be an integer in \[0, inf\]"):
        harness.train("random", SMALL_GAME.name, 0, tmp_path, progress=False, record_samples=-1)
    argv = ["evaluate", "--algo", "random", "--protocol", SMALL.name, "--seeds", "0-1",
            "--workers", "2", "--out", str(tmp_path), "--record-samples", "5"]
    assert main(argv) == 2
    assert "record_samples=5 needs a stateless game" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # refused before any run started


def test_diagnose_reports_the_ero_gap_of_a_matrix_game(tmp_path, capsys):
    # climbing's protocol acts in [-1, 1], cut into 3 bins: -1 is action 0, 0 is action 1.
    harness.train("fixed", "climbing", 0, tmp_path, {"actions": [-1, -1]}, progress=False)
    run = harness.run_dir(tmp_path, "climbing", "fixed", 0)
    assert main(["diagnose", "--run", str(run), "--samples", "20"]) == 0
    out = capsys.readouterr().out
    assert "ERO gap 0.0000 (per agent 0.0000, 0.0000), executed reward 11.0000" in out
    assert "optimal joint action [0, 0]: sampled 1.000" in out
    harness.train("fixed", "climbing", 1, tmp_path, {"actions": [-1, 0]}, progress=False)
    assert main(["diagnose", "--run", str(harness.run_dir(tmp_path, "climbing", "fixed", 1))]) == 0
    # At (0, 1) (reward -30), agent 1 would answer with 0 (11) and agent 0 with 2 (7).
    out = capsys.readouterr().out
    assert "ERO gap 41.0000 (per agent 37.0000, 41.0000), executed reward -30.0000" in out


def test_diagnose_refuses_particle_gather(tmp_path, capsys):
    harness.train("random", SMALL.name, 0, tmp_path, progress=False)
    assert main(["diagnose", "--run", str(harness.run_dir(tmp_path, SMALL.name, "random", 0))]) == 2
    assert "diagnose measures stateless games" in capsys.readouterr().err


# --------------------------------------------------------------- episodic tasks (MaMuJoCo)


def test_an_episodic_protocol_keeps_every_episode_and_plays_more_at_the_end(tmp_path,
                                                                             monkeypatch):
    pytest.importorskip("gymnasium_robotics")
    from ro_bench import checkpoint
    from ro_bench.evaluation import evaluate
    import ro_bench

    saved = []
    save = checkpoint.save
    monkeypatch.setattr(checkpoint, "save", lambda d, step, *a: saved.append(step)
                        or save(d, step, *a))
    result = harness.train("random", SMALL_MUJOCO.name, 1, tmp_path, progress=False)
    assert [p for p, _ in result.curve] == [0, 20, 40, 60, 80]
    assert [len(e) for e in result.episode_returns] == [4, 4, 4, 4, 8]
    assert saved == [0, 40, 80]  # every checkpoint_every env steps, and at the end
    # The metric is the mean episode return, and the summary is the final, larger evaluation.
    assert [m for _, m in result.curve] == list(result.returns)
    assert result.returns == tuple(float(np.mean(e)) for e in result.episode_returns)
    assert result.final_metric == result.final_return == result.returns[-1]
    assert result.success is None and result.diagnostics is None
    assert RunResult.read(harness.run_dir(tmp_path, SMALL_MUJOCO.name, "random", 1)
                          / "result.json") == result
    harness.load_agent(harness.run_dir(tmp_path, SMALL_MUJOCO.name, "random", 1))  # the end's
    # The final evaluation's first eval_episodes episodes are an ordinary evaluation's.
    small = ro_bench.make_vec(SMALL_MUJOCO.env_id, 4, **SMALL_MUJOCO.env_kwargs)
    large = ro_bench.make_vec(SMALL_MUJOCO.env_id, 8, **SMALL_MUJOCO.env_kwargs)
    fixed = harness_fixed_agent(small)
    assert np.array_equal(evaluate(fixed, small, 7).episode_returns,
                          evaluate(fixed, large, 7).episode_returns[:4])


def test_only_episodic_protocols_keep_every_episode(tmp_path, monkeypatch):
    """Per-episode returns are kept where the metric is the mean episode return; a one-step game
    and Particle Gather keep their means alone, also when resumed from a checkpoint written by
    code that kept them everywhere."""
    assert SMALL_MUJOCO.keeps_episode_returns
    for protocol in (SMALL_GAME, SMALL):
        assert not protocol.keeps_episode_returns
        result = harness.train("random", protocol.name, 0, tmp_path / "whole", progress=False)
        assert result.episode_returns == () and len(result.returns) == len(result.curve)

    def stop_at_500(steps: int, metric: float) -> None:
        if steps == 500:
            raise KeyboardInterrupt

    with monkeypatch.context() as older_code:
        older_code.setattr(protocols.Protocol, "keeps_episode_returns", property(lambda p: True))
        with pytest.raises(KeyboardInterrupt):
            harness.train("random", SMALL_GAME.name, 0, tmp_path / "killed", progress=False,
                          on_evaluation=stop_at_500)
    resumed = harness.train("random", SMALL_GAME.name, 0, tmp_path / "killed", resume=True,
                            progress=False)
    whole = RunResult.read(harness.run_dir(tmp_path / "whole", SMALL_GAME.name, "random", 0)
                           / "result.json")
    assert resumed.episode_returns == () and numbers(resumed) == numbers(whole)


def harness_fixed_agent(vec):
    """The fixed agent (deterministic, batch-size independent) on ``vec``'s spaces."""
    agent_cls, config_cls = algorithms.get("fixed")
    spaces = EnvSpaces.from_vec(vec)
    width = int(np.prod(spaces.action_spaces[0].shape))
    return agent_cls(config_cls(actions=[0.3] * (spaces.n_agents * width)), spaces, 0)


def test_a_protocol_that_cannot_score_fails_before_training(tmp_path):
    pytest.importorskip("gymnasium_robotics")
    Spy.calls = []
    with pytest.raises(ValueError, match="test-mamujoco-unscorable.*has no optimum.*"
                                         "has_success=False"):
        harness.train("harness_doubles:Spy", UNSCORABLE.name, 0, tmp_path, progress=False)
    assert Spy.calls == []  # not one env step was spent
    assert "cannot place a success threshold" in UNSCORABLE.scoring()  # shown, never raised


def test_a_run_killed_between_checkpoints_resumes_to_the_same_numbers(tmp_path):
    """With checkpoint_every = 2 evaluations, a run stopped after the evaluation at 750 (last
    checkpoint: 500) replays the evaluation at 750 on resume and ends as one never stopped."""

    def stop_at_750(steps: int, metric: float) -> None:
        if steps == 750:
            raise KeyboardInterrupt

    name = SPARSE_CHECKPOINTS.name
    with pytest.raises(KeyboardInterrupt):
        harness.train("random", name, 2, tmp_path / "killed", progress=False,
                      on_evaluation=stop_at_750)
    run = harness.run_dir(tmp_path / "killed", name, "random", 2)
    assert (run / "checkpoints" / "LATEST").read_text() == "step_000000000500"
    resumed = harness.train("random", name, 2, tmp_path / "killed", resume=True, progress=False)
    whole = harness.train("random", name, 2, tmp_path / "whole", progress=False)
    assert numbers(resumed) == numbers(whole)
    assert len((run / "curve.csv").read_text().splitlines()) == 1 + len(whole.curve)


TRACKS = {"cpu": (100_000, 10_000, 10_000), "full": (3_000_000, 100_000, 100_000)}
TASKS = {"halfcheetah_2x3": ("mamujoco_halfcheetah_2x3", ("qpos", "qvel")),
         "coupled_halfcheetah_1p1": ("mamujoco_coupled_halfcheetah_1p1",
                                     ("qpos", "qvel", "ten_J", "ten_length", "ten_velocity")),
         "ant_2x4": ("mamujoco_ant_2x4", ("qpos", "qvel", "cfrc_ext")),
         "walker2d_2x3": ("mamujoco_walker2d_2x3", ("qpos", "qvel"))}


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("task", TASKS)
def test_mamujoco_protocol_numbers(track, task):
    p = protocols.get(f"mamujoco_{track}-{task}")
    env_id, depth0 = TASKS[task]
    assert (p.env_id, p.version, p.metric, p.seeds) == (env_id, 1, "mean_episode_return",
                                                        (0, 1, 2, 3, 4))
    assert (p.budget, p.eval_every, p.checkpoint_every) == TRACKS[track]
    assert (p.eval_episodes, p.final_episodes, p.num_envs) == (10, 100, 1)
    assert p.env_kwargs == {"agent_obsk": 1, "local_categories": (depth0, ("qpos",)),
                            "global_categories": ("qpos", "qvel"), "max_episode_steps": 1000}
    assert not p.has_success and p.success_threshold is None and p.succeeded(1e9) is None
    assert ("not comparable" in p.note) == (track == "cpu") and "Table 1" in p.note


@pytest.mark.parametrize("task", TASKS)
def test_mamujoco_protocol_kwargs_are_the_envs_defaults(task):
    """Every kwarg written out changes nothing: the protocol's env is the env's default one."""
    pytest.importorskip("gymnasium_robotics")
    import ro_bench

    p = protocols.get(f"mamujoco_cpu-{task}")
    written, default = (ro_bench.make_vec(p.env_id, 2, **kwargs) for kwargs in (p.env_kwargs, {}))
    first, second = (vec.reset(seed=3)[0] for vec in (written, default))
    assert np.array_equal(first, second)
    actions = np.random.default_rng(0).uniform(-1, 1, (5, *first.shape[:2],
                                                          *written.action_spaces[
                                                              written.agents[0]].shape))
    for a in actions.astype(np.float32):
        for x, y in zip(written.step(a), default.step(a)):
            if isinstance(x, np.ndarray):
                assert np.array_equal(x, y)


def test_episodic_protocol_fields_are_checked():
    with pytest.raises(ValueError, match="checkpoint_every must be a multiple of eval_every"):
        protocols.Protocol("p", 1, "max_of_two", eval_every=250, checkpoint_every=300)
    with pytest.raises(ValueError, match="final_eval_episodes must be an integer in"):
        protocols.Protocol("p", 1, "max_of_two", final_eval_episodes=0)
    with pytest.raises(ValueError, match="threshold=1.0 needs has_success=True"):
        protocols.Protocol("p", 1, "max_of_two", threshold=1.0, has_success=False)
    with pytest.raises(ValueError, match="metric must be one of"):
        protocols.Protocol("p", 1, "max_of_two", metric="mean_return")
    p = protocols.Protocol("p", 1, "max_of_two", budget=1000, eval_every=250)
    assert (p.final_episodes, p.checkpoint_every) == (1000, None)
    assert [s for s in p.eval_points() if p.checkpoint_due(s)] == p.eval_points()
