"""``ro-bench tune``: an Optuna study with the TPE sampler over an algorithm's search space.

The paper tunes every method with a Tree-structured Parzen Estimator, 50 trials per environment
and the same budget for every method (App. F.2, H.5.2). Here:

- **What is tuned**: the fields of the algorithm's config that declare a search space
  (``ro_bench.search``), except those held fixed with ``--config``.
- **A trial** trains the algorithm through the harness on each of the protocol's
  ``tuning_seeds`` in turn (never its reporting seeds) and scores the mean of their final
  metrics. Its runs live in ``<out>/<study>/config_<hash>/`` (the hash of the trial's config), so
  a trial retried with the same values resumes its runs from their last checkpoints; every
  finished run keeps its RunResult there.
- **Pruning** (``median``, default, or ``hyperband``) acts on the harness's evaluations: the
  metric of seed ``k`` at ``t`` env steps is reported at step ``k * budget + t``, so that every
  trial is compared with the others on the same seed at the same point.
- **Storage**: SQLite by default (``<out>/tune.db``, beside the runs), or any SQLAlchemy URL
  (PostgreSQL, MySQL) for many workers on many machines. The study is found again by name: a
  study killed at any point resumes when the same command (or ``--study NAME``) runs again, with
  every finished trial kept and its samplers re-seeded so that they draw new values. A trial whose
  worker died is failed once its heartbeat is older than the grace period and retried with the
  same values. The budget counts configurations: a retry, or a draw that repeats an earlier
  trial's values (which reads that trial's runs), adds nothing to it.
- **Workers**: ``workers`` processes on this machine (each one torch thread), or tasks on a Ray
  cluster, all sharing the one study through its storage. With one worker a study is
  reproducible: the sampler is seeded and every run is.
- **Output**: the best config as a line of ``leaderboards/entries.txt`` and the study's
  provenance (``<out>/<study>.tuned.json``: the record ``RunResult.tuning`` holds, and the config
  values of the best trial), which the line names with ``--tuned`` so that the entry's RunResults
  and leaderboard row say how its config was chosen.

Optuna (and Ray, for ``--ray``) come with the ``dist`` extra: ``pip install 'ro-bench[dist]'``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ro_bench import algorithms, harness, protocols, search
from ro_bench.atomic import atomic_write
from ro_bench.configs import json_values, to_dict
from ro_bench.params import choice, integer
from ro_bench.results import config_hash

PRUNERS = ("median", "hyperband", "none")
SAMPLER = "TPESampler"
LOCAL_RAY = ""  # ``ray``: a local Ray instance (None: no Ray)


@dataclasses.dataclass(frozen=True)
class Settings:
    """One study: what to tune, on what, with how many trials, where it is kept and who runs it."""

    algo: str
    protocol: str
    trials: int
    out: Path
    storage: str | None = None  # SQLAlchemy URL; None: SQLite in ``out``
    study: str | None = None  # None: "<algo>-<protocol>"
    seeds: tuple[int, ...] | None = None  # None: the protocol's tuning_seeds
    fixed: dict[str, Any] = dataclasses.field(default_factory=dict)  # --config, not tuned
    pruner: str = "median"
    sampler_seed: int = 0
    workers: int = 1
    ray: str | None = None  # None: processes here; LOCAL_RAY or an address: Ray
    heartbeat: int = 60  # seconds between a running trial's heartbeats

    def __post_init__(self) -> None:
        integer("trials", self.trials, low=1)
        integer("workers", self.workers, low=1)
        integer("heartbeat", self.heartbeat, low=1)
        choice("pruner", self.pruner, PRUNERS)
        protocol = protocols.get(self.protocol)
        _, config_cls = algorithms.get(self.algo)
        if not search.search_space(config_cls):
            raise ValueError(f"{self.algo} declares no tuned field (no search space): there is "
                             "nothing to tune")
        harness.make_config(config_cls, protocol, self.fixed)  # bad --config fails here
        if shared := sorted(set(self.tuning_seeds) & set(protocol.seeds)):
            raise ValueError(f"tuning seeds {shared} are reporting seeds of {self.protocol} "
                             f"({list(protocol.seeds)}): tune on other seeds, e.g. the "
                             f"protocol's tuning_seeds {list(protocol.tuning_seeds)}")

    @property
    def tuning_seeds(self) -> tuple[int, ...]:
        return tuple(self.seeds) if self.seeds else protocols.get(self.protocol).tuning_seeds

    @property
    def study_name(self) -> str:
        return self.study or f"{self.algo}-{self.protocol}"

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(Path(self.out) / 'tune.db').resolve()}"

    def identity(self) -> dict[str, Any]:
        """What a study was started with; resuming it with anything else is refused."""
        return {"algo": self.algo, "protocol": self.protocol,
                "protocol_version": protocols.get(self.protocol).version,
                "tuning_seeds": list(self.tuning_seeds), "fixed": json_values(self.fixed),
                "pruner": self.pruner, "search_space": self.search_space()}

    def configurations(self) -> float:
        """How many configurations the tuned fields span (``math.inf`` with a continuous one)."""
        _, config_cls = algorithms.get(self.algo)
        return search.configurations(config_cls, self.fixed)

    def search_space(self) -> dict[str, str]:
        """The tuned fields and their spaces in words (those held fixed left out)."""
        _, config_cls = algorithms.get(self.algo)
        return {k: v for k, v in search.describe(config_cls).items() if k not in self.fixed}


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A finished study: its best config and what it took."""

    settings: Settings
    best_value: float
    best_params: dict[str, Any]
    complete: int
    pruned: int
    failed: int
    wall_time_s: float
    provenance_file: Path

    def entry_line(self) -> str:
        """The best config as a line of ``leaderboards/entries.txt``."""
        from ro_bench.grid import Entry

        overrides = {**self.settings.fixed, **self.best_params}
        return Entry(self.settings.algo, self.settings.protocol, overrides,
                     tuned=str(self.provenance_file)).command()


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ValueError("ro-bench tune needs Optuna: pip install 'ro-bench[dist]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and their retry callback are marked experimental; they are what resumes a
    # study whose worker died, and their behaviour is pinned by our tests.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def open_study(settings: Settings, worker: int = 0) -> Any:
    """The study, created or found again by name in its storage; ``worker`` seeds the sampler."""
    optuna = _optuna()
    Path(settings.out).mkdir(parents=True, exist_ok=True)
    url = settings.storage_url
    engine = {"connect_args": {"timeout": 120}} if url.startswith("sqlite") else None
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3)
    storage = optuna.storages.RDBStorage(
        url, engine_kwargs=engine, heartbeat_interval=settings.heartbeat,
        grace_period=2 * settings.heartbeat, heartbeat_stale_trial_callback=retry)
    study = optuna.create_study(
        study_name=settings.study_name, storage=storage, direction="maximize",
        pruner=_pruner(optuna, settings), load_if_exists=True)
    earlier = len(study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.TPESampler(seed=sampler_seed(settings, worker, earlier))
    recorded = study.user_attrs.get("identity")
    if recorded is None:
        study.set_user_attr("identity", settings.identity())
    elif recorded != settings.identity():
        differences = [f"{k} {recorded.get(k)!r} there, {v!r} now"
                       for k, v in settings.identity().items() if recorded.get(k) != v]
        raise ValueError(f"study {settings.study_name!r} in {url} was started with other "
                         f"settings ({'; '.join(differences)}): resume it with the same ones "
                         "or give another --study")
    return study


def sampler_seed(settings: Settings, worker: int, earlier: int) -> int:
    """The seed of a worker's TPE sampler. In a new study it is ``sampler_seed + worker``. A study
    resumed with ``earlier`` trials in it folds that count in: a sampler draws its first values
    at random from its seed alone, so a resumed worker seeded as before would propose again the
    values of the trials its first run began with."""
    if earlier == 0:
        return settings.sampler_seed + worker
    entropy = [settings.sampler_seed, worker, earlier]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _pruner(optuna: Any, settings: Settings) -> Any:
    budget = protocols.get(settings.protocol).budget
    if settings.pruner == "median":  # never before a quarter of the first seed's budget
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=budget // 4)
    if settings.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(budget // 4, 1),
                                              max_resource=budget * len(settings.tuning_seeds))
    return optuna.pruners.NopPruner()


def finished(study: Any) -> tuple[int, int, int]:
    """(complete, pruned, failed) trials of the study so far, each configuration counted once: a
    trial that drew the values of an earlier one (a retry after its worker died, or a repeat
    draw) reads that one's runs and adds nothing to the budget."""
    from optuna.trial import TrialState

    seen: dict[TrialState, set[str]] = {state: set() for state in TrialState}
    for t in study.get_trials(deepcopy=False):
        seen[t.state].add(json.dumps(t.params, sort_keys=True))
    pruned = seen[TrialState.PRUNED] - seen[TrialState.COMPLETE]
    failed = seen[TrialState.FAIL] - seen[TrialState.COMPLETE] - seen[TrialState.PRUNED]
    return len(seen[TrialState.COMPLETE]), len(pruned), len(failed)


def objective(settings: Settings) -> Callable[[Any], float]:
    """A trial: train on every tuning seed with the suggested values, report each evaluation."""
    optuna = _optuna()
    protocol = protocols.get(settings.protocol)
    _, config_cls = algorithms.get(settings.algo)

    def run(trial: Any) -> float:
        params = search.suggest(trial, config_cls, settings.fixed)
        overrides = {**settings.fixed, **params}
        config = to_dict(harness.make_config(config_cls, protocol, overrides))
        root = Path(settings.out) / settings.study_name / f"config_{config_hash(config)[:12]}"
        trial.set_user_attr("runs", str(root))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        finals = []
        for k, seed in enumerate(settings.tuning_seeds):
            def report(steps: int, metric: float, k: int = k) -> None:
                trial.report(metric, k * protocol.budget + steps)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"seed {seed} at {steps} env steps: {metric:g}")

            finals.append(_train(settings, seed, root, overrides, report).final_metric)
        return statistics.fmean(finals)

    return run


