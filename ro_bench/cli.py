"""The ``ro-bench`` command line.

``list`` prints the environments, protocols and algorithms; ``play`` plays an environment with
random actions; ``train`` runs one algorithm on one protocol with one seed; ``evaluate`` runs it
on a range of seeds, several processes at a time, and prints the summary; ``grid`` runs a plan of
many entries in one pool (``leaderboards/entries.txt`` by default); ``tune`` tunes configs with
Optuna's TPE sampler; ``submit`` checks RunResults and stores them on the leaderboard; ``verify``
re-runs seeds of leaderboard entries and compares every recorded number.

A mistake in the input (an option, a name, a path, a corrupt checkpoint), argparse's own included,
is one line ``ro-bench: error: ...`` on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

import ro_bench
from ro_bench.envs import particle_gather_severity as severity
from ro_bench import algorithms, harness, plots, protocols, ray_pool, tune_command, verify
from ro_bench.atomic import atomic_write
from ro_bench.configs import describe
from ro_bench.params import choice, parse_kwargs, real
from ro_bench.submit import BOARD, result_files, submit


def cmd_list(args: argparse.Namespace) -> None:
    if args.family is not None:
        choice("--family", args.family, sorted({ro_bench.spec(e).family
                                                for e in ro_bench.list_envs()}))
    print("Environments")
    print(f"  {'id':<34} {'family':<13} {'version':<8} summary")
    for env_id in ro_bench.list_envs(args.family):
        env_spec = ro_bench.spec(env_id)
        summary = env_spec.doc.strip().splitlines()[0].replace("``", "") if env_spec.available \
            else f"(needs: pip install 'ro-bench[{env_spec.extra}]')"
        print(f"  {env_id:<34} {env_spec.family:<13} v{env_spec.version:<7} {summary}")
    print("\nProtocols")
    print(f"  {'name':<38} {'env':<33} {'budget':>9} {'seeds':<6} {'tuning':<8} "
          "metric (scoring)")
    for name in protocols.list():
        p = protocols.get(name)
        seeds = f"{min(p.seeds)}-{max(p.seeds)}"
        tuning_seeds = f"{min(p.tuning_seeds)}-{max(p.tuning_seeds)}"
        also = "".join(f", {m}" for m in p.also)
        scoring = p.scoring()
        print(f"  {name:<38} {p.env_id:<33} {p.budget:>9} {seeds:<6} {tuning_seeds:<8} "
              f"{p.metric} ({scoring}){also}")
        if p.note:
            print(f"  {'':<38} {p.note}")
    print("\nParticle Gather severity: shares of random-action steps with both particles in or "
          "exactly one in,\nand scripted controllers' final-step / per-step rewards "
          "(ro_bench.spec('particle_gather').doc)")
    for line in severity.table(list(severity.LEVELS.values())).splitlines():
        print(f"  {line}")
    print("\nAlgorithms (ro-bench train --algo NAME --help shows one's config)")
    for name, entry_point in algorithms.entry_points().items():
        print(f"  {name:<22} {entry_point}")


def cmd_train(args: argparse.Namespace) -> None:
    result = harness.train(args.algo, args.protocol, args.seed, out_directory(args.out),
                           parse_kwargs(args.config), resume=args.resume,
                           record_samples=args.record_samples)
    print(f"{args.algo} on {args.protocol}, seed {args.seed}: final {result.final_metric:.4f}, "
          f"success {'–' if result.success is None else result.success}, "
          f"decentralized {result.decentralized}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    seeds = parse_seeds(args.seeds) if args.seeds else list(protocols.get(args.protocol).seeds)
    overrides = parse_kwargs(args.config)
    algorithms.get(args.algo)  # fail fast on a bad name, before starting workers
    results = harness.train_seeds(args.algo, args.protocol, seeds, out_directory(args.out),
                                  overrides, workers=args.workers, resume=args.resume,
                                  record_samples=args.record_samples)
    print(summary(args.algo, args.protocol, results))


def cmd_grid(args: argparse.Namespace) -> None:
    from ro_bench import grid

    if args.ray is not None and args.workers is not None:
        raise ValueError("--workers cannot be given with --ray: there every run is a Ray task of "
                         "one CPU and Ray decides how many run at once")
    entries = grid.select(grid.read_plan(Path(args.plan)), args.algo, args.protocol,
                          args.cluster)
    seeds = parse_seeds(args.seeds) if args.seeds else None
    done = grid.run(entries, out_directory(args.out), seeds, args.workers or 1, args.resume,
                    args.ray)
    for entry, results in done.results:
        print(summary(entry.algo, entry.protocol, results))
    print(table([(entry.algo, entry.protocol, results) for entry, results in done.results]))
    if args.submit:
        files = [harness.run_dir(Path(args.out), r.protocol, r.algorithm, r.seed,
                                 r.tuning is not None) / "result.json"
                 for _, results in done.results for r in results]
        stored = submit(files, Path(args.submit), args.replace)
        print(f"submitted {len(stored)} RunResults to {args.submit}")
    print(f"{done.runs} runs of {len(entries)} entries {_backend(args.ray, args.workers)}: "
          f"{done.wall_time_s:.0f} s wall ({done.wall_time_s / 60:.1f} min); the runs' own wall "
          f"times{_earlier(done.resumed)} sum to "
          f"{done.run_time_s:.0f} s")


def _earlier(resumed: int) -> str:
    """The summary line's note on runs a grid continued from an earlier start's checkpoint."""
    if not resumed:
        return ""
    return f" ({resumed} continued from an earlier start, whose time is included)"


def _backend(ray_address: str | None, workers: int | None) -> str:
    """Where a grid ran, for its summary line."""
    if ray_address is None:
        return f"with {workers or 1} worker(s) in local processes"
    if ray_address == ray_pool.LOCAL:
        return "as Ray tasks on a local Ray instance"
    return f"as Ray tasks on the Ray cluster at {ray_address}"


def cmd_diagnose(args: argparse.Namespace) -> None:
    from ro_bench.diagnostics import boltzmann_basin_shares, is_stateless, measure
    from ro_bench.envs.differential_game import DifferentialGame

    agent, env, result = harness.load_agent(Path(args.run))
    if not is_stateless(env):
        env_id = protocols.get(result.protocol).env_id
        raise ValueError(f"diagnose measures stateless games (the matrix and differential "
                         f"families); protocol {result.protocol!r} runs {env_id!r}, of the "
                         f"{ro_bench.spec(env_id).family!r} family")
    differential = isinstance(env, DifferentialGame)
    if args.alpha is not None:
        real("--alpha", args.alpha, low=0.0, low_open=True)
    alpha = args.alpha if args.alpha is not None else getattr(agent, "alpha", None)
    if differential and alpha is None:
        raise ValueError("this agent has no temperature: give --alpha")
    report = measure(agent, env, args.samples, args.seed)
    gaps = ", ".join(f"{gap:.4f}" for gap in report["ero_gap_per_agent"])
    print(f"{result.algorithm} on {result.protocol}, seed {result.seed}: {args.samples} joint "
          f"actions sampled with explore=False (executed) and explore=True (perceived)")
    print(f"  ERO gap {report['ero_gap']:.4f} (per agent {gaps}), executed reward "
          f"{report['executed_reward']:.4f}")
    shares = zip(report["modes"], report["mode_coverage"])
    if not differential:
        for mode, share in shares:
            print(f"  optimal joint action {[int(a) for a in mode]}: sampled {share:.3f}")
        return
    target = boltzmann_basin_shares(env, alpha)
    print(f"  Boltzmann target exp(r / alpha), alpha {alpha:g}")
    for k, (mode, share) in enumerate(shares):
        print(f"  basin of mode {k} {np.round(mode, 3).tolist()}: sampled {share:.3f}, "
              f"target {target[k]:.3f}")


def cmd_plot(args: argparse.Namespace) -> None:
    try:
        for path in plots.draw(args.kind, plots.find_results(args.runs), Path(args.out)):
            print(path)
    except ro_bench.MissingDependencyError as error:
        raise ValueError(str(error)) from None


def cmd_submit(args: argparse.Namespace) -> None:
    stored = submit(result_files(args.files), Path(args.board), args.replace,
                    args.allow_centralized)
    for path, replaced in stored:
        print(f"{'replaced' if replaced else 'added'} {path}")


def _finals(results: list) -> str:
    """The final metric's mean and standard deviation over the seeds of ``results``."""
    finals = np.array([r.final_metric for r in results])
    return f"{finals.mean():.4f} +- {finals.std():.4f}"


