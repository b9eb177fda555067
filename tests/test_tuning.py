"""``ro-bench tune`` (ro_bench/tuning.py, ro_bench/search.py): search spaces, tuning seeds, a
study that survives its worker's death, workers sharing a study, pruning, and the provenance a
tuned entry carries onto the leaderboard."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ro_bench import algorithms, grid, harness, leaderboard, protocols, search, submit, tuning
from ro_bench.configs import override
from ro_bench.results import SCHEMA_VERSION, RunResult

optuna = pytest.importorskip("optuna", reason="ro-bench tune needs the dist extra (optuna)")

PROTOCOL = "max_of_three-s2=1.5"
# Updates only in the last 10 of 5000 env steps: a trial's run takes seconds.
QUICK = {"learning_starts": 4990}


def quick(out: Path, **kwargs) -> tuning.Settings:
    values = {"algo": "maddpg", "protocol": PROTOCOL, "trials": 2, "out": out,
              "seeds": (100,), "fixed": dict(QUICK)} | kwargs
    return tuning.Settings(**values)


# --- search spaces and seeds -------------------------------------------------------------------

@pytest.mark.parametrize("name", algorithms.names())
def test_every_tuned_field_takes_every_value_of_its_space(name):
    _, config_cls = algorithms.get(name)
    for field, space in search.search_space(config_cls).items():
        for value in search.examples(config_cls, field):
            config = override(config_cls(), {field: value})  # type and range checks run here
            assert getattr(config, field) == value


def test_the_paper_s_spaces_are_declared():
    _, svnr = algorithms.get("svnr")
    _, pr2 = algorithms.get("pr2")
    space = search.search_space(svnr)
    assert space["particles"] == search.IntUniform(16, 64)
    assert space["policy_lr"] == space["critic_lr"] == search.LogUniform(1e-4, 1e-1)
    assert space["batch_size"] == search.Choice((256, 512, 1024))
    assert search.examples(svnr, "sampler_hidden") == ((64, 64), (128, 128), (256, 256))
    assert search.search_space(pr2)["level_k"] == search.IntUniform(1, 3)
    _, random_config = algorithms.get("random")
    assert search.search_space(random_config) == {}


@pytest.mark.parametrize("space", [
    lambda: search.LogUniform(0.0, 1.0), lambda: search.Uniform(1.0, 1.0),
    lambda: search.IntUniform(3, 1), lambda: search.Choice((1,)), lambda: search.Width((64,)),
])
def test_an_empty_or_reversed_space_is_refused(space):
    with pytest.raises(ValueError):
        space()


def test_tuning_seeds_never_are_reporting_seeds():
    for name in protocols.list():
        p = protocols.get(name)
        assert p.tuning_seeds and not set(p.tuning_seeds) & set(p.seeds)
    with pytest.raises(ValueError, match="tuning_seeds must be disjoint.*\\[4\\]"):
        protocols.Protocol("x", 1, "max_of_two", tuning_seeds=(4, 100))
    with pytest.raises(ValueError, match="reporting seeds of max_of_three-s2=1.5"):
        quick(Path("unused"), seeds=(0, 100))


def test_nothing_to_tune_and_bad_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="random declares no tuned field"):
        tuning.Settings("random", PROTOCOL, 2, tmp_path)
    with pytest.raises(ValueError, match="pruner must be one of"):
        quick(tmp_path, pruner="medain")
    with pytest.raises(ValueError, match="learning_startz"):
        quick(tmp_path, fixed={"learning_startz": 3})


# --- a trial -----------------------------------------------------------------------------------

class StubTrial:
    """The lower bound of every space; prunes at the first report when ``prune``."""

    def __init__(self, prune: bool) -> None:
        self.prune, self.reports, self.user_attrs = prune, [], {}

    def suggest_float(self, name, low, high, *, log=False):
        return low

    def suggest_int(self, name, low, high):
        return low

    def suggest_categorical(self, name, choices):
        return choices[0]

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.prune

    def set_user_attr(self, key, value):
        self.user_attrs[key] = value


def test_a_trial_trains_on_each_tuning_seed_and_scores_their_mean(tmp_path):
    settings = quick(tmp_path, seeds=(100, 101))
    trial = StubTrial(prune=False)
    value = tuning.objective(settings)(trial)
    root = Path(trial.user_attrs["runs"])
    results = [RunResult.read(harness.run_dir(root, PROTOCOL, "maddpg", s) / "result.json")
               for s in (100, 101)]
    assert value == pytest.approx(sum(r.final_metric for r in results) / 2)
    assert results[0].config["critic_lr"] == 1e-4 and results[0].config["batch_size"] == 256
    budget = protocols.get(PROTOCOL).budget
    steps = [step for step, _ in trial.reports]
    assert steps == [s for k in range(2) for s in
                     (k * budget + t for t, _ in results[k].curve)]  # seed k after seed k-1


def test_a_pruned_trial_stops_at_an_evaluation_and_keeps_its_checkpoint(tmp_path):
    trial = StubTrial(prune=True)
    with pytest.raises(optuna.TrialPruned):
        tuning.objective(quick(tmp_path))(trial)
    run = harness.run_dir(Path(trial.user_attrs["runs"]), PROTOCOL, "maddpg", 100)
    assert trial.reports == [(0, trial.reports[0][1])]  # the first evaluation, at 0 steps
    assert (run / "checkpoints" / "LATEST").exists() and not (run / "result.json").exists()


# --- studies -----------------------------------------------------------------------------------

WORKER = """
import sys
from pathlib import Path
from ro_bench import tuning
out, trials, worker = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tuning.work(tuning.Settings("maddpg", "max_of_three-s2=1.5", trials, out, seeds=(100,),
                            fixed={"learning_starts": 4990}, heartbeat=1), worker)