def _train(settings: Settings, seed: int, root: Path, overrides: dict[str, Any],
           report: Callable[[int, float], None]) -> Any:
    """One run of a trial. Two trials that drew the same values share its run directory: the
    second waits for the first and then reads its result from the finished checkpoint."""
    while True:
        try:
            return harness.train(settings.algo, settings.protocol, seed, root, overrides,
                                 resume=True, progress=False, on_evaluation=report)
        except harness.RunInUseError:
            time.sleep(2.0)


def work(settings: Settings, worker: int = 0) -> int:
    """One worker: run trials until the study holds ``trials`` finished configurations (complete
    or pruned), or every configuration of a space smaller than that; returns how many trials
    this worker ran."""
    study = open_study(settings, worker)
    goal = min(settings.trials, settings.configurations())
    ran = [0]

    def reached(study: Any) -> bool:
        complete, pruned, _ = finished(study)
        return complete + pruned >= goal

    def count(study: Any, trial: Any) -> None:
        ran[0] += 1
        if reached(study):
            study.stop()

    if not reached(study):
        study.optimize(objective(settings), callbacks=[count], gc_after_trial=False,
                       catch=(), show_progress_bar=False)
    return ran[0]


def tune(settings: Settings, progress: bool = True, position: int = 0) -> Outcome:
    """Run the study to ``trials`` finished trials with its workers; write its provenance."""
    study = open_study(settings)  # created (or checked) once, before any worker starts
    started = time.perf_counter()
    bar = _bar(settings, progress, position)
    try:
        if settings.ray is not None:
            _on_ray(settings, lambda: _update(bar, study, settings))
        elif settings.workers == 1:
            _in_process(settings, lambda: _update(bar, study, settings))
        else:
            _in_processes(settings, lambda: _update(bar, study, settings))
        _update(bar, study, settings)
    finally:
        bar.close()
    return _outcome(settings, study, time.perf_counter() - started)


