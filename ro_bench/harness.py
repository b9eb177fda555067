"""The training run: the one env loop every algorithm is measured by.

``train`` builds the protocol's training and evaluation env batches and the agent, then loops:
``act(explore=True)``, step the envs, ``observe``, ``update``, until the protocol's budget of env
steps is spent exactly. At each of the protocol's evaluation points it evaluates with
``explore=False`` on the separate evaluation batch (``eval_episodes`` episodes; the last point
plays ``final_eval_episodes``), keeps the metric, the mean and every episode's return, checks
decentralized execution, logs the curve, and, every ``checkpoint_every`` env steps and at the
end, writes a checkpoint that ``resume=True`` picks up (a resumed run replays the evaluations
after its checkpoint to the same numbers, so it continues exactly); what ``update()`` returns is
logged as it trains (``ro_bench.run_log``: CSV, and TensorBoard when installed). Algorithms are
found by name (``ro_bench.algorithms``) and meet the harness through ``ro_bench.agents``. With
``record_samples=N`` on a stateless game it also records, at each evaluation point, ``N`` joint
actions of the perceived policy (``explore=True``) with their team rewards. It ends by
measuring the final agent's RO diagnostics (stateless games only: elsewhere, MaMuJoCo included,
nothing is measured and ``diagnostics`` is null) and writing the run's ``RunResult`` to
``result.json`` in the run directory. Whether a run succeeded is decided by the protocol
(``Protocol.succeeded``; null where it defines no success), asked before the first step so that
a protocol that cannot score fails before any compute is spent.

Sampling and diagnostics call copies of the agent only, so they never change the training numbers.

A run directory holds one run at a time: ``train`` locks ``<run dir>/.lock`` (and writes its pid
there), so a second process trying the same directory fails at once, naming the first. It also
records what it runs in ``run.json`` (algorithm, protocol and version, seed, config and its hash,
``record_samples``), and ``resume=True`` refuses a checkpoint of any other run, naming each
difference; without ``resume`` it first removes the checkpoints and ``result.json`` an earlier run
left there. Worker processes of ``train_many`` die with the process that started them, and the
first run that fails stops the pool from starting any more.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import ro_bench
from ro_bench import agents, algorithms, checkpoint, command, diagnostics, protocols
from ro_bench.configs import from_dict, override, to_dict
from ro_bench.atomic import atomic_write
from ro_bench.evaluation import evaluate, is_decentralized
from ro_bench.params import integer
from ro_bench.results import SCHEMA_VERSION, RunResult, config_hash, entry_name, environment_info
from ro_bench.run_log import RunLog

EVAL_SEED = 1_000_000  # the evaluation batch is reset with EVAL_SEED + seed at every evaluation


def run_dir(out: Path, protocol: str, algo: str, seed: int, tuned: bool = False) -> Path:
    """``<out>/<protocol>/<entry name>/seed_<n>`` (``results.entry_name``)."""
    return Path(out) / protocol / entry_name(algo, tuned) / f"seed_{seed}"


def train(
    algo: str,
    protocol_name: str,
    seed: int,
    out: Path,
    overrides: dict[str, Any] | None = None,
    resume: bool = False,
    progress: bool = True,
    record_samples: int = 0,
    on_evaluation: Callable[[int, float], None] | None = None,
    tuning: dict[str, Any] | None = None,
) -> RunResult:
    """Train and evaluate ``algo`` on a protocol with one seed; returns the written RunResult.

    ``record_samples``: joint actions to sample with ``explore=True`` at each evaluation point
    and keep in the RunResult's ``action_samples`` (stateless games only; 0 records none).
    ``on_evaluation(env_steps, metric)`` is called after each evaluation, once its checkpoint (if
    one is due) is written; an exception it raises stops the run there (tuning prunes trials so),
    resumable from the last checkpoint.
    ``tuning``: the provenance of a tuned config (``RunResult.tuning``), recorded as given.
    """
    protocol = protocols.get(protocol_name)
    agent_cls, config_cls = algorithms.get(algo)
    config = make_config(config_cls, protocol, overrides)
    record_samples = check_record_samples(protocol, record_samples)
    protocol.success_threshold  # noqa: B018  (a protocol that cannot score fails before training)
    directory = run_dir(out, protocol_name, algo, seed, tuning is not None)
    directory.mkdir(parents=True, exist_ok=True)
    values = to_dict(config)
    identity = {"algorithm": algo, "protocol": protocol.name, "protocol_version": protocol.version,
                "seed": seed, "config": values, "config_hash": config_hash(values),
                "record_samples": record_samples}
    with run_lock(directory):
        if resume:
            check_same_run(directory, identity)
        else:
            clear_run(directory)
        with atomic_write(directory / RUN_FILE) as file:
            file.write(json.dumps(identity, indent=1, sort_keys=True).encode())
        return _train(algo, agent_cls, config, protocol, seed, out, directory, overrides, resume,
                      progress, record_samples, on_evaluation, tuning)


def _train(algo: str, agent_cls: type, config: Any, protocol: protocols.Protocol, seed: int,
           out: Path, directory: Path, overrides: dict[str, Any] | None, resume: bool,
           progress: bool, record_samples: int,
           on_evaluation: Callable[[int, float], None] | None,
           tuning: dict[str, Any] | None) -> RunResult:
    """``train``'s loop, in its locked run directory ``directory``."""
    protocol_name = protocol.name
    env = ro_bench.make_vec(protocol.env_id, protocol.num_envs, **protocol.env_kwargs)
    eval_env = ro_bench.make_vec(protocol.env_id, protocol.eval_episodes, **protocol.env_kwargs)
    agent = agent_cls(config, agents.EnvSpaces.from_vec(env), seed)
    obs, _ = env.reset(seed=seed)
    state = {"steps": 0, "curve": [], "returns": [],
             "episode_returns": [] if protocol.keeps_episode_returns else None,
             "decentralized": True, "wall_time_s": 0.0, "action_samples": []}
    restored = checkpoint.load(directory, env, agent) if resume else None
    if restored is not None:
        state, obs = restored
        state.setdefault("action_samples", [])  # a checkpoint from before samples were recorded
        # Per-episode returns only where the protocol keeps them, and none for a checkpoint from
        # before they were kept (or from when every protocol kept them).
        state["episode_returns"] = (state.get("episode_returns")
                                    if protocol.keeps_episode_returns else None)
    log = RunLog(directory, protocol.budget, state["steps"], state["curve"], state["returns"])
    points = [p for p in protocol.eval_points() if p >= state["steps"]]
    if state["curve"] and points and points[0] == state["curve"][-1][0]:
        points = points[1:]  # the checkpoint already holds this evaluation
    started = time.perf_counter() - state["wall_time_s"]
    bar = _progress_bar(protocol.budget, state["steps"], f"{algo} {protocol_name} seed {seed}",
                        progress)

    for point in points:
        while state["steps"] < point:
            obs, metrics = _train_step(agent, env, obs)
            state["steps"] += env.num_envs
            log.update(state["steps"], metrics)
            bar.update(env.num_envs)
        final = point == protocol.budget
        if final and protocol.final_episodes != protocol.eval_episodes:
            eval_env.close()  # the final evaluation's larger batch (marl-eval's absolute metric)
            eval_env = ro_bench.make_vec(protocol.env_id, protocol.final_episodes,
                                         **protocol.env_kwargs)
        evaluation = evaluate(agent, eval_env, EVAL_SEED + seed)
        metric = evaluation.metric(protocol.metric)
        eval_obs, _ = eval_env.reset(seed=EVAL_SEED + seed)
        state["decentralized"] &= is_decentralized(agent, eval_obs[:protocol.eval_episodes],
                                                   np.random.default_rng(seed))
        if record_samples:
            actions, rewards = diagnostics.perceived_samples(agent, eval_env, record_samples,
                                                             EVAL_SEED + seed)
            state["action_samples"].append({"env_steps": state["steps"],
                                            "actions": actions.tolist(),
                                            "rewards": rewards.tolist()})
        state["curve"].append([state["steps"], metric])
        state["returns"].append(evaluation.mean_return)
        if state["episode_returns"] is not None:
            state["episode_returns"].append(evaluation.episode_returns.tolist())
        log.evaluation(state["steps"], metric, evaluation.mean_return)
        state["wall_time_s"] = time.perf_counter() - started
        if protocol.checkpoint_due(state["steps"]):
            checkpoint.save(directory, state["steps"], state, env, obs, agent)
        if on_evaluation is not None:
            on_evaluation(state["steps"], metric)
    bar.close()
    log.close()

    code_revision, packages, hardware = environment_info()
    config_values = to_dict(config)
    result = RunResult(
        schema_version=SCHEMA_VERSION,
        protocol=protocol.name,
        protocol_version=protocol.version,
        algorithm=algo,
        config=config_values,
        config_hash=config_hash(config_values),
        seed=seed,
        env_steps=state["steps"],
        wall_time_s=state["wall_time_s"],
        curve=tuple((int(s), float(m)) for s, m in state["curve"]),
        final_metric=state["curve"][-1][1],
        final_return=state["returns"][-1],
        success=protocol.succeeded(state["curve"][-1][1]),
        decentralized=state["decentralized"],
        code_revision=code_revision,
        packages=packages,
        hardware=hardware,
        command=command.build(algo, protocol_name, seed, out, config_values, overrides,
                              record_samples),
        diagnostics=diagnostics.measure(agent, eval_env, seed=EVAL_SEED + seed),
        action_samples=tuple(state["action_samples"]),
        returns=tuple(state["returns"]),
        tuning=tuning,
        episode_returns=tuple(map(tuple, state["episode_returns"] or ())),
    )
    result.write(directory / "result.json")
    return result


