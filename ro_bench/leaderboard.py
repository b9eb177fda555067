"""Leaderboards: the RunResults of record as ranked tables, with the paper's figures beside ours.

The board is a directory of RunResults, ``<board>/<protocol>/<algorithm>/seed_<n>.json``, filled
by ``ro-bench submit``. An *entry* is one algorithm's seeds on one protocol. Per entry the tables
show:

- the final metric's mean +- std over seeds (population std, as the harness summary prints it);
- the same for each metric the protocol shows beside it (``Protocol.also``: the mean per-step
  reward on Particle Gather);
- its interquartile mean (IQM) with a 95% stratified-bootstrap confidence interval, computed by
  rliable (``BOOTSTRAP_REPS`` resamples from a fixed random state, so a table regenerates
  identically);
- what each seed reached (below each table);
- the success rate (seeds whose final metric reached the protocol's success threshold), "–"
  where the protocol defines no success (MaMuJoCo: no optimum);
- the env steps each seed trained for and the median wall time;
- whether every seed's execution was verified decentralized;
- the ERO gap and the mode coverage (``ro_bench.diagnostics``), averaged over seeds, on the
  stateless games where the harness measures them;
- the paper's figure (``ro_bench/data/paper.json``, Tables 1-3) where the paper reports one;
- whether ``ro-bench verify`` re-ran seeds of the entry to the same numbers, when, on what code
  revision and which seeds (its record ``verification.json``, ``ro_bench.verify.status``);
- the command that re-runs the entry;
- beside the algorithm's name, "tuned: N TPE trials" when its config came from a study of
  ``ro-bench tune`` (``RunResult.tuning``), so that tuned and default entries are never confused;
  a tuned entry is filed as ``<algorithm>+tuned`` and sits beside the default one.

Every string a table shows is escaped for its format: HTML by ``html.escape``, Markdown by a
backslash before each character Markdown gives a meaning to, and commands as code spans fenced
by more backticks than they hold. A submitted name or command can change no table but its own
cell.

A protocol with the paper's figures gets its table even before any entry is run (the MaMuJoCo
full track beside Table 1), its rows marked "not run". Each protocol's line states its note
(``Protocol.note``), e.g. that the MaMuJoCo CPU track is not comparable with the paper.

Entries are ranked by IQM, equal IQMs by mean (one seed of five at the optimum leaves the IQM
at 0). Per protocol family (the env family: matrix, differential, particle, mamujoco) a
probability-of-improvement matrix P(X > Y), averaged over the family's protocols that both
algorithms were run on, is computed with rliable as well.
"""

from __future__ import annotations

import html
import json
import re
import shlex
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ro_bench import journal, protocols, verify
from ro_bench.envs import particle_gather_severity as severity
from ro_bench.results import RunResult, entry_name
from ro_bench.submit import BOARD

BOOTSTRAP_REPS = 2000  # about 0.1 ms each; rliable's own examples use 2000 for CIs
CONFIDENCE = 0.95


@cache
def paper() -> dict[str, Any]:
    """The paper's Tables 1-3: ``{"citation", "note", "tables", "results": [...]}``."""
    return json.loads(resources.files("ro_bench").joinpath("data/paper.json").read_text())


def paper_figure(protocol: str, algorithm: str) -> tuple[float, float] | None:
    """The paper's (mean, std) for an algorithm on a protocol, or None."""
    for row in paper()["results"]:
        if row["protocol"] == protocol and row["algorithm"] == algorithm:
            return row["mean"], row["std"]
    return None