def summary(algo: str, protocol: str, results: list) -> str:
    lines = [f"{algo} on {protocol} ({len(results)} seeds):"]
    lines += [f"  seed {r.seed}: final {r.final_metric:.4f}  return {r.final_return:.4f}  "
              f"success {'–' if r.success is None else r.success}  "
              f"decentralized {r.decentralized}" for r in results]
    lines.append(f"  final metric {_finals(results)} (mean +- std), "
                 f"successes {_successes(results)}")
    return "\n".join(lines)


def _successes(results: list) -> str:
    """``"k/n"`` seeds that succeeded, or "–" where the protocol defines no success."""
    if any(r.success is None for r in results):
        return "–"
    return f"{sum(r.success for r in results)}/{len(results)}"


def table(rows: list[tuple[str, str, list]]) -> str:
    """One markdown row per ``(algorithm, protocol, results)``: the final metric's mean and
    standard deviation over the seeds, and the successes."""
    lines = ["", "| algorithm | protocol | seeds | final metric (mean ± std) | successes |",
             "|---|---|---|---|---|"]
    for algo, protocol, results in rows:
        seeds = ", ".join(str(r.seed) for r in results)
        lines.append(f"| {algo} | {protocol} | {seeds} | {_finals(results).replace('+-', '±')} "
                     f"| {_successes(results)} |")
    return "\n".join(lines)


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> [0, 1, 2, 3, 4]; ``"1,3,5"`` -> [1, 3, 5]: seeds >= 0, each at most once,
    ranges low to high."""
    form = "seeds >= 0 as 0-4 or 1,3,5, each seed once"
    seeds: list[int] = []
    for part in text.split(","):
        low, sep, high = part.strip().partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise ValueError(f"--seeds must be {form}; got {text!r}")
        if sep and int(high) < int(low):
            raise ValueError(f"--seeds range {part.strip()!r} is empty: write it low-high, "
                             f"e.g. {high}-{low}")
        seeds += list(range(int(low), int(high) + 1)) if sep else [int(low)]
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise ValueError(f"--seeds names seed(s) {repeated} more than once; got {text!r}")
    return seeds


def _count(option: str, low: int) -> Any:
    """An argparse type: an integer >= ``low``, the error naming ``option``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"{option} must be an integer >= {low}; got {text!r}")
        return value
    return parse


