"""The paper's figures drawn from RunResults, each written as one PNG.

``learning_curves``
    The metric against env steps, mean and std over seeds, one line per algorithm, with the
    protocol's optimum and RO trap (Figure 4).
``joint_action_samples``
    The joint actions sampled with ``explore=True`` at evaluation points over training, projected
    on the first two agents and coloured by the team reward, with the game's modes (Figures 5, 7).
``perceived_density``
    The density of the perceived joint policy at the end of training, over the contour lines of
    the game's reward (Figure 3).
``ro_severity``
    The final metric against the width ``s2`` of Max of Three's optimal bowl, one line per
    algorithm: the smaller ``s2``, the more severe the RO (the sweep of Figure 4 (a-c)).

The sampled joint actions are a RunResult's ``action_samples``, recorded when a run is trained with
``--record-samples N``. ``ro-bench plot`` draws these figures from RunResult files.

matplotlib is imported only when a figure is drawn (``pip install 'ro-bench[board]'``). Figures
are drawn on the Agg canvas, without pyplot's global state, and written without the software
version in the PNG metadata: the same results give the same file on the same matplotlib.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import ro_bench
from ro_bench import algorithms, protocols
from ro_bench.envs import particle_gather_severity as severity
from ro_bench.envs.differential_game import DifferentialGame
from ro_bench.registry import MissingDependencyError
from ro_bench.results import TUNED_SUFFIX, result_entry_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ro_bench.results import RunResult

KINDS = ("curves", "samples", "density", "severity")
MAX_PANELS = 6  # evaluation points shown by joint_action_samples
GRID = 201  # points per axis of the reward contours
BINS = 50  # histogram bins per axis of the perceived density
DPI = 100


# --- Figures -------------------------------------------------------------------------------------

def learning_curves(
    results_by_algo: Mapping[str, Sequence[RunResult]], protocol: str, path: str | Path
) -> Path:
    """Figure 4: each algorithm's metric against env steps, mean ± std over its seeds.

    Seeds are aligned on the evaluation steps they all share. The protocol's optimum and RO trap
    are dashed horizontal lines (one line when they are equal, as on Two Modalities).
    """
    spec = protocols.get(protocol)
    if not results_by_algo:
        raise ValueError(f"no runs to draw the learning curves of {protocol!r}")
    fig = _figure(7.0 + _legend_width(len(results_by_algo)), 4.5)
    ax = fig.add_subplot()
    look = styles(list(results_by_algo))
    for algo, results in results_by_algo.items():
        steps, mean, std = _curve_stats(algo, protocol, results)
        ax.plot(steps, mean, label=f"{algo} ({len(results)} seeds)", markevery=0.1,
                **look[algo])
        ax.fill_between(steps, mean - std, mean + std, color=look[algo]["color"], alpha=0.2,
                        linewidth=0)
    _reference_lines(ax, spec.optimum, spec.trap)
    ax.set(xlabel="env steps", ylabel=spec.metric.replace("_", " "),
           title=f"{protocol}: mean ± std over seeds")
    _legend(fig, ax, len(results_by_algo))
    ax.grid(alpha=0.3)
    return _save(fig, path)


def joint_action_samples(result: RunResult, path: str | Path, panels: int = MAX_PANELS) -> Path:
    """Figures 5 and 7: the recorded joint actions at up to ``panels`` evaluation points.

    The points are evenly spaced over the recorded ones, the first and last included. Each panel
    scatters the sampled joint actions projected on the first two agents, ``(u1, u2)``, coloured
    by their team reward on one scale shared by the panels; the best-rewarded points are drawn on
    top. The game's modes are marked with their reward when the game is a differential game.
    """
    records = _records(result)
    shown = [records[i] for i in _evenly_spaced(len(records), panels)]
    actions = [_actions(record) for record in shown]
    rewards = [np.asarray(record["rewards"], dtype=np.float64) for record in shown]
    n_agents = actions[0].shape[1]
    if n_agents < 2:
        raise ValueError(f"{result.protocol} has one agent: there is no joint action to project")
    game = _game(result.protocol)
    low = min(float(r.min()) for r in rewards)
    high = max(max(float(r.max()) for r in rewards), game.optimum_reward)
    ncols = min(3, len(shown))
    nrows = math.ceil(len(shown) / ncols)
    fig = _figure(3.6 * ncols + 1.2, 3.4 * nrows + 0.8)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(shown):]:
        ax.remove()
    for ax, record, u, r in zip(axes, shown, actions, rewards):
        order = np.argsort(r, kind="stable")
        points = ax.scatter(u[order, 0], u[order, 1], c=r[order], s=8, cmap="viridis",
                            vmin=low, vmax=high, linewidths=0, zorder=5)  # above the modes
        _mark_modes(ax, game, (0, 1), label=True)
        _action_box(ax, game)
        ax.set(title=f"{record['env_steps']} env steps", xlabel="u1 (agent_0)",
               ylabel="u2 (agent_1)")
    fig.colorbar(points, ax=list(axes[:len(shown)]), label="team reward")
    projection = f", projected on (u1, u2) of {n_agents} agents" if n_agents > 2 else ""
    fig.suptitle(f"{result.algorithm} on {result.protocol}, seed {result.seed}: sampled joint "
                 f"actions{projection}, coloured by team reward")
    return _save(fig, path)


def perceived_density(result: RunResult, path: str | Path) -> Path:
    """Figure 3: the density of the perceived joint policy at the last recorded evaluation.

    A 2-D histogram of the sampled joint actions over ``(u1, u2)``, and over ``(u2, u3)`` when
    there are three agents or more, each bin shaded by its share of the samples (empty bins left
    clear). Beneath it, the contour lines of the best reward the two agents can get when the
    other agents play their best: the reward maximised over the other agents' actions. The bowls
    are separable, so that maximum is the larger of the rewards with the other agents at each
    mode's coordinates, which is how it is computed. The modes are marked with the share of the
    samples that lies in their basin (``ro_bench.diagnostics``).
    """
    from ro_bench.diagnostics import sampled_basin_shares

    record = _records(result)[-1]
    u = _actions(record)
    game = _game(result.protocol)
    if not isinstance(game, DifferentialGame):
        raise ValueError(f"the perceived density needs a differential game; {result.protocol} "
                         f"runs {protocols.get(result.protocol).env_id}")
    shares = sampled_basin_shares(game, u)
    pairs = [(0, 1), (1, 2)] if game.n_agents >= 3 else [(0, 1)]
    fig = _figure(5.2 * len(pairs) + 1.0, 5.0)
    axes = fig.subplots(1, len(pairs), squeeze=False).ravel()
    for ax, pair in zip(axes, pairs):
        _reward_contours(ax, game, pair)
        mesh = _density(ax, game, u[:, list(pair)])
        _mark_modes(ax, game, pair, label=False)
        for k, mode in enumerate(game.modes):
            ax.annotate(f"mode {k}: {shares[k]:.0%}", mode[list(pair)], xytext=(6, 6),
                        textcoords="offset points", fontsize="small", weight="bold")
        ax.set(xlabel=f"u{pair[0] + 1} (agent_{pair[0]})", ylabel=f"u{pair[1] + 1} "
               f"(agent_{pair[1]})", aspect="equal")
    fig.colorbar(mesh, ax=list(axes), label="share of the samples")
    fig.suptitle(f"{result.algorithm} on {result.protocol}, seed {result.seed}: perceived joint "
                 f"policy after {record['env_steps']} env steps ({len(u)} samples)\n"
                 f"over the best reward given the other agents (contours)")
    return _save(fig, path)


MAX_OF_THREE_AXIS = ("s2, width of the optimal bowl (smaller: more severe RO)",
                     "RO severity on Max of Three: mean ± std over seeds, seeds as dots", None)


def ro_severity(
    points: Mapping[str, Sequence[tuple[float, Sequence[float]]]],
    path: str | Path,
    optimum: float | None = None,
    trap: float | None = None,
    axis: tuple[str, str, Mapping[float, str] | None] = MAX_OF_THREE_AXIS,
) -> Path:
    """The RO-severity curve: each algorithm's final metric against the severity level.

    ``points`` maps an algorithm to ``(level, final metrics of its seeds)`` pairs (see
    ``severity_points``: the level is Max of Three's ``s2``; ``gather_severity_points``).
    Lines join the means with ± std error bars; each seed is a dot, shifted a little sideways per
    algorithm so that algorithms do not hide each other. ``optimum`` and ``trap`` are drawn as
    dashed lines when given. ``axis``: the x label, the title and the tick labels (None: the
    levels' values).
    """
    if not any(finals for pairs in points.values() for _, finals in pairs):
        raise ValueError("no (s2, final metrics) points to draw the RO-severity curve from")
    s2_values = sorted({s2 for pairs in points.values() for s2, finals in pairs if finals})
    span = (s2_values[-1] - s2_values[0]) or 1.0
    fig = _figure(6.5 + _legend_width(len(points)), 4.5)
    ax = fig.add_subplot()
    look = styles(list(points))
    for k, (algo, pairs) in enumerate(points.items()):
        pairs = sorted((float(s2), np.asarray(finals, float)) for s2, finals in pairs if finals)
        if not pairs:
            continue
        s2 = np.array([p[0] for p in pairs])
        shift = (k - (len(points) - 1) / 2) * 0.015 * span
        ax.errorbar(s2 + shift, [f.mean() for _, f in pairs], [f.std() for _, f in pairs],
                    capsize=4, label=algo, **look[algo])
        seeds_x = np.concatenate([np.full(len(f), x + shift) for x, f in pairs])
        ax.scatter(seeds_x, np.concatenate([f for _, f in pairs]), s=12, alpha=0.5,
                   color=look[algo]["color"], linewidths=0)
    _reference_lines(ax, optimum, trap)
    xlabel, title, labels = axis
    if labels is None:
        ax.set_xticks(s2_values)
    else:
        ax.set_xticks(s2_values, [labels[x] for x in s2_values], fontsize="x-small")
    ax.set(xlabel=xlabel, ylabel="final metric", title=title)
    _legend(fig, ax, len(points))
    ax.grid(alpha=0.3)
    return _save(fig, path)


def severity_points(results: Sequence[RunResult]) -> dict[str, list[tuple[float, list[float]]]]:
    """``{algorithm: [(s2, [final metric of each seed]), ...]}`` from Max of Three runs.

    ``s2`` is the protocol's env kwarg (or the env's default); a protocol that is not registered
    here is read from its name, ``max_of_three-s2=<x>``. Runs on other games are left out.
    """
    finals: dict[str, dict[float, list[float]]] = {}
    for r in results:
        s2 = _max_of_three_s2(r.protocol)
        if s2 is not None:
            finals.setdefault(result_entry_name(r), {}).setdefault(s2, []).append(r.final_metric)
    if not finals:
        seen = ", ".join(sorted({r.protocol for r in results})) or "none"
        raise ValueError(f"the RO-severity curve needs runs on max_of_three protocols "
                         f"(max_of_three-s2=<x>); got protocols: {seen}")
    return {algo: sorted(by_s2.items()) for algo, by_s2 in sorted(finals.items())}


def gather_severity_points(results: Sequence[RunResult]
                           ) -> dict[str, list[tuple[float, list[float]]]]:
    """``{algorithm: [(level, [final metric of each seed]), ...]}`` from runs on Particle
    Gather's severity levels (``particle_gather_severity.LEVELS``, level 0 the easiest)."""
    levels = {name: k for k, name in enumerate(severity.LEVELS)}
    finals: dict[str, dict[float, list[float]]] = {}
    for r in results:
        if r.protocol in levels:
            finals.setdefault(result_entry_name(r), {}).setdefault(levels[r.protocol], []).append(
                r.final_metric)
    return {algo: sorted(by_level.items()) for algo, by_level in sorted(finals.items())}


def gather_axis() -> tuple[str, str, dict[float, str]]:
    """``ro_severity``'s axis for Particle Gather: each level's setting and random-action rates."""
    labels = {}
    for k, key in enumerate(severity.LEVELS.values()):
        rates = severity.published(key)[0]
        labels[k] = (f"{severity.describe(key)}\nboth in {100 * rates.both_in:.2g}%, "
                     f"one in {100 * rates.one_in:.2g}%")
    return ("level (right: rarer random 'both in', more severe RO); rates under random actions",
            "RO severity on Particle Gather: mean ± std over seeds, seeds as dots", labels)


def shared_references(results: Sequence[RunResult]) -> tuple[float | None, float | None]:
    """The optimum and trap of the Max of Three protocols in ``results`` if they all share them
    (they do for s2 up to about 5.8: beyond, the optimal bowl lifts the trap), else none."""
    names = {r.protocol for r in results if _max_of_three_s2(r.protocol) is not None}
    if not names <= set(protocols.list()):
        return None, None
    references = {(protocols.get(name).optimum, protocols.get(name).trap) for name in names}
    return references.pop() if len(references) == 1 else (None, None)


# --- Runs on disk (ro-bench plot) ----------------------------------------------------------------

def find_results(paths: Sequence[str | Path]) -> list[RunResult]:
    """The RunResults in ``paths``: files, or directories searched for ``result.json`` and
    ``seed_*.json``. Two files for the same protocol, algorithm and seed are an error."""
    from ro_bench.results import RunResult

    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted({*path.rglob("result.json"), *path.rglob("seed_*.json")})
            files += [f for f in found if f.is_file()]
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"--runs {path}: no such file or directory")
    by_run: dict[tuple[str, str, int], Path] = {}
    results = []
    for file in dict.fromkeys(f.resolve() for f in files):
        result = RunResult.read(file)
        run = (result.protocol, result.algorithm, result.seed)
        if run in by_run:
            raise ValueError(f"two results of {run[1]} on {run[0]}, seed {run[2]}: {by_run[run]} "
                             f"and {file}; give only one of them")
        by_run[run] = file
        results.append(result)
    if not results:
        raise ValueError("no RunResult files (result.json, seed_*.json) in "
                         + ", ".join(map(str, paths)))
    return results