@dataclass(frozen=True)
class Entry:
    """One algorithm's seeds on one protocol, and their statistics."""

    protocol: str
    algorithm: str
    results: tuple[RunResult, ...]  # in seed order
    iqm: float
    iqm_ci: tuple[float, float]
    verification: Any = None
    """``ro_bench.verify.VerificationStatus`` of a current record, or None: not verified."""

    @property
    def finals(self) -> np.ndarray:
        return np.array([r.final_metric for r in self.results])

    @property
    def also(self) -> dict[str, list[float]]:
        """Each of the protocol's ``also`` metrics, per seed."""
        protocol = protocols.get(self.protocol)
        per_seed = [protocol.also_values(r.final_return) for r in self.results]
        return {name: [values[name] for values in per_seed] for name in protocol.also}

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.results]

    @property
    def mean(self) -> float:
        return float(self.finals.mean())

    @property
    def std(self) -> float:
        return float(self.finals.std())

    @property
    def success_rate(self) -> float | None:
        """The share of seeds that succeeded; None where the protocol defines no success."""
        if any(r.success is None for r in self.results):
            return None
        return sum(r.success for r in self.results) / len(self.results)

    @property
    def env_steps(self) -> list[int]:
        return sorted({r.env_steps for r in self.results})

    @property
    def median_wall_time_s(self) -> float:
        return float(np.median([r.wall_time_s for r in self.results]))

    @property
    def decentralized(self) -> bool:
        return all(r.decentralized for r in self.results)

    @property
    def ero_gap(self) -> float | None:
        gaps = [r.diagnostics["ero_gap"] for r in self.results if _diagnostics(r)]
        return float(np.mean(gaps)) if gaps else None

    @property
    def mode_coverage(self) -> list[float] | None:
        shares = [r.diagnostics["mode_coverage"] for r in self.results if _diagnostics(r)]
        return np.mean(shares, axis=0).tolist() if shares else None

    @property
    def paper(self) -> tuple[float, float] | None:
        return paper_figure(self.protocol, self.algorithm)

    @property
    def tuning(self) -> dict | None:
        """The study that tuned the entry's config (its first seed's record), or None."""
        return getattr(self.results[0], "tuning", None)

    @property
    def name(self) -> str:
        """The entry's name on the board: the algorithm's, ``+tuned`` for a tuned config."""
        return entry_name(self.algorithm, self.tuning is not None)

    @property
    def label(self) -> str:
        return entry_label(self.algorithm, self.results)

    @property
    def command(self) -> str:
        """The ``ro-bench evaluate`` command that re-runs every seed of the entry."""
        words = self.results[0].command
        out: list[str] = []
        skip = False
        for word in words:
            if skip:
                skip = False
                continue
            if word in ("--seed", "--out"):
                skip = True
                continue
            out.append("evaluate" if word == "train" else word)
        out += ["--seeds", _seed_text(self.seeds), "--out", "runs"]
        return shlex.join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "entry": self.name,
            "seeds": self.seeds,
            "final_metrics": self.finals.tolist(),
            "also": self.also,
            "mean": self.mean,
            "std": self.std,
            "iqm": self.iqm,
            "iqm_ci": list(self.iqm_ci),
            "success_rate": self.success_rate,
            "env_steps": self.env_steps,
            "median_wall_time_s": self.median_wall_time_s,
            "decentralized": self.decentralized,
            "ero_gap": self.ero_gap,
            "mode_coverage": self.mode_coverage,
            "paper": list(self.paper) if self.paper else None,
            "verified": self.verification.to_json() if self.verification else None,
            "command": self.command,
            "tuning": self.tuning,
        }


def _diagnostics(result: RunResult) -> dict | None:
    return getattr(result, "diagnostics", None)


def entry_label(algorithm: str, results: Any) -> str:
    """The algorithm's name, with how its config was tuned when a study chose it."""
    records = [getattr(r, "tuning", None) for r in results]
    if not any(records):
        return algorithm
    if any(r != records[0] for r in records):
        return f"{algorithm} (tuned, but its seeds differ in how)"
    sampler = records[0]["sampler"].removesuffix("Sampler")
    return f"{algorithm} (tuned: {records[0]['trials']} {sampler} trials)"


def _seed_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1:
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def _rliable() -> tuple[Any, Any]:
    try:
        from rliable import library, metrics
    except ImportError:
        raise ImportError("leaderboard statistics need rliable: pip install 'ro-bench[board]'") \
            from None
    return library, metrics