"""


def spawn_worker(out: Path, trials: int, worker: int = 0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, str(out), str(trials), str(worker)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def trials_of(out: Path) -> list:
    storage = f"sqlite:///{(out / 'tune.db').resolve()}"
    return optuna.load_study(study_name=f"maddpg-{PROTOCOL}", storage=storage).get_trials()


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_study_killed_mid_trial_resumes_and_loses_no_finished_trial(tmp_path):
    worker = spawn_worker(tmp_path, 2)
    try:
        def one_done_and_one_running() -> bool:
            if not (tmp_path / "tune.db").exists():
                return False
            try:
                states = [t.state.name for t in trials_of(tmp_path)]
            except (KeyError, optuna.exceptions.StorageInternalError):
                return False  # the study is still being created
            return "COMPLETE" in states and "RUNNING" in states
        wait_for(one_done_and_one_running)
        time.sleep(1.0)  # into the running trial's training
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    before = trials_of(tmp_path)
    done_before = [(t.number, t.value, t.params) for t in before if t.state.name == "COMPLETE"]
    killed = [t for t in before if t.state.name == "RUNNING"]
    assert done_before and len(killed) == 1
    time.sleep(2.5)  # past the grace period (2 heartbeats of 1 s)

    outcome = tuning.tune(quick(tmp_path, trials=2, heartbeat=1), progress=False)

    after = trials_of(tmp_path)
    kept = [(t.number, t.value, t.params) for t in after if t.number in
            {n for n, _, _ in done_before}]
    assert kept == done_before
    assert after[killed[0].number].state.name == "FAIL"
    retried = [t for t in after if t.number > killed[0].number and t.params == killed[0].params]
    assert retried and retried[0].state.name == "COMPLETE"  # the same values, trained to the end
    assert outcome.complete == 2 and outcome.best_value == max(
        t.value for t in after if t.state.name == "COMPLETE")


def test_two_processes_share_one_sqlite_study(tmp_path):
    tuning.open_study(quick(tmp_path, trials=2, heartbeat=1))  # created once, as `tune` does
    workers = [spawn_worker(tmp_path, 2, worker) for worker in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()[-2000:]
    complete = [t for t in trials_of(tmp_path) if t.state.name == "COMPLETE"]
    assert len(complete) >= 2
    assert len({t.user_attrs["worker"] for t in complete}) == 2  # both contributed


def test_a_resumed_study_draws_new_values(tmp_path):
    tuning.tune(quick(tmp_path, trials=2, pruner="none"), progress=False)
    outcome = tuning.tune(quick(tmp_path, trials=4, pruner="none"), progress=False)
    drawn = [json.dumps(t.params, sort_keys=True) for t in trials_of(tmp_path)]
    assert len(drawn) == len(set(drawn)) == outcome.complete == 4


def test_the_budget_counts_each_configuration_once():
    study = optuna.create_study(direction="maximize")
    space = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    State = optuna.trial.TrialState
    for x, state in [(0.1, State.COMPLETE), (0.1, State.COMPLETE), (0.2, State.PRUNED),
                     (0.2, State.COMPLETE), (0.3, State.PRUNED), (0.3, State.PRUNED),
                     (0.4, State.FAIL), (0.4, State.COMPLETE), (0.5, State.FAIL)]:
        study.add_trial(optuna.trial.create_trial(
            params={"x": x}, distributions=space, state=state,
            value=1.0 if state == State.COMPLETE else None))
    assert tuning.finished(study) == (3, 1, 1)  # complete 0.1 0.2 0.4, pruned 0.3, failed 0.5


def test_a_space_with_no_new_configuration_left_ends_the_study(tmp_path):
    fixed = dict(QUICK, critic_hidden=(64, 64), actor_hidden=(64, 64), critic_lr=1e-3,
                 actor_lr=1e-3, tau=0.01, reward_scale=1.0)  # batch_size alone: 3 values
    outcome = tuning.tune(quick(tmp_path, trials=5, pruner="none", fixed=fixed), progress=False)
    assert outcome.complete == 3
    assert {t.params["batch_size"] for t in trials_of(tmp_path)} == {256, 512, 1024}


def test_a_study_resumed_with_other_settings_is_refused(tmp_path):
    tuning.open_study(quick(tmp_path))
    with pytest.raises(ValueError, match=r"other settings \(tuning_seeds \[100\] there, "
                                         r"\[101\] now\)"):
        tuning.open_study(quick(tmp_path, seeds=(101,)))


# --- the tuned entry ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuning.Outcome:
    out = tmp_path_factory.mktemp("study")
    return tuning.tune(quick(out, trials=2, pruner="none"), progress=False)


def test_a_study_writes_its_best_config_as_a_plan_line_with_its_provenance(study, tmp_path):
    record = json.loads(study.provenance_file.read_text())
    assert record["tuning"]["trials"] == study.complete == 2
    assert record["tuning"]["sampler"] == "TPESampler"
    assert record["tuning"]["tuning_seeds"] == [100]
    assert "learning_starts" not in record["tuning"]["search_space"]  # held fixed, not tuned
    assert record["tuning"]["search_space"]["critic_lr"] == "log-uniform [0.0001, 0.1]"
    entry = grid.parse_line(study.entry_line())
    assert entry.overrides == {**QUICK, **study.best_params}
    assert entry.tuning() == record["tuning"]


def test_a_tuned_entry_s_runs_carry_the_study_onto_the_leaderboard(study, tmp_path):
    entry = grid.parse_line(study.entry_line())
    [(_, [result])] = grid.run([entry], tmp_path, seeds=[0]).results
    directory = harness.run_dir(tmp_path, PROTOCOL, "maddpg", 0, tuned=True)
    assert directory.parent.name == "maddpg+tuned"
    again = RunResult.read(directory / "result.json")
    assert again.tuning == result.tuning == json.loads(study.provenance_file.read_text())["tuning"]
    assert again.schema_version == SCHEMA_VERSION
    row = leaderboard.entry_label("maddpg", [again])
    assert "tuned: 2 TPE trials" in row
    # On a board it is filed beside the default entry, not over it.
    assert submit.record_path(tmp_path, again).parent.name == "maddpg+tuned"
    default = dataclasses.replace(again, tuning=None)
    assert submit.record_path(tmp_path, default).parent.name == "maddpg"


def test_a_plan_holds_a_tuned_entry_beside_the_default_one(study, tmp_path):
    plan = tmp_path / "plan.txt"
    tuned = study.entry_line()
    default = tuned.split(" --tuned ")[0]
    plan.write_text(f"{default}\n{tuned}\n")
    assert [e.name for e in grid.read_plan(plan)] == ["maddpg", "maddpg+tuned"]
    plan.write_text(f"{tuned}\n{tuned}\n")
    with pytest.raises(ValueError, match=r"plan.txt:2: maddpg\+tuned on .* already planned"):
        grid.read_plan(plan)


def test_a_plan_line_whose_config_is_not_the_study_s_best_is_refused(study, tmp_path):
    line = study.entry_line().replace("--config learning_starts=4990", "--config "
                                      "learning_starts=4000")
    with pytest.raises(ValueError, match="learning_starts=4990 there, 4000 here"):
        grid.parse_line(line)
    plan = tmp_path / "plan.txt"
    plan.write_text(line + "\n")
    with pytest.raises(ValueError, match="plan.txt:1: "):
        grid.read_plan(plan)


def test_the_cli_finds_a_finished_study_again_and_prints_the_entry_line(study, capsys):
    from ro_bench.cli import main

    study_trials = len(trials_of(study.settings.out))
    status = main(["tune", "--algo", "maddpg", "--protocol", PROTOCOL, "--trials", "2",
                   "--seeds", "100", "--out", str(study.settings.out), "--config",
                   "learning_starts=4990", "--pruner", "none"])
    printed = capsys.readouterr().out
    assert status == 0
    assert len(trials_of(study.settings.out)) == study_trials  # done already: no new trial
    assert f"study maddpg-{PROTOCOL}" in printed and "2 complete, 0 pruned" in printed
    line = printed.split("entry line: ", 1)[1].strip()
    assert line == study.entry_line() and grid.parse_line(line).tuning()["trials"] == 2


@pytest.mark.parametrize("argv, words", [
    (["--algo", "random"], ["random declares no tuned field"]),
    (["--algo", "maddpg", "--seeds", "0-1"], ["reporting seeds"]),
    (["--algo", "maddpg", "masql", "--study", "x"], ["--study names one study"]),
])
def test_the_cli_names_bad_input(argv, words, tmp_path, capsys):
    from ro_bench.cli import main

    status = main(["tune", "--protocol", PROTOCOL, "--trials", "2", "--out", str(tmp_path),
                   *argv])
    err = capsys.readouterr().err
    assert status == 2
    for word in words:
        assert word in err
    assert not os.listdir(tmp_path)  # nothing started
