"""The leaderboard page: generated from a board, and rendered in a real browser (headless
Chromium) with its tables and images present and no console errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("rliable")
pytest.importorskip("matplotlib")

from ro_bench import site  # noqa: E402
from ro_bench.submit import BOARD  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
# Chromium's own network chatter is refused on machines without internet access.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def render(page: Path) -> dict:
    """Open ``page`` in headless Chromium; what the browser saw."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    messages: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.on("console", lambda m: messages.append(f"console.{m.type}: {m.text}"))
            tab.on("pageerror", lambda e: messages.append(f"page error: {e}"))
            tab.on("requestfailed", lambda r: messages.append(f"request failed: {r.url}"))
            tab.goto(page.resolve().as_uri(), wait_until="load")
            seen = tab.evaluate("""() => ({
                tables: document.querySelectorAll('table.board').length,
                rows: document.querySelectorAll('table.board tbody tr').length,
                headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
                images: [...document.images].map(i => [i.getAttribute('src'), i.naturalWidth]),
            })""")
        finally:
            browser.close()
    seen["errors"] = [m for m in messages if not m.startswith(("console.log", "console.info"))]
    return seen


def test_committed_page_renders_in_chromium() -> None:
    page = BOARD / site.SITE / "index.html"
    seen = render(page)
    assert seen["errors"] == []
    assert seen["tables"] >= 8 and seen["rows"] > seen["tables"]
    assert "max_of_three-s2=1.5" in seen["headings"]
    assert "Probability of improvement" in seen["headings"]
    assert seen["images"], "the page shows no figure"
    for src, width in seen["images"]:
        assert width > 0, f"{src} did not load"
    shown = {src for src, _ in seen["images"]}
    assert "ro_severity.png" in shown
    assert any(src.startswith("density_two_modalities") for src in shown)


def test_write_board_writes_readme_page_and_figures(tmp_path: Path) -> None:
    board = tmp_path / "board"
    for protocol in ("max_of_three-s2=1.5", "two_modalities"):
        shutil.copytree(BOARD / protocol, board / protocol)
    written = site.write_board(board)
    assert board / "README.md" in written and board / "site" / "index.html" in written
    pngs = [p for p in written if p.suffix == ".png"]
    assert {p.name for p in pngs} >= {"ro_severity.png", "curves_max_of_three-s2=1.5.png",
                                      "curves_two_modalities.png"}
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG) and len(data) > 5000
    readme = (board / "README.md").read_text()
    assert "## max_of_three-s2=1.5" in readme and "(site/ro_severity.png)" in readme
    seen = render(board / "site" / "index.html")
    # The two protocols copied, and every protocol the paper reports on even without entries:
    # Table 2's max_of_three-s2=2.0, max_of_three-s2=3.0 and particle_gather, and Table 1 beside
    # the four MaMuJoCo full tracks.
    assert (board / "site" / "index.html").read_text().count('<table class="board">') == 2 + 3 + 4
    assert seen["errors"] == [] and seen["tables"] == 2 + 3 + 4


def test_particle_gather_levels_get_their_severity_figure(tmp_path: Path) -> None:
    board = tmp_path / "board"
    shutil.copytree(BOARD / "particle_gather", board / "particle_gather")
    tables = site.leaderboard.read_tables(board, ["particle_gather", "max_of_two"])
    plan = {file: (caption, draw) for _, file, caption, draw in site.figure_plan(tables)}
    assert "ro_severity.png" not in plan  # no Max of Three runs
    caption, draw = plan["ro_severity_particle_gather.png"]
    assert "random-action rates" in caption
    data = draw(tmp_path / "gather.png").read_bytes()
    assert data.startswith(PNG) and len(data) > 5000


def test_an_episodic_table_gets_its_learning_curves_and_no_success(tmp_path: Path) -> None:
    """A MaMuJoCo-like protocol (no optimum, mean episode return): its curves are drawn, its
    success column says "–", its per-seed line gives each seed's final mean episode return."""
    pytest.importorskip("gymnasium_robotics")
    from harness_doubles import SMALL_MUJOCO, register_small_protocol
    from ro_bench import harness

    register_small_protocol()
    board = tmp_path / "board"
    finals = []
    for seed in (0, 1):
        result = harness.train("random", SMALL_MUJOCO.name, seed, tmp_path / "runs",
                               progress=False)
        (board / SMALL_MUJOCO.name / "random").mkdir(parents=True, exist_ok=True)
        result.write(board / SMALL_MUJOCO.name / "random" / f"seed_{seed}.json")
        finals.append(result.final_metric)
    written = site.write_board(board)
    curves = board / "site" / f"curves_{SMALL_MUJOCO.name}.png"
    assert curves in written and curves.read_bytes().startswith(PNG)
    readme = (board / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| 1 | random |"))
    assert row.split(" | ")[4] == "–"  # Rank, Algorithm, Mean ± std, IQM, Success
    assert (f"- random (mean\\_episode\\_return): seed 0: {finals[0]:.2f}; "
            f"seed 1: {finals[1]:.2f}") in readme