def iqm_with_ci(scores: np.ndarray) -> tuple[float, tuple[float, float]]:
    """rliable's IQM of ``scores`` (one per seed) and its stratified-bootstrap 95% CI."""
    library, metrics = _rliable()
    runs = np.asarray(scores, dtype=np.float64)[:, None]  # runs x tasks

    def iqm(x: np.ndarray) -> np.ndarray:
        return np.array([metrics.aggregate_iqm(x)])

    # rliable's StratifiedBootstrap draws its resamples from NumPy's global generator whatever
    # random_state says, so the global state is seeded here and put back afterwards.
    saved = np.random.get_state()
    np.random.seed(0)
    try:
        with warnings.catch_warnings():  # arch deprecates the RandomState rliable passes on
            warnings.simplefilter("ignore", FutureWarning)
            point, interval = library.get_interval_estimates(
                {"x": runs}, iqm, reps=BOOTSTRAP_REPS, confidence_interval_size=CONFIDENCE,
                random_state=np.random.RandomState(0))
    finally:
        np.random.set_state(saved)
    low, high = interval["x"][:, 0]
    return float(point["x"][0]), (float(low), float(high))


def read_entries(board: Path = BOARD, protocol: str | None = None) -> dict[str, list[Entry]]:
    """The board's entries, ``{protocol: [Entry, ...]}`` ranked by IQM then mean, protocols in
    registry order. Every file is validated as it is read (``RunResult.read``)."""
    names = [protocol] if protocol else protocols.list()
    if protocol:
        protocols.get(protocol)  # a clear error for an unknown name
    with journal.reading(board):
        return read_tables(Path(board), names)


def read_tables(board: Path, names: list[str]) -> dict[str, list[Entry]]:
    """``read_entries`` of the protocols ``names``, for a caller holding the board's lock. A
    protocol with no entry has a table only if the paper reports figures on it."""
    tables: dict[str, list[Entry]] = {}
    for name in names:
        entries = []
        for directory in sorted(p for p in (board / name).glob("*") if p.is_dir()):
            results = sorted((RunResult.read(f) for f in directory.glob("seed_*.json")),
                             key=lambda r: r.seed)
            if results:
                iqm, ci = iqm_with_ci(np.array([r.final_metric for r in results]))
                entries.append(Entry(name, results[0].algorithm, tuple(results), iqm, ci,
                                     verify.status(directory, results)))
        if entries or missing_paper_rows(name, []):
            tables[name] = sorted(entries, key=lambda e: (-e.iqm, -e.mean, e.name))
    return tables


def family(protocol: str) -> str:
    import ro_bench

    return ro_bench.spec(protocols.get(protocol).env_id).family


def improvement_matrices(tables: dict[str, list[Entry]]) -> dict[str, dict[str, Any]]:
    """Per env family: ``{"algorithms": [...], "protocols": [...], "matrix": P}`` where
    ``P[x][y]`` is rliable's probability that algorithm x beats algorithm y, averaged over the
    family's protocols both were run on (None where they share none)."""
    _, metrics = _rliable()
    families: dict[str, dict[str, list[Entry]]] = {}
    for name, entries in tables.items():
        families.setdefault(family(name), {})[name] = entries
    out = {}
    for fam, by_protocol in families.items():
        scores: dict[str, dict[str, np.ndarray]] = {}
        for name, entries in by_protocol.items():
            for entry in entries:
                scores.setdefault(entry.name, {})[name] = entry.finals
        algos = sorted(scores)
        matrix: list[list[float | None]] = []
        for x in algos:
            row: list[float | None] = []
            for y in algos:
                shared = [p for p in by_protocol if p in scores[x] and p in scores[y]]
                if x == y or not shared:
                    row.append(None)
                    continue
                runs = min(min(len(scores[x][p]), len(scores[y][p])) for p in shared)
                sx = np.stack([scores[x][p][:runs] for p in shared], axis=1)
                sy = np.stack([scores[y][p][:runs] for p in shared], axis=1)
                row.append(float(metrics.probability_of_improvement(sx, sy)))
            matrix.append(row)
        out[fam] = {"algorithms": algos, "protocols": [*by_protocol], "matrix": matrix}
    return out


