"""ro_bench stands on its own: it never imports the zoo (ro_bench_zoo) or torch to list, play,
build its command line or show help; it finds an algorithm by name through the entry-point group
and imports that one only."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    probe = code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=ROOT / "tests").stdout
    return set(json.loads(out.splitlines()[-1]))


def zoo_and_torch(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in ("ro_bench_zoo", "torch", "algorithms")}


@pytest.mark.parametrize("argv", [["list"], ["play", "climbing", "--episodes", "1"],
                                  ["train", "--help"], ["grid", "--help"], ["verify", "--help"]])
def test_the_command_line_imports_neither_the_zoo_nor_torch(argv: list[str]) -> None:
    code = ("import contextlib, io\nfrom ro_bench import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        cli.main({argv!r})\n    except SystemExit:\n        pass")
    assert zoo_and_torch(imported_after(code)) == set()


def test_importing_ro_bench_and_its_modules_imports_no_zoo() -> None:
    modules = sorted(p.stem for p in (ROOT / "ro_bench").glob("*.py") if p.stem != "__init__")
    code = "\n".join(f"import ro_bench.{m}" for m in modules) + "\nro_bench.cli.build_parser()"
    assert zoo_and_torch(imported_after(code)) == set()


def test_help_of_one_algorithm_imports_that_algorithm_only() -> None:
    code = ("import contextlib, io\nfrom ro_bench import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    try:\n        cli.main(['train', '--algo', 'maddpg', '--help'])\n"
            "    except SystemExit:\n        pass\n"
            "assert 'config fields of maddpg' in out.getvalue()")
    zoo = {m for m in imported_after(code) if m.startswith("ro_bench_zoo.")}
    assert "ro_bench_zoo.maddpg" in zoo
    assert not zoo & {"ro_bench_zoo.svnr", "ro_bench_zoo.pr2", "ro_bench_zoo.masql",
                      "ro_bench_zoo.mmq", "ro_bench_zoo.rommeo", "ro_bench_zoo.mappo",
                      "ro_bench_zoo.sb3_ppo"}


def test_no_source_file_of_ro_bench_names_the_zoo() -> None:
    """The static form of the above: not even a lazy import inside a function."""
    for path in (ROOT / "ro_bench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] in ("ro_bench_zoo", "algorithms") for n in names), \
                f"{path.relative_to(ROOT)} imports {names}"


def test_the_zoo_registers_through_entry_points_like_any_package() -> None:
    from ro_bench import algorithms

    points = algorithms.entry_points()
    assert {"svnr", "maddpg", "masql", "pr2", "mmq", "rommeo", "mappo", "sb3_ppo", "random",
            "fixed"} <= set(points)
    assert all(value.startswith("ro_bench_zoo.") for value in points.values())


def test_the_zoo_folder_cannot_be_imported_under_a_second_name() -> None:
    result = subprocess.run([sys.executable, "-c", "import algorithms"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode != 0 and "import ro_bench_zoo" in result.stderr