def _in_process(settings: Settings, tick: Callable[[], None]) -> None:
    import threading

    stop = threading.Event()
    watcher = threading.Thread(target=_poll, args=(stop, tick), daemon=True)
    watcher.start()
    try:
        work(settings, 0)
    finally:
        stop.set()
        watcher.join()


def _in_processes(settings: Settings, tick: Callable[[], None]) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=settings.workers, mp_context=context,
                             initializer=harness.die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(work, settings, i) for i in range(settings.workers)]
        while True:
            done, running = wait(futures, timeout=2.0, return_when=FIRST_EXCEPTION)
            tick()
            failed = [f for f in done if f.exception() is not None]
            if failed:
                pool.shutdown(cancel_futures=True)
                raise failed[0].exception()
            if not running:
                return


def _on_ray(settings: Settings, tick: Callable[[], None]) -> None:
    from ro_bench import ray_pool

    ray = ray_pool.import_ray()
    started = ray_pool.start(ray, settings.ray or None)
    task = ray.remote(num_cpus=1, max_retries=3)(work)
    pending = [task.remote(settings, i) for i in range(settings.workers)]
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=2.0)
            tick()
            ray.get(ready)  # the first worker's error, here
    finally:
        for ref in pending:
            ray.cancel(ref)
        if started:
            ray.shutdown()