def missing_paper_rows(protocol: str, entries: list[Entry]) -> list[dict[str, Any]]:
    """The paper's rows for this protocol whose algorithm has no entry on the board."""
    present = {e.algorithm for e in entries}
    seen, rows = set(), []
    for row in paper()["results"]:
        if row["protocol"] == protocol and row["algorithm"] not in present \
                and row["algorithm"] not in seen:
            seen.add(row["algorithm"])
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Rendering


COLUMNS = ("Rank", "Algorithm", "Mean ± std", "IQM [95% CI]", "Success", "Paper (mean ± std)",
           "ERO gap", "Mode coverage", "Env steps", "Median wall time", "Decentralized",
           "Verified (date, code, seeds)")
ALSO_TITLES = {"mean_step_reward": "Mean per-step reward (mean ± std)"}


def columns(name: str) -> tuple[str, ...]:
    """A protocol's table columns: ``COLUMNS`` with its ``also`` metrics after the mean."""
    also = tuple(ALSO_TITLES[m] for m in protocols.get(name).also)
    return COLUMNS[:3] + also + COLUMNS[3:]


# Mid-line (table cells, list items), these are all the characters that can start Markdown
# syntax: emphasis, code, links and images (through '['), HTML and entities, cell breaks,
# strikethrough and GitHub's maths.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def markdown_text(text: str) -> str:
    """``text`` shown literally in Markdown, mid-line (a table cell, a list item): every
    character Markdown could read as syntax is backslash-escaped, control characters become
    spaces."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", text))


def markdown_code(text: str) -> str:
    """``text`` as a Markdown code span, fenced by one more backtick than its longest run."""
    text = _CONTROL.sub(" ", text)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cells(rank: int, e: Entry, markdown: bool = False) -> list[str]:
    """The cells of an entry's row; ``markdown``: its one submitted string escaped for it."""
    paper_cell = f"{e.paper[0]:.2f} ± {e.paper[1]:.2f}" if e.paper else "–"
    ero = f"{e.ero_gap:.3f}" if e.ero_gap is not None else "–"
    coverage = (" / ".join(f"{s:.2f}" for s in e.mode_coverage)
                if e.mode_coverage is not None else "–")
    also = [f"{np.mean(v):.2f} ± {np.std(v):.2f}" for v in e.also.values()]
    return [str(rank), markdown_text(e.label) if markdown else e.label,
            f"{e.mean:.2f} ± {e.std:.2f}", *also,
            f"{e.iqm:.2f} [{e.iqm_ci[0]:.2f}, {e.iqm_ci[1]:.2f}]",
            _success_cell(e),
            paper_cell, ero, coverage, ", ".join(f"{s:,}" for s in e.env_steps),
            f"{e.median_wall_time_s:.1f} s", "yes" if e.decentralized else "**no**",
            "–" if e.verification is None else e.verification.cell()]


def _success_cell(e: Entry) -> str:
    if e.success_rate is None:
        return "–"
    return f"{e.success_rate:.0%} ({sum(r.success for r in e.results)}/{len(e.results)})"


def per_seed(name: str, e: Entry) -> tuple[str, str]:
    """What each seed of an entry reached: ``(what is shown, "seed 0: 5.00 / 3.21; ...")``, the
    final metric and then each ``also`` metric."""
    also = protocols.get(name).also
    values = zip(e.seeds, e.finals, *e.also.values())
    shown = " / ".join((protocols.get(name).metric, *also))
    return shown, "; ".join(f"seed {seed}: " + " / ".join(f"{v:.2f}" for v in rest)
                            for seed, *rest in values)


def _paper_only_cells(row: dict[str, Any]) -> list[str]:
    also = ["–"] * len(protocols.get(row["protocol"]).also)
    return ["–", f"{row['algorithm']} (not run)", "–", *also, "–", "–",
            f"{row['mean']:.2f} ± {row['std']:.2f}", "–", "–", "–", "–", "–", "–"]