def out_directory(path: str, option: str = "--out") -> Path:
    """``path`` as a directory runs can be written to (made if missing), or a clear error."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{option} {path!r} is a file, not a directory: give a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{option} {path!r} cannot be made: {err.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path!r} is not writable by this user")
    return directory


def cmd_leaderboard(args: argparse.Namespace) -> None:
    from ro_bench import leaderboard

    board = Path(args.board)
    if not board.is_dir():
        raise ValueError(f"--board {args.board!r} is not a directory: give a leaderboard "
                         f"directory (default: {BOARD})")
    if args.write:
        from ro_bench.site import write_board

        for path in write_board(board):
            print(f"wrote {path}")
        return
    tables = leaderboard.read_entries(board, args.protocol)
    if args.format == "marl-eval":
        from ro_bench import marl_eval

        doc, skipped = marl_eval.to_marl_eval(tables)
        for line in skipped:
            print(f"left out of the marl-eval file: {line}", file=sys.stderr)
        text = marl_eval.dumps(doc)
    else:
        text = {"md": leaderboard.to_markdown, "json": leaderboard.to_json,
                "html": leaderboard.to_html}[args.format](tables)
    if args.out is None:
        print(text)
        return
    with atomic_write(Path(args.out)) as file:
        file.write((text + "\n").encode())
    print(f"wrote {args.out}")


def cmd_sweep_s2(args: argparse.Namespace) -> None:
    s2_values = _widths(args.s2)
    names = [f"max_of_three-s2={s2}" for s2 in s2_values]
    for name in names:
        protocols.get(name)  # every width must be a registered protocol
    algorithms.get(args.algo)
    overrides = parse_kwargs(args.config)
    rows = []
    for s2, name in zip(s2_values, names):
        seeds = parse_seeds(args.seeds) if args.seeds else list(protocols.get(name).seeds)
        results = harness.train_seeds(args.algo, name, seeds, out_directory(args.out), overrides,
                                      workers=args.workers, resume=args.resume)
        finals = np.array([r.final_metric for r in results])
        rows.append(f"  s2 {s2:<4g} final metric {finals.mean():8.4f} +- {finals.std():.4f}  "
                    f"seeds {' '.join(f'{f:.3f}' for f in finals)}")
    print(f"RO-severity curve of {args.algo} on max_of_three (runs in {args.out}):")
    print("\n".join(rows))


def _widths(text: str | None) -> list[float]:
    """``--s2 1.5,3.0`` -> [1.5, 3.0], each width once; the protocols' widths by default."""
    if not text:
        return list(protocols.SEVERITY_S2)
    try:
        widths = [float(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"--s2 must be comma-separated numbers, e.g. 1.5,3.0; "
                         f"got {text!r}") from None
    if len(set(widths)) < len(widths):
        raise ValueError(f"--s2 names a width more than once; got {text!r}")
    return widths


def cmd_play(args: argparse.Namespace) -> None:
    env = ro_bench.make(args.env_id, **parse_kwargs(args.kwarg))
    if env.optimum is None:
        print(f"{args.env_id}: no analytic optimum or RO trap")
    else:
        print(f"{args.env_id}: optimum {env.optimum:g}, RO trap {env.trap:g} (episode return)")
    for episode in range(args.episodes):
        seed = args.seed + episode
        env.reset(seed=seed)
        for i, agent in enumerate(env.possible_agents):
            env.action_space(agent).seed(seed * 1000 + i)
        episode_return, t = 0.0, 0
        while env.agents:
            actions = {a: env.action_space(a).sample() for a in env.agents}
            _, rewards, _, _, _ = env.step(actions)
            reward = rewards[env.possible_agents[0]]
            episode_return += reward
            shown = {a: _show(v) for a, v in actions.items()}
            print(f"episode {episode} step {t}: actions {shown} -> team reward {reward:.4f}")
            t += 1
        print(f"episode {episode} return {episode_return:.4f}")
    env.close()


def _show(action: Any) -> Any:
    return round(float(action[0]), 4) if hasattr(action, "shape") and action.shape else int(action)


def build_parser(algo: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(prog="ro-bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list the registered environments")
    p.add_argument("--family", help="only the environments of this family (e.g. matrix)")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("play", help="play an environment with random actions")
    p.add_argument("env_id")
    p.add_argument("--episodes", type=_count("--episodes", 1), default=1)
    p.add_argument("--seed", type=_count("--seed", 0), default=0)
    p.add_argument("--kwarg", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment parameter, e.g. --kwarg s2=1.5 (repeatable)")
    p.set_defaults(func=cmd_play)
    p = sub.add_parser("grid", help="run a plan of entries (algorithm, protocol, options), every "
                       "seed, in one pool of processes or on Ray")
    p.add_argument("--plan", default=str(BOARD / "entries.txt"),
                   help="plan file, one `ALGO PROTOCOL [--config K=V]...` line per entry "
                        "(default: the entries of record, %(default)s)")
    p.add_argument("--algo", nargs="+", default=[], help="only these algorithms")
    p.add_argument("--protocol", nargs="+", default=[], help="only these protocols")
    p.add_argument("--cluster", action="store_true",
                   help="also run the plan's entries marked --cluster (meant for a cluster, e.g. "
                        "the MaMuJoCo full track); naming their protocol selects them too")
    p.add_argument("--seeds", help="e.g. 0-4 or 1,3,5 (default: each protocol's)")
    p.add_argument("--workers", type=_count("--workers", 1),
                   help="processes at a time (default 1; not with --ray)")
    p.add_argument("--ray", nargs="?", const=ray_pool.LOCAL, metavar="ADDRESS",
                   help="run every run as a Ray task of one CPU, retried if its worker dies: with "
                        "no ADDRESS on a new local Ray instance, with "
                        "one (auto, ray://HOST:10001) on that cluster. Ray decides how many run "
                        "at once, so --workers is refused. Needs pip install 'ro-bench[dist]'")
    p.add_argument("--out", required=True, help="root directory of the runs")
    p.add_argument("--resume", action="store_true", help="continue interrupted runs in --out")
    p.add_argument("--submit", metavar="BOARD",
                   help="then submit the runs' RunResults to this leaderboard (as ro-bench submit)")
    p.add_argument("--replace", action="store_true",
                   help="with --submit: overwrite seeds already on the board")
    p.set_defaults(func=cmd_grid)
    p = sub.add_parser("diagnose", help="ERO gap and mode coverage of a trained agent on a "
                                        "stateless game")
    p.add_argument("--run", required=True, help="a run directory (holding result.json)")
    p.add_argument("--samples", type=_count("--samples", 1), default=1000)
    p.add_argument("--alpha", type=float, help="target temperature (default: the agent's final)")
    p.add_argument("--seed", type=_count("--seed", 0), default=0)
    p.set_defaults(func=cmd_diagnose)
    p = sub.add_parser("submit", help="check RunResults and store them on the leaderboard")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="a RunResult file, or a directory: every result.json under it")
    p.add_argument("--board", default=str(BOARD), help="the leaderboard (default: %(default)s)")
    p.add_argument("--replace", action="store_true", help="overwrite seeds already on the board")
    p.add_argument("--allow-centralized", action="store_true",
                   help="accept runs whose execution was not decentralized (tables mark them)")
    p.set_defaults(func=cmd_submit)
    p = sub.add_parser("plot", help="draw the paper's figures from RunResult files")
    p.add_argument("kind", choices=plots.KINDS,
                   help="curves: metric against env steps, one PNG per protocol (Figure 4); "
                        "samples: sampled joint actions over training, per run (Figures 5, 7); "
                        "density: the perceived joint policy at the end, per run (Figure 3); "
                        "severity: final metric against s2 on max_of_three")
    p.add_argument("--runs", nargs="+", required=True, metavar="PATH",
                   help="RunResult files, or directories searched for result.json and seed_*.json")
    p.add_argument("--out", required=True, help="directory the PNGs are written to")
    p.set_defaults(func=cmd_plot)
    p = sub.add_parser("leaderboard", help="print or write the leaderboard tables")
    p.add_argument("--board", default=str(BOARD), help="the leaderboard (default: %(default)s)")
    p.add_argument("--protocol", help="only this protocol's table")
    p.add_argument("--format", choices=("md", "html", "json", "marl-eval"), default="md",
                   help="md, html and json: the tables; marl-eval: every evaluation's episode "
                        "returns in marl-eval's raw-data JSON (env -> task -> algorithm -> seed "
                        "-> step), which marl-eval and BenchMARL read")
    p.add_argument("--out", help="write to this file instead of printing")
    p.add_argument("--write", action="store_true",
                   help="write BOARD/README.md and the page BOARD/site/ (tables and plots)")
    p.set_defaults(func=cmd_leaderboard)
    verify.add_parser(sub)
    tune_command.add_parser(sub, _count, parse_seeds)
    p = sub.add_parser("sweep-s2", help="the RO-severity curve: an algorithm on max_of_three "
                       "for each width s2 of the optimal bowl", epilog=lambda: _config_help(algo),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--algo", required=True, help="algorithm name or module:Class")
    p.add_argument("--s2", help="comma-separated widths (default: "
                   + ",".join(map(str, protocols.SEVERITY_S2)) + ")")
    p.add_argument("--seeds", help="e.g. 0-4 or 1,3,5 (default: each protocol's)")
    p.add_argument("--workers", type=_count("--workers", 1), default=1,
                   help="processes at a time")
    p.add_argument("--out", required=True, help="root directory of the runs")
    p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable); fields are listed below")
    p.add_argument("--resume", action="store_true", help="continue interrupted runs in --out")
    p.set_defaults(func=cmd_sweep_s2)
    epilog = lambda: _config_help(algo)  # noqa: E731  (loads the algorithm only for --help)
    for name, helptext in (("train", "train one seed of an algorithm on a protocol"),
                           ("evaluate", "train and evaluate an algorithm on a protocol's seeds")):
        p = sub.add_parser(name, help=helptext, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--algo", required=True, help="algorithm name or module:Class")
        p.add_argument("--protocol", required=True, help="protocol name (see ro-bench list)")
        if name == "train":
            p.add_argument("--seed", type=_count("--seed", 0), required=True)
        else:
            p.add_argument("--seeds", help="e.g. 0-4 or 1,3,5 (default: the protocol's)")
            p.add_argument("--workers", type=_count("--workers", 1), default=1,
                   help="processes at a time")
        p.add_argument("--out", required=True, help="root directory of the runs")
        p.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config field (repeatable); fields are listed below")
        p.add_argument("--resume", action="store_true",
                       help="continue from the last checkpoint of the run(s) in --out")
        p.add_argument("--record-samples", type=_count("--record-samples", 0), default=0,
                       metavar="N",
                       help="at each evaluation, record N joint actions sampled with "
                            "explore=True and their rewards in the RunResult (stateless games)")
        p.set_defaults(func=cmd_train if name == "train" else cmd_evaluate)
    return parser


def _config_help(algo: str | None) -> str:
    """The config fields of ``algo`` for ``--help`` (only its module is imported), or how to see
    them."""
    if not algo:
        return ("algorithms: " + ", ".join(algorithms.names()) + "\nthe config fields of one: "
                "give --algo NAME with --help")
    try:
        _, config_cls = algorithms.get(algo)
    except ValueError as error:
        return f"{algo}: {error}"
    fields = describe(config_cls)
    return "\n".join([f"config fields of {algo}:" if fields else f"{algo} has no config fields",
                      *fields])


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    pre = _Parser(add_help=False)
    pre.add_argument("--algo")
    try:
        known, _ = pre.parse_known_args(argv)
        args = build_parser(known.algo).parse_args(argv)
        status = args.func(args)  # None, or an exit status (verify: 1 when a number differs)
    except BrokenPipeError:  # the reader went away (``ro-bench list | head``): nothing to say
        sys.stderr.close()
        return 1
    except (ValueError, OSError) as error:  # bad ids, kwargs, actions and paths explain themselves
        print(f"ro-bench: error: {error}", file=sys.stderr)
        return 2
    return status or 0


class _Parser(argparse.ArgumentParser):
    """argparse's errors in ro-bench's form: one line, ``ro-bench: error: ...``, status 2 (from
    ``main``), pointing at ``--help`` instead of printing the usage first."""

    def format_help(self) -> str:
        if callable(self.epilog):  # built when asked for: it imports the algorithm
            self.epilog = self.epilog()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)  # "--seed: --seed must ..."
        raise ValueError(f"{message} (see {self.prog} --help)")


if __name__ == "__main__":
    sys.exit(main())