def _poll(stop: Any, tick: Callable[[], None]) -> None:
    while not stop.wait(2.0):
        tick()


def _bar(settings: Settings, progress: bool, position: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=settings.trials, desc=f"tune {settings.study_name}", unit="trial",
                position=position, disable=None if progress else True, leave=True)


def _update(bar: Any, study: Any, settings: Settings) -> None:
    complete, pruned, failed = finished(study)
    bar.n = min(complete + pruned, settings.trials)
    best = _best(study)
    bar.set_postfix_str(f"best {best.value:.4g}, pruned {pruned}" if best else
                        f"pruned {pruned}")
    bar.refresh()


def _best(study: Any) -> Any:
    try:
        return study.best_trial
    except ValueError:  # no complete trial yet
        return None


def _outcome(settings: Settings, study: Any, wall: float) -> Outcome:
    complete, pruned, failed = finished(study)
    best = _best(study)
    if best is None:
        raise RuntimeError(f"study {settings.study_name!r} has no complete trial "
                           f"({pruned} pruned, {failed} failed): nothing to report")
    _, config_cls = algorithms.get(settings.algo)
    params = {k: _as_config_value(config_cls, k, v) for k, v in best.params.items()}
    file = Path(settings.out) / f"{settings.study_name}.tuned.json"
    record = provenance(settings, complete, pruned, best.value)
    with atomic_write(file) as handle:
        handle.write(json.dumps({"tuning": record,
                                 "overrides": json_values({**settings.fixed, **params})},
                                indent=1, sort_keys=True).encode())
    return Outcome(settings, best.value, params, complete, pruned, failed, wall, file)


def provenance(settings: Settings, complete: int, pruned: int, best_value: float
               ) -> dict[str, Any]:
    """The record a tuned entry's RunResults carry (``RunResult.tuning``)."""
    protocol = protocols.get(settings.protocol)
    return {"study": settings.study_name, "sampler": SAMPLER, "trials": complete,
            "pruned": pruned, "best_value": float(best_value),
            "search_space": settings.search_space(),
            "objective": f"mean {protocol.metric} at the end of training over the tuning seeds",
            "tuning_seeds": list(settings.tuning_seeds), "protocol_version": protocol.version}


def _as_config_value(config_cls: type, name: str, value: Any) -> Any:
    """An Optuna parameter as the config field's value (a width becomes the layer tuple)."""
    space = search.space_of(config_cls, name)
    if isinstance(space, search.Width):
        return search.examples(config_cls, name)[space.widths.index(value)]
    return value


def read_provenance(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(tuning record, overrides)`` of a ``.tuned.json`` file, checked: the record and the
    config values the study ran its best trial with (held fixed and tuned)."""
    from ro_bench.results import RunResultError, _tuning

    try:
        data = json.loads(Path(path).read_text())
        record = _tuning(data["tuning"])
        params = data["overrides"]
        if not isinstance(params, dict):
            raise ValueError("overrides is not an object")
    except (OSError, ValueError, KeyError, TypeError, RunResultError) as err:
        raise ValueError(f"{path}: not a tuning record of ro-bench tune ({err})") from None
    return record, params


def run_all(settings: Sequence[Settings], progress: bool = True) -> list[Outcome]:
    """Several studies with one budget (``--algo A B ...``), one after the other."""
    return [tune(s, progress, position=i) for i, s in enumerate(settings)]