def _protocol_line(name: str) -> str:
    p = protocols.get(name)
    kwargs = ", ".join(f"{k}={v}" for k, v in p.env_kwargs.items())
    env = f"{p.env_id}({kwargs})" if kwargs else p.env_id
    scoring = p.scoring()
    episodes = f"{p.eval_episodes} evaluation episodes every {p.eval_every:,} env steps" + (
        f", {p.final_episodes} at the end" if p.final_episodes != p.eval_episodes else "")
    note = f". {p.note[0].upper()}{p.note[1:]}" if p.note else ""
    return (f"env `{env}` v{p.version}, budget {p.budget:,} env steps, seeds "
            f"{_seed_text(list(p.seeds))} (tuning on {_seed_text(list(p.tuning_seeds))}), "
            f"metric {p.metric} ({scoring}), {episodes}{_level_note(name)}{note}")


def _level_note(name: str) -> str:
    """For a Particle Gather severity level: its random-action rates and the final-step bound."""
    if name not in severity.LEVELS:
        return ""
    rates = severity.published(severity.LEVELS[name])[0]
    below = [row["method"] for row in paper()["results"]
             if row["protocol"] == name and row["mean"] < -4 / 9]
    paper_below = (f"; the paper's {', '.join(below)} lie below it: their particles cannot "
                   "have behaved alike and independently" if below else "")
    return (f". Under random actions both particles are in on {100 * rates.both_in:.2g}% of "
            f"steps, exactly one on {100 * rates.one_in:.2g}%. Particles that behave alike and "
            "independently score at least -4/9 ≈ -0.44 at the final step (the env page)"
            + paper_below)


def to_markdown(tables: dict[str, list[Entry]],
                images: dict[str, list[tuple[str, str]]] | None = None) -> str:
    """The tables as Markdown; ``images`` as in ``to_html``."""
    images = images or {}
    lines = ["# ro-bench leaderboards", "",
             "Generated by `ro-bench leaderboard --write` from the RunResults of record in this "
             "folder; do not edit by hand. " + _statistics_sentence(), "",
             f"Paper figures: {paper()['citation']} {paper()['note']}", ""]
    lines += [f"![{caption}]({file})\n" for file, caption in images.get("overview", [])]
    for name, entries in tables.items():
        lines += [f"## {name}", "", _protocol_line(name), ""]
        lines += ["| " + " | ".join(columns(name)) + " |", "|" + "---|" * len(columns(name))]
        rows = [_cells(k + 1, e, markdown=True) for k, e in enumerate(entries)]
        rows += [_paper_only_cells(row) for row in missing_paper_rows(name, entries)]
        lines += ["| " + " | ".join(cells) + " |" for cells in rows]
        if entries:
            lines += ["", "Per seed:", ""]
            for e in entries:
                shown, seeds = per_seed(name, e)
                lines.append(f"- {markdown_text(e.label)} ({markdown_text(shown)}): {seeds}")
            lines += ["", "Re-run:", ""]
            lines += [f"- {markdown_text(e.label)}: {markdown_code(e.command)}" for e in entries]
        lines.append("")
        lines += [f"![{caption}]({file})\n" for file, caption in images.get(name, [])]
    lines += ["## Probability of improvement", "",
              "P(row algorithm's final metric > column algorithm's), rliable, averaged over the "
              "family's protocols both were run on.", ""]
    for fam, poi in improvement_matrices(tables).items():
        algos = poi["algorithms"]
        lines += [f"### {fam} ({', '.join(poi['protocols'])})", "",
                  "| P(X > Y) | " + " | ".join(map(markdown_text, algos)) + " |",
                  "|" + "---|" * (len(algos) + 1)]
        for x, row in zip(algos, poi["matrix"]):
            lines.append(f"| {markdown_text(x)} | "
                         + " | ".join("–" if v is None else f"{v:.2f}" for v in row) + " |")
        lines.append("")
    return "\n".join(lines)