RUN_FILE = "run.json"
LOCK_FILE = ".lock"


class RunDirectoryError(ValueError):
    """A run directory in use by another process, or holding another run to resume."""


class RunInUseError(RunDirectoryError):
    """A run directory whose lock another process holds."""


@contextlib.contextmanager
def run_lock(directory: Path) -> Iterator[None]:
    """Hold ``directory``'s lock for this process, or fail at once naming its owner's pid."""
    with open(directory / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "unknown"
            raise RunInUseError(f"run directory {directory} is in use by process {owner}: "
                                    "wait for it to finish or give another --out") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


def clear_run(directory: Path) -> None:
    """Remove what an earlier run left in ``directory`` before a fresh start records itself:
    its checkpoints would otherwise sit under the new ``run.json`` until the first new one
    replaced them, and a resume after a kill in between would continue the old run."""
    shutil.rmtree(directory / "checkpoints", ignore_errors=True)
    shutil.rmtree(directory / "tensorboard", ignore_errors=True)
    (directory / "result.json").unlink(missing_ok=True)


def check_same_run(directory: Path, identity: dict[str, Any]) -> None:
    """Refuse to resume ``directory`` unless it was started as the run ``identity`` describes."""
    if not (directory / "checkpoints" / "LATEST").exists():
        return  # nothing to resume: the run starts afresh
    try:
        recorded = json.loads((directory / RUN_FILE).read_text())
    except (OSError, ValueError) as err:
        raise RunDirectoryError(f"{directory / RUN_FILE}: cannot tell which run the checkpoint "
                                f"belongs to ({err}); train again without --resume") from None
    differences = [f"{key} {recorded.get(key)!r} there, {identity[key]!r} now"
                   for key in ("algorithm", "protocol", "protocol_version", "seed",
                               "record_samples") if recorded.get(key) != identity[key]]
    if recorded.get("config_hash") != identity["config_hash"]:
        old = recorded.get("config") if isinstance(recorded.get("config"), dict) else {}
        keys = sorted(k for k in {*old, *identity["config"]}
                      if old.get(k) != identity["config"].get(k))
        differences += [f"config {k}={old.get(k, '(unset)')!r} there, "
                        f"{identity['config'].get(k, '(unset)')!r} now" for k in keys]
    if differences:
        raise RunDirectoryError(f"cannot resume {directory}: its checkpoint is of another run ("
                                + "; ".join(differences) + "). Resume with the same options, "
                                "or train without --resume to start it again.")


def make_config(config_cls: type, protocol: protocols.Protocol,
                overrides: dict[str, Any] | None = None) -> Any:
    """The config a run of ``protocol`` trains with: defaults, the budget, then ``overrides``."""
    return override(config_cls(), {**budget_fields(config_cls, protocol), **(overrides or {})})


def budget_fields(config_cls: type, protocol: protocols.Protocol) -> dict[str, Any]:
    """Schedules that span training (e.g. annealing) need the budget: a config field named
    ``total_steps`` is set to the protocol's budget, unless overridden. The RunResult records it."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return {"total_steps": protocol.budget} if "total_steps" in names else {}


def check_record_samples(protocol: protocols.Protocol, record_samples: object) -> int:
    """``record_samples`` as an int >= 0; ValueError unless 0 or the protocol's env is a
    stateless game (a matrix or differential game), the only kind with one observation to sample
    the joint policy at."""
    n = integer("record_samples", record_samples, low=0)
    if n and not diagnostics.is_stateless(
            ro_bench.make_vec(protocol.env_id, 1, **protocol.env_kwargs)):
        family = ro_bench.spec(protocol.env_id).family
        raise ValueError(
            f"record_samples={n} needs a stateless game (the matrix or differential family); "
            f"protocol {protocol.name!r} runs {protocol.env_id!r}, of the {family!r} family. "
            "Use record_samples=0 (no --record-samples) there."
        )
    return n


def _train_step(agent: Any, env: Any, obs: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """One env step of the batch with exploring actions, observed and learned from; the next
    observations and the metrics of ``update()``."""
    state = env.state()
    actions = agent.act(obs, explore=True)
    next_obs, rewards, terminated, truncated, infos = env.step(actions)
    agent.observe(agents.Transitions.from_step(
        obs=obs, state=state, actions=actions, rewards=rewards, next_obs=infos["final_obs"],
        next_state=infos["final_state"], terminated=terminated, truncated=truncated,
    ))
    return next_obs, agent.update()


def _progress_bar(total: int, done: int, description: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc=description, unit="step",
                disable=None if enabled else True,  # None: only on a terminal
                leave=False)


def train_seeds(algo: str, protocol_name: str, seeds: list[int], out: Path,
                overrides: dict[str, Any] | None = None, workers: int = 1,
                resume: bool = False, record_samples: int = 0) -> list[RunResult]:
    """``train`` for each seed, ``workers`` processes at a time; results in seed order."""
    check_record_samples(protocols.get(protocol_name), record_samples)  # before any worker starts
    return train_many([(algo, protocol_name, s, overrides, record_samples) for s in seeds], out,
                      workers, resume, f"{algo} {protocol_name}")


class Run(NamedTuple):
    """One run of ``train_many``: ``train``'s arguments but ``out``, ``resume`` and ``progress``."""

    algo: str
    protocol: str
    seed: int
    overrides: dict[str, Any] | None = None
    record_samples: int = 0
    tuning: dict[str, Any] | None = None

    def train(self, out: Path, resume: bool, progress: bool) -> RunResult:
        return train(self.algo, self.protocol, self.seed, out, self.overrides, resume, progress,
                     self.record_samples, tuning=self.tuning)

    def directory(self, out: Path) -> Path:
        """Its run directory in ``out``."""
        return run_dir(out, self.protocol, self.algo, self.seed, self.tuning is not None)


def train_many(runs: Sequence[Sequence[Any]], out: Path, workers: int = 1, resume: bool = False,
               description: str = "runs") -> list[RunResult]:
    """``train`` for each run (a ``Run``, or a tuple of its fields), in this order, ``workers``
    processes sharing one queue; the RunResults in the same order. One process shows each run's
    steps; several, the runs done."""
    integer("workers", workers, low=1)
    runs = [Run(*run) for run in runs]
    run_directories(runs, out)
    if workers == 1:
        return [run.train(out, resume, True) for run in runs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(run.train, out, resume, False) for run in runs]
        try:
            for future in tqdm(futures, desc=description, unit="run", leave=False):
                future.result()
        except BaseException:
            # Report the failure now, not after every queued run: runs under way finish, the
            # rest never start.
            pool.shutdown(cancel_futures=True)
            raise
        return [f.result() for f in futures]


def run_directories(runs: Sequence[Sequence[Any]], out: Path) -> list[Path]:
    """The run directory of each run (a ``Run`` or a tuple of its fields) in ``out``;
    ValueError if two runs would share one."""
    directories: dict[Path, int] = {}
    for i, run in enumerate(Run(*run) for run in runs):
        directory = run.directory(out)
        if directory in directories:
            raise ValueError(f"seed {run.seed} of {directory.parent.name} on {run.protocol} is "
                             f"asked for twice (runs {directories[directory]} and {i}): each "
                             "seed runs once")
        directories[directory] = i
    return list(directories)


def die_with_parent(parent: int) -> None:
    """Make this worker process die when ``parent`` does (a pool's initializer): a SIGKILLed
    parent must not leave workers training on, then hung on a queue nobody reads. Linux asks the
    kernel for a SIGKILL on the parent's death; elsewhere a thread watches the parent's pid."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the request above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def load_agent(directory: Path) -> tuple[Any, Any, RunResult]:
    """The trained agent of a finished run, from its RunResult and last checkpoint.

    Returns ``(agent, env, result)``, ``env`` being a one-env batch of the run's protocol.
    """
    if not (Path(directory) / "result.json").is_file():
        raise ValueError(f"{directory} holds no result.json: give the directory of a finished run, "
                         "e.g. OUT/<protocol>/<algorithm>/seed_0")
    result = RunResult.read(Path(directory) / "result.json")
    protocol = protocols.get(result.protocol)
    agent_cls, config_cls = algorithms.get(result.algorithm)
    env = ro_bench.make_vec(protocol.env_id, 1, **protocol.env_kwargs)
    agent = agent_cls(from_dict(config_cls, result.config), agents.EnvSpaces.from_vec(env),
                      result.seed)
    if checkpoint.load(directory, env, agent) is None:
        raise ValueError(f"{directory} has no checkpoint to load the trained agent from")
    return agent, env, result