def draw(kind: str, results: Sequence[RunResult], out: str | Path) -> list[Path]:
    """Draw the figures of ``kind`` (one of ``KINDS``) from ``results`` into ``out``.

    ``curves``: one figure per protocol. ``samples`` and ``density``: one per run that recorded
    action samples (``density``: on a differential game); the others are skipped. ``severity``:
    one figure of the Max of Three runs.
    """
    out = Path(out)
    if kind == "curves":
        return [learning_curves(by_algo, protocol, out / f"curves_{_safe(protocol)}.png")
                for protocol, by_algo in _by_protocol(results).items()]
    if kind == "severity":
        optimum, trap = shared_references(results)
        return [ro_severity(severity_points(results), out / "ro_severity.png", optimum, trap)]
    if kind in ("samples", "density"):
        return _draw_runs(kind, results, out)
    raise ValueError(f"unknown kind of plot {kind!r}; kinds: {', '.join(KINDS)}")


# --- Helpers -------------------------------------------------------------------------------------

COLOURS = tuple(f"tab:{c}" for c in ("blue", "orange", "green", "red", "purple", "brown", "pink",
                                     "gray", "olive", "cyan"))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LEGEND_INSIDE = 8  # more entries than this: the legend goes right of the axes


def styles(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each entry's line style, as matplotlib keywords. An algorithm's colour and marker come from
    its place among the registered algorithms (``ro_bench.algorithms.names()``, then ``names``'
    others in order): tab10's ten colours with the first marker, then again with the next one.
    So an algorithm looks the same in every figure, and no two look alike when more than ten are
    drawn. An entry ``ALGO+tuned`` is drawn in ALGO's colour and marker, dashed with a hollow
    marker, so a method's default and tuned entries read as one family."""
    given = [name.removesuffix(TUNED_SUFFIX) for name in names]
    place = {base: k for k, base in enumerate(dict.fromkeys([*algorithms.names(), *given]))}
    look = {}
    for name in names:
        k = place[name.removesuffix(TUNED_SUFFIX)]
        colour, marker = COLOURS[k % len(COLOURS)], MARKERS[k // len(COLOURS) % len(MARKERS)]
        look[name] = {"color": colour, "marker": marker}
        if name.endswith(TUNED_SUFFIX):
            look[name] |= {"linestyle": "--", "markerfacecolor": "none"}
    return look


def _legend_outside(entries: int) -> bool:
    return entries > LEGEND_INSIDE


def _legend_width(entries: int) -> float:
    """Inches added to a figure's width for a legend drawn outside its axes."""
    return 2.0 if _legend_outside(entries) else 0.0


def _legend(fig: Figure, ax: Axes, entries: int) -> None:
    if _legend_outside(entries):
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    else:
        ax.legend(loc="best", fontsize="small")


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "plots need matplotlib: pip install 'ro-bench[board]'") from None
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _curve_stats(
    algo: str, protocol: str, results: Sequence[RunResult]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps shared by every seed, and the metric's mean and std over seeds at those steps."""
    if not results:
        raise ValueError(f"no runs of {algo} on {protocol}")
    others = sorted({r.protocol for r in results} - {protocol})
    if others:
        raise ValueError(f"runs of {algo} on {', '.join(others)} given for {protocol}'s curves")
    curves = [dict(r.curve) for r in results]
    steps = sorted(set.intersection(*(set(c) for c in curves)))
    if not steps:
        raise ValueError(f"the seeds of {algo} on {protocol} share no evaluation step")
    metrics = np.array([[c[s] for s in steps] for c in curves])
    return np.array(steps), metrics.mean(axis=0), metrics.std(axis=0)


def _reference_lines(ax: Axes, optimum: float | None, trap: float | None) -> None:
    if optimum is not None and optimum == trap:
        ax.axhline(optimum, color="0.2", linestyle="--", linewidth=1,
                   label=f"optimum = trap ({optimum:g})")
        return
    if optimum is not None:
        ax.axhline(optimum, color="tab:green", linestyle="--", linewidth=1,
                   label=f"optimum ({optimum:g})")
    if trap is not None:
        ax.axhline(trap, color="tab:red", linestyle="--", linewidth=1,
                   label=f"RO trap ({trap:g})")


def _records(result: RunResult) -> tuple[Mapping[str, Any], ...]:
    records = tuple(getattr(result, "action_samples", ()) or ())
    if not records:
        raise ValueError(f"{result.algorithm} on {result.protocol}, seed {result.seed} has no "
                         f"action samples: re-run with --record-samples N")
    return records


def _actions(record: Mapping[str, Any]) -> np.ndarray:
    """``[N, n_agents]`` joint actions of a record."""
    actions = np.asarray(record["actions"], dtype=np.float64)
    return actions.reshape(len(actions), -1)


def _evenly_spaced(n: int, k: int) -> list[int]:
    """Up to ``k`` indices evenly spaced over ``range(n)``, the first and last included."""
    return sorted({round(i) for i in np.linspace(0, n - 1, min(n, k))})


def _game(protocol: str) -> Any:
    spec = protocols.get(protocol)
    return ro_bench.make_vec(spec.env_id, 1, **spec.env_kwargs)


def _mark_modes(ax: Axes, game: Any, pair: tuple[int, int], label: bool) -> None:
    for mode in getattr(game, "modes", ()):
        ax.scatter(*mode[list(pair)], marker="*", s=260, facecolors="none", edgecolors="red",
                   linewidths=1.5, zorder=4)
        if label:
            ax.annotate(f"r = {game.reward_at(mode):.3g}", mode[list(pair)], xytext=(7, 7),
                        textcoords="offset points", fontsize="small", color="red", zorder=6)


def _action_box(ax: Axes, game: Any) -> None:
    bound = getattr(game, "action_bound", None)
    if bound is not None:
        ax.set(xlim=(-bound, bound), ylim=(-bound, bound), aspect="equal")


def _reward_contours(ax: Axes, game: DifferentialGame, pair: tuple[int, int]) -> None:
    """Contours of the reward over ``pair``, maximised over the other agents (see
    ``perceived_density``)."""
    axis = np.linspace(-game.action_bound, game.action_bound, GRID)
    x, y = np.meshgrid(axis, axis)
    best = np.full(x.size, -np.inf)
    for mode in game.modes:
        u = np.tile(mode, (x.size, 1))
        u[:, pair[0]], u[:, pair[1]] = x.ravel(), y.ravel()
        best = np.maximum(best, game.payoff(u[..., None]))
    # Levels at round distances below the optimum (1, 2, 5, 10, 20, 50, ...): readable labels.
    spread = game.optimum_reward - best.min()
    if spread <= 0:
        return
    top = math.floor(math.log10(spread))
    drops = [m * 10.0**e for e in range(top - 1, top + 1) for m in (1, 2, 5)]
    levels = sorted(game.optimum_reward - d for d in drops if d < spread)
    lines = ax.contour(x, y, best.reshape(x.shape), levels=levels, colors="0.55",
                       linewidths=0.8, negative_linestyles="solid", zorder=1)
    ax.clabel(lines, fontsize=7, fmt="%.3g")


def _density(ax: Axes, game: DifferentialGame, u: np.ndarray) -> Any:
    bound = game.action_bound
    counts, xs, ys = np.histogram2d(u[:, 0], u[:, 1], bins=BINS,
                                    range=[[-bound, bound], [-bound, bound]])
    share = np.ma.masked_equal(counts.T / len(u), 0.0)
    return ax.pcolormesh(xs, ys, share, cmap="plasma_r", alpha=0.9, zorder=2)


def _max_of_three_s2(protocol: str) -> float | None:
    try:
        spec = protocols.get(protocol)
    except ValueError:
        match = re.fullmatch(r"max_of_three-s2=(\d+(?:\.\d*)?)", protocol)
        return float(match[1]) if match else None
    if spec.env_id != "max_of_three":
        return None
    return float(_game(protocol).s2)


def _by_protocol(results: Sequence[RunResult]) -> dict[str, dict[str, list[RunResult]]]:
    grouped: dict[str, dict[str, list[RunResult]]] = {}
    for r in sorted(results, key=lambda r: (r.protocol, r.algorithm, r.seed)):
        grouped.setdefault(r.protocol, {}).setdefault(r.algorithm, []).append(r)
    return grouped


def _draw_runs(kind: str, results: Sequence[RunResult], out: Path) -> list[Path]:
    draw_one = joint_action_samples if kind == "samples" else perceived_density
    runs = [r for r in sorted(results, key=lambda r: (r.protocol, r.algorithm, r.seed))
            if getattr(r, "action_samples", ())
            and (kind == "samples" or isinstance(_game(r.protocol), DifferentialGame))]
    if not runs:
        need = "action samples" if kind == "samples" else "action samples on a differential game"
        raise ValueError(f"none of the {len(results)} runs has {need}: re-run with "
                         f"--record-samples N")
    return [draw_one(r, out / f"{kind}_{_safe(r.protocol)}_{_safe(r.algorithm)}_seed_{r.seed}.png")
            for r in runs]


def _safe(name: str) -> str:
    """``name`` as a file name: the separators that module:Class names carry become dots."""
    return re.sub(r"[:/\\]", ".", name)
