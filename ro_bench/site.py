"""The generated leaderboard: ``<board>/README.md`` and the page ``<board>/site/``.

``write_board`` reads the RunResults of record, draws the figures (``ro_bench.plots``) into
``site/`` and writes the same tables twice: as Markdown in the board's README and as the static
page ``site/index.html``. Both are generated; neither is edited by hand. ``ro-bench leaderboard
--write`` runs it.

Figures per protocol: the learning curves of every entry (Figure 4); for an entry whose runs
recorded action samples (``--record-samples``), the joint actions sampled over training
(Figures 5, 7) of its first seed, and on ``two_modalities`` the perceived joint policy's density
(Figure 3). Above the tables: the RO-severity curve of every algorithm run on the Max of Three
widths (``ro-bench sweep-s2``), and on Particle Gather's levels, each labelled with its
random-action rates.

The README, the page and its figures are replaced in one transaction (``ro_bench.journal``) under
the board's lock: a regeneration killed at any moment leaves the old set or the new one, and the
page never refers to a figure that is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from ro_bench import journal, leaderboard, plots, protocols
from ro_bench.envs import particle_gather_severity as gather_levels
from ro_bench.submit import BOARD

SITE = "site"


def figure_plan(tables: dict[str, list[leaderboard.Entry]]
                ) -> list[tuple[str, str, str, Callable[[Path], Path]]]:
    """The page's figures as ``(section, file, caption, draw)``; ``draw(path)`` writes the PNG.
    ``section`` is a protocol name or ``"overview"``."""
    results = [r for entries in tables.values() for e in entries for r in e.results]
    plan = []
    severity = [r for r in results if protocols.get(r.protocol).env_id == "max_of_three"]
    if severity:
        optimum, trap = plots.shared_references(severity)
        plan.append(("overview", "ro_severity.png", "RO severity: the final metric against the "
                     "width s2 of Max of Three's optimal bowl, per algorithm",
                     partial(_severity, severity, optimum, trap)))
    gather = [r for r in results if r.protocol in gather_levels.LEVELS]
    if gather:
        plan.append(("overview", "ro_severity_particle_gather.png", "RO severity on Particle "
                     "Gather: the final-step reward on each level, per algorithm, under each "
                     "level's random-action rates of 'both in' and 'exactly one in'",
                     partial(_gather_severity, gather)))
    for name, entries in tables.items():
        if not entries:  # a table of the paper's figures alone: no curves to draw
            continue
        by_algo = {e.name: list(e.results) for e in entries}
        plan.append((name, f"curves_{_file(name)}.png",
                     f"{name}: learning curves, mean ± std over seeds (Figure 4)",
                     partial(plots.learning_curves, by_algo, name)))
        for entry in entries:
            run = next((r for r in entry.results if r.action_samples), None)
            if run is None:
                continue
            stem = f"{_file(name)}_{_file(entry.name)}_seed_{run.seed}"
            plan.append((name, f"samples_{stem}.png", f"{name}, {entry.name} seed "
                         f"{run.seed}: joint actions sampled over training (Figures 5, 7)",
                         partial(plots.joint_action_samples, run)))
            if protocols.get(name).env_id == "two_modalities":
                plan.append((name, f"density_{stem}.png", f"{name}, {entry.name} seed "
                             f"{run.seed}: density of the perceived joint policy (Figure 3)",
                             partial(plots.perceived_density, run)))
    return plan


def _severity(results: list, optimum: float | None, trap: float | None, path: Path) -> Path:
    return plots.ro_severity(plots.severity_points(results), path, optimum, trap)


def _gather_severity(results: list, path: Path) -> Path:
    references = {(protocols.get(n).optimum, protocols.get(n).trap) for n in gather_levels.LEVELS}
    optimum, trap = references.pop() if len(references) == 1 else (None, None)
    return plots.ro_severity(plots.gather_severity_points(results), path, optimum, trap,
                             plots.gather_axis())


def images(plan: list, prefix: str = "") -> dict[str, list[tuple[str, str]]]:
    """``{section: [(prefix + file, caption)]}`` for ``leaderboard.to_html``/``to_markdown``."""
    out: dict[str, list[tuple[str, str]]] = {}
    for section, file, caption, _ in plan:
        out.setdefault(section, []).append((prefix + file, caption))
    return out


def write_board(board: Path = BOARD) -> list[Path]:
    """Write ``board/README.md`` and ``board/site/`` from the board's RunResults."""
    board = Path(board)
    with journal.locked(board), journal.transaction(board) as tx:
        tables = leaderboard.read_tables(board, protocols.list())
        plan = figure_plan(tables)
        figures = [Path(SITE) / file for _, file, _, _ in plan]
        for figure, (_, _, _, draw) in zip(figures, plan):
            draw(tx.path(figure))
        tx.write(Path(SITE) / "index.html", leaderboard.to_html(tables, images(plan)).encode())
        tx.write("README.md", leaderboard.to_markdown(tables, images(plan, f"{SITE}/")).encode())
        for old in sorted((board / SITE).glob("*.png")):
            if old.relative_to(board) not in figures:
                tx.delete(old.relative_to(board))
    return [board / "README.md", board / SITE / "index.html", *(board / f for f in figures)]


def _file(name: str) -> str:
    return name.replace(":", ".").replace("/", ".")