def _statistics_sentence() -> str:
    return (f"IQM and its {CONFIDENCE:.0%} confidence interval: rliable, stratified bootstrap "
            f"over seeds, {BOOTSTRAP_REPS:,} resamples. Mean ± std: population std over seeds. "
            "ERO gap and mode coverage: `ro_bench.diagnostics`, stateless games only. Floors, "
            "not learners: `random` plays uniform actions, `fixed` one joint action throughout "
            "(its re-run command gives it).")


def to_json(tables: dict[str, list[Entry]]) -> str:
    doc = {
        "paper": {"citation": paper()["citation"], "note": paper()["note"]},
        "protocols": {
            name: {"description": _protocol_line(name),
                   "entries": [e.to_json() for e in entries],
                   "paper_only": missing_paper_rows(name, entries)}
            for name, entries in tables.items()},
        "probability_of_improvement": improvement_matrices(tables),
    }
    return json.dumps(doc, indent=1)


def to_html(tables: dict[str, list[Entry]], images: dict[str, list[tuple[str, str]]] | None = None
            ) -> str:
    """The page: the tables, the improvement matrices and, per section, ``images`` as
    ``{section: [(file, caption), ...]}`` (``section`` a protocol name or ``"overview"``)."""
    images = images or {}
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>ro-bench leaderboards</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
             "<h1>ro-bench leaderboards</h1>",
             f"<p>Generated from the RunResults of record. {esc(_statistics_sentence())}</p>",
             f"<p>Paper figures: {esc(paper()['citation'])} {esc(paper()['note'])}</p>"]
    parts += _figures(images.get("overview", []))
    for name, entries in tables.items():
        parts += [f'<section id="{esc(name)}">', f"<h2>{esc(name)}</h2>",
                  f"<p>{esc(_protocol_line(name)).replace('`', '')}</p>",
                  '<table class="board"><thead><tr>'
                  + "".join(f"<th>{esc(c)}</th>" for c in columns(name))
                  + "</tr></thead><tbody>"]
        rows = [_cells(k + 1, e) for k, e in enumerate(entries)]
        rows += [_paper_only_cells(row) for row in missing_paper_rows(name, entries)]
        for cells in rows:
            parts.append("<tr>" + "".join(f"<td>{esc(c).replace('**', '')}</td>" for c in cells)
                         + "</tr>")
        parts.append("</tbody></table>")
        if entries:
            parts.append("<details><summary>Per seed</summary><ul>")
            parts += [f"<li>{esc(e.label)} ({esc(per_seed(name, e)[0])}): "
                      f"{esc(per_seed(name, e)[1])}</li>" for e in entries]
            parts.append("</ul></details>")
            parts.append("<details><summary>Re-run</summary><ul>")
            parts += [f"<li>{esc(e.label)}: <code>{esc(e.command)}</code></li>" for e in entries]
            parts.append("</ul></details>")
        parts += _figures(images.get(name, []))
        parts.append("</section>")
    parts.append("<h2>Probability of improvement</h2>")
    for fam, poi in improvement_matrices(tables).items():
        algos = poi["algorithms"]
        parts += [f"<h3>{esc(fam)}</h3>", '<table class="poi"><thead><tr><th>P(X &gt; Y)</th>'
                  + "".join(f"<th>{esc(a)}</th>" for a in algos) + "</tr></thead><tbody>"]
        for x, row in zip(algos, poi["matrix"]):
            parts.append(f"<tr><th>{esc(x)}</th>" + "".join(
                f"<td>{'–' if v is None else f'{v:.2f}'}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _figures(images: list[tuple[str, str]]) -> list[str]:
    return [f'<figure><img src="{html.escape(file)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            for file, caption in images]


_CSS = (
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
    "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:right}"
    "th{background:#f3f3f3}td:nth-child(2){text-align:left}"
    "figure{display:inline-block;margin:0.5em}img{max-width:560px}"
    "code{font-size:0.85em}"
)
