"""The ``ro-bench`` command line.

``ro-bench list`` prints the registered environments; ``ro-bench play ID`` plays episodes of an
environment with uniformly random actions and prints the team rewards.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Sequence
from typing import Any

import ro_bench


def parse_kwargs(pairs: Sequence[str]) -> dict[str, Any]:
    """``["s2=1.5", "payoff=[[1,0],[0,1]]"]`` -> kwargs; values are Python literals."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--kwarg must look like NAME=VALUE; got {pair!r}")
        try:
            kwargs[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            kwargs[name] = text
    return kwargs


def cmd_list(args: argparse.Namespace) -> None:
    print(f"{'id':<20} {'family':<14} {'version':<8} summary")
    for env_id in ro_bench.list_envs(args.family):
        env_spec = ro_bench.spec(env_id)
        summary = env_spec.doc.strip().splitlines()[0].replace("``", "")
        print(f"{env_id:<20} {env_spec.family:<14} v{env_spec.version:<7} {summary}")


def cmd_play(args: argparse.Namespace) -> None:
    env = ro_bench.make(args.env_id, **parse_kwargs(args.kwarg))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ro-bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list the registered environments")
    p.add_argument("--family", help="only this family (e.g. matrix, differential)")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("play", help="play an environment with random actions")
    p.add_argument("env_id")
    p.add_argument("--episodes", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kwarg", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment parameter, e.g. --kwarg s2=1.5 (repeatable)")
    p.set_defaults(func=cmd_play)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ValueError as error:  # bad ids, kwargs and actions carry their own explanations
        print(f"ro-bench: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
