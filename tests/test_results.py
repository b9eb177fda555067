"""RunResult: exact round trips, atomic writes, and a reasoned refusal of every bad document."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import subprocess
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import pytest

from ro_bench import results
from ro_bench.results import SCHEMA_VERSION, RunResult, RunResultError, config_hash

CONFIG = {"lr": 3e-4, "hidden": [64, 64], "tau": 0.1 + 0.2, "name": "svnr", "extra": None}
DIAGNOSTICS = {"ero_gap": 1.5, "ero_gap_per_agent": [1.5, 0.1 + 0.2], "executed_reward": 1.5,
               "mode_coverage": [0.25, 0.5], "modes": [[0, 0], [1, 1]], "samples": 4}
ACTION_SAMPLES = [
    {"env_steps": 0, "actions": [[0, 1], [1, 1]], "rewards": [0, 3]},
    {"env_steps": 5, "actions": [[0.5, -1e-300], [1.0, 0.1 + 0.2]], "rewards": [2.5, 1 / 3]},
]
LEADERBOARDS = Path(__file__).resolve().parent.parent / "leaderboards"
COMMAND = ["ro-bench", "train", "--algo", "svnr", "--protocol", "max_of_three", "--seed", "3",
           "--config", "name='svnr'"]


def sample(**changes) -> RunResult:
    fields = dict(
        schema_version=SCHEMA_VERSION,
        protocol="max_of_three",
        protocol_version=1,
        algorithm="svnr",
        config=CONFIG,
        config_hash=config_hash(CONFIG),
        seed=3,
        env_steps=300,
        wall_time_s=1 / 3,
        curve=[(0, 0.1 + 0.2), (100, 1e-300), (300, -2.5)],
        final_metric=0.1 + 0.2,
        final_return=1e-300,
        success=True,
        decentralized=True,
        code_revision="0" * 40 + "+dirty",
        packages={"numpy": "2.4.6"},
        hardware={"machine": "x86_64", "cpu_count": 8},
        command=COMMAND,
        diagnostics=DIAGNOSTICS,
        action_samples=ACTION_SAMPLES,
        returns=[1.0, 2.5, 1 / 3],
    )
    return RunResult(**{**fields, **changes})


def diagnostics(**changes) -> dict:
    """The sample diagnostics with some keys replaced, or removed when given ``...``."""
    return {k: v for k, v in {**DIAGNOSTICS, **changes}.items() if v is not ...}


def record(env_steps: int, actions=([0, 1], [1, 1]), rewards=(0.0, 3.0)) -> dict:
    return {"env_steps": env_steps, "actions": list(actions), "rewards": list(rewards)}


def doc(**changes) -> str:
    """A sample document with some fields replaced, or removed when given ``...``."""
    data = json.loads(sample().to_json())
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not ...})


# --- round trips -----------------------------------------------------------------------------


def test_round_trip_is_exact():
    result = sample()
    back = RunResult.from_json(result.to_json())
    assert back == result
    assert back.final_metric == 0.30000000000000004 and back.final_return == 1e-300
    assert back.curve == ((0, 0.30000000000000004), (100, 1e-300), (300, -2.5))
    assert back.wall_time_s.hex() == (1 / 3).hex()
    assert back.diagnostics["ero_gap_per_agent"] == [1.5, 0.30000000000000004]
    assert back.action_samples[1]["rewards"][1].hex() == (1 / 3).hex()
    assert back.action_samples[1]["actions"][0] == [0.5, -1e-300]
    assert back.command == tuple(COMMAND) and back.returns == (1.0, 2.5, 1 / 3)


def test_document_is_sorted_indented_json_of_every_field():
    text = sample().to_json()
    data = json.loads(text)
    assert list(data) == sorted(f.name for f in dataclasses.fields(RunResult))
    assert text.startswith('{\n  "action_samples": [\n    {\n      "actions": [')
    assert data["curve"][1] == [100, 1e-300]


def test_inputs_are_normalised_to_their_json_form():
    config = {"hidden": (64, 64)}  # as dataclasses.asdict gives a tuple field
    result = sample(config=config, config_hash=config_hash(config), wall_time_s=2,
                    curve=[[0, 1], [5, 2]], env_steps=5, returns=[3, 4])
    assert result.config == {"hidden": [64, 64]}
    assert result.curve == ((0, 1.0), (5, 2.0)) and result.returns == (3.0, 4.0)
    assert type(result.wall_time_s) is float and type(result.curve[0][1]) is float
    # Numbers of the diagnostics and action samples are floats, their lists JSON lists.
    assert result.diagnostics["modes"] == [[0.0, 0.0], [1.0, 1.0]]
    assert type(result.diagnostics["modes"][0][0]) is float
    assert type(result.diagnostics["samples"]) is int
    assert isinstance(result.action_samples, tuple)
    assert result.action_samples[0] == {"env_steps": 0, "actions": [[0.0, 1.0], [1.0, 1.0]],
                                        "rewards": [0.0, 3.0]}
    assert type(result.action_samples[0]["actions"][0][0]) is float
    assert RunResult.from_json(result.to_json()) == result


def test_ints_are_accepted_for_floats():
    result = RunResult.from_json(doc(wall_time_s=3, final_metric=0, final_return=-7))
    assert (result.wall_time_s, result.final_metric, result.final_return) == (3.0, 0.0, -7.0)


def test_empty_curve_is_allowed():
    assert RunResult.from_json(doc(curve=[], returns=[])).curve == ()


def test_no_diagnostics_and_no_action_samples_are_allowed():
    result = RunResult.from_json(doc(diagnostics=None, action_samples=[]))
    assert result.diagnostics is None and result.action_samples == ()
    assert RunResult.from_json(result.to_json()) == result


def test_schema_version_1_reads_without_the_version_2_fields():
    result = RunResult.from_json(doc(schema_version=1, diagnostics=..., action_samples=...,
                                     returns=..., tuning=..., episode_returns=...,
                                     command=shlex.join(COMMAND)))
    assert result.schema_version == 1
    assert result.diagnostics is None and result.action_samples == ()
    text = result.to_json()
    assert "diagnostics" not in json.loads(text) and "action_samples" not in json.loads(text)
    assert RunResult.from_json(text) == result


def test_version_1_results_cannot_hold_version_2_fields():
    old = dict(command=shlex.join(COMMAND), returns=())
    with pytest.raises(RunResultError, match="'diagnostics'.*not part of schema version 1"):
        sample(schema_version=1, action_samples=(), **old)
    with pytest.raises(RunResultError, match="'action_samples'.*not part of schema version 1"):
        sample(schema_version=1, diagnostics=None, **old)
    with pytest.raises(RunResultError, match="'returns'.*not part of schema version 2"):
        sample(schema_version=2, command=shlex.join(COMMAND))


def test_version_2_commands_are_split_into_words_and_joined_back():
    text = doc(schema_version=2, returns=..., tuning=..., episode_returns=...,
               command="ro-bench train --config 'a=[1, 2]'")
    result = RunResult.from_json(text)
    assert result.command == ("ro-bench", "train", "--config", "a=[1, 2]")
    assert result.returns == ()
    assert json.loads(result.to_json())["command"] == "ro-bench train --config 'a=[1, 2]'"
    assert RunResult.from_json(result.to_json()) == result


EPISODES = ((1.0, 1.0), (2.0, 3.0), (0.1 + 0.2, 2 / 3 - (0.1 + 0.2)))


def test_episode_returns_round_trip_and_average_to_returns():
    result = sample(episode_returns=[list(e) for e in EPISODES])
    assert result.episode_returns == EPISODES  # tuples of tuples, floats exactly as given
    assert RunResult.from_json(result.to_json()) == result
    assert "    [2.0, 3.0],\n" in result.to_json()  # one evaluation a line
    with pytest.raises(RunResultError, match=r"point 1: the episodes average 2\.0, but returns "
                                             r"holds 2\.5"):
        sample(episode_returns=((1.0, 1.0), (2.0, 2.0), EPISODES[2]))
    with pytest.raises(RunResultError, match="2 lists for 3 curve points"):
        sample(episode_returns=EPISODES[:2])
    with pytest.raises(RunResultError, match="point 0 holds no episode"):
        sample(episode_returns=((), *EPISODES[1:]))


def test_success_is_null_only_from_schema_5():
    result = sample(success=None)
    assert RunResult.from_json(result.to_json()).success is None
    with pytest.raises(RunResultError, match="'success'.*true or false in schema version 4"):
        sample(schema_version=4, success=None)
    with pytest.raises(RunResultError, match="'episode_returns'.*not part of schema version 4"):
        sample(schema_version=4, episode_returns=EPISODES)
    old = RunResult.from_json(doc(schema_version=4, episode_returns=...))
    assert old.episode_returns == () and "episode_returns" not in json.loads(old.to_json())


def test_every_board_file_reads_and_writes_back_byte_for_byte():
    for path in LEADERBOARDS.rglob("seed_*.json"):
        assert RunResult.read(path).to_json() + "\n" == path.read_text(), path


def test_oversized_and_deeply_nested_documents_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "MAX_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(doc())
    with pytest.raises(results.SizeError, match="cap of 1,000 bytes") as caught:
        RunResult.read(path)
    assert str(path) in str(caught.value)
    monkeypatch.undo()
    with pytest.raises(results.DepthError, match="deeper than the cap of 16"):
        RunResult.from_json("[" * 100_000 + "]" * 100_000)  # beyond Python's recursion limit
    with pytest.raises(results.DepthError, match="deeper than the cap of 16"):
        RunResult.from_json('{"config": ' + "[" * 17 + "]" * 17 + "}")


def test_version_1_files_still_read_and_write_back_unchanged():
    # tests/data/runresult_v1.json: an entry of record as schema 1 wrote it; the board's too
    documents = {path: json.loads(path.read_text()) for path in LEADERBOARDS.rglob("*.json")}
    version_1 = sorted(path for path, data in documents.items()
                       if isinstance(data, dict) and data.get("schema_version") == 1)
    version_1.append(Path(__file__).parent / "data" / "runresult_v1.json")
    assert json.loads(version_1[-1].read_text())["schema_version"] == 1
    for path in version_1:
        result = RunResult.read(path)
        assert result.diagnostics is None and result.action_samples == ()
        assert result.to_json() + "\n" == path.read_text()


def test_config_is_copied_not_shared():
    config = {"lr": 0.1}
    result = sample(config=config, config_hash=config_hash(config))
    config["lr"] = 0.2
    assert result.config == {"lr": 0.1}


def test_config_hash_is_sha256_of_canonical_json():
    assert config_hash({"b": 1, "a": [1.5, None]}) == config_hash({"a": [1.5, None], "b": 1})
    # sha256 of '{"a":1}'
    assert config_hash({"a": 1}) == (
        "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862")
    assert config_hash({"a": 1}) != config_hash({"a": 1.0})


# --- writing and reading files ----------------------------------------------------------------


def test_write_then_read(tmp_path):
    path = tmp_path / "run.json"
    sample().write(path)
    sample(seed=4).write(path)  # overwrites
    assert RunResult.read(path) == sample(seed=4)
    assert os.listdir(tmp_path) == ["run.json"]
    assert path.read_text().endswith("}\n")


def test_failed_write_keeps_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    sample().write(path)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        sample(seed=4).write(path)
    assert os.listdir(tmp_path) == ["run.json"]
    assert RunResult.read(path) == sample()


def test_read_errors_name_the_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(doc(seed=-1))
    with pytest.raises(RunResultError) as caught:
        RunResult.read(path)
    assert str(path) in str(caught.value) and caught.value.field == "seed"
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(RunResultError, match="not UTF-8"):
        RunResult.read(path)


# --- rejections -------------------------------------------------------------------------------

TAMPERED_CONFIG = {**CONFIG, "lr": 1.0}

# (case id, document text, field at fault or None, words the message must contain)
BAD_DOCUMENTS = [
    ("not-json", "{", None, ["not JSON"]),
    ("not-object", "[1, 2]", None, ["expected a JSON object", "list"]),
    ("nan-literal", doc().replace('"final_metric": 0.30000000000000004', '"final_metric": NaN'),
     None, ["NaN", "finite"]),
    ("duplicate-key", doc()[:-1] + ', "seed": 4}', None, ["duplicate key 'seed'"]),
    ("missing", doc(seed=..., curve=..., command=...), None,
     ["missing fields", "'seed'", "'curve'", "'command'"]),
    ("unknown", doc(finl_metric=1.0, notes="hi"), None,
     ["unknown fields", "'finl_metric' (did you mean 'final_metric'?)", "'notes'"]),
    ("schema-too-new", doc(schema_version=6, other_field=1), "schema_version",
     ["schema version 6 is not supported", "versions 1, 2, 3, 4, 5"]),
    ("v1-with-v2-fields", doc(schema_version=1, returns=..., tuning=..., episode_returns=...),
     None, ["unknown fields", "'diagnostics'", "'action_samples'"]),
    ("v2-without-v2-fields", doc(schema_version=2, returns=..., tuning=..., episode_returns=...,
                                 diagnostics=..., action_samples=...), None,
     ["missing fields", "'diagnostics'", "'action_samples'"]),
    ("v3-without-returns", doc(returns=...), None, ["missing fields", "'returns'"]),
    ("tuning-in-v3", doc(schema_version=3, tuning=None, episode_returns=...), None,
     ["unknown fields", "'tuning'"]),
    ("tuning-keys", doc(tuning={"study": "s"}), "tuning", ["must hold exactly the keys"]),
    ("tuning-no-trials", doc(tuning={"study": "s", "sampler": "TPESampler", "trials": 0,
                                     "pruned": 0, "objective": "o", "best_value": 1.0,
                                     "search_space": {}, "tuning_seeds": [100],
                                     "protocol_version": 1}), "tuning", ["at least one trial"]),
    ("schema-string", doc(schema_version="1"), "schema_version", ["expected an integer", "str"]),
    ("seed-bool", doc(seed=True), "seed", ["expected an integer", "bool"]),
    ("seed-float", doc(seed=1.5), "seed", ["expected an integer", "float"]),
    ("seed-negative", doc(seed=-1), "seed", [">= 0"]),
    ("env-steps-string", doc(env_steps="300"), "env_steps", ["expected an integer", "str"]),
    ("protocol-version-null", doc(protocol_version=None), "protocol_version", ["NoneType"]),
    ("wall-time-string", doc(wall_time_s="fast"), "wall_time_s", ["expected a number"]),
    ("wall-time-negative", doc(wall_time_s=-1.0), "wall_time_s", [">= 0"]),
    ("final-metric-bool", doc(final_metric=False), "final_metric", ["expected a number", "bool"]),
    ("final-metric-inf", doc().replace('"final_metric": 0.30000000000000004',
                                       '"final_metric": 1e400'), "final_metric", ["finite"]),
    ("final-return-string", doc(final_return="1"), "final_return", ["expected a number"]),
    ("success-int", doc(success=1), "success", ["true or false", "int"]),
    ("decentralized-string", doc(decentralized="yes"), "decentralized", ["true or false"]),
    ("protocol-empty", doc(protocol=""), "protocol", ["must not be empty"]),
    ("algorithm-blank", doc(algorithm="  "), "algorithm", ["must not be empty"]),
    ("command-empty", doc(command=[]), "command", ["the program and its arguments"]),
    ("command-string-in-v3", doc(command="ro-bench train"), "command",
     ["must be a list of words in schema version 5"]),
    ("command-list-in-v2", doc(schema_version=2, returns=..., tuning=..., episode_returns=...),
     "command", ["must be a shell command string in schema version 2"]),
    ("command-unsplittable", doc(schema_version=2, returns=..., tuning=..., episode_returns=...,
                                 command="ro-bench 'train"),
     "command", ["does not split", "No closing quotation"]),
    ("command-newline", doc(command=["ro-bench", "train\n| fake | row |"]), "command",
     ["control character"]),
    ("command-number", doc(command=["ro-bench", 3]), "command", ["a list of words"]),
    ("returns-count", doc(returns=[1.0]), "returns", ["1 returns for 3 curve points"]),
    ("returns-nan", doc(returns=[1.0, 2.0, "x"]), "returns", ["returns[2]"]),
    ("huge-integer", doc().replace('"seed": 3', '"seed": ' + "9" * 5000), None,
     ["5000 digits"]),
    ("code-revision-number", doc(code_revision=7), "code_revision", ["expected a string"]),
    ("protocol-number", doc(protocol=3), "protocol", ["expected a string", "int"]),
    ("config-list", doc(config=[1]), "config", ["expected an object"]),
    ("packages-number-version", doc(packages={"numpy": 2}), "packages", ["name -> version"]),
    ("hardware-string", doc(hardware="x86"), "hardware", ["expected an object"]),
    ("curve-not-list", doc(curve=5), "curve", ["[env_steps, metric] pairs"]),
    ("curve-triple", doc(curve=[[0, 1.0, 2.0]]), "curve", ["point 0", "pair"]),
    ("curve-step-negative", doc(curve=[[-1, 1.0]]), "curve", ["point 0", ">= 0"]),
    ("curve-step-float", doc(curve=[[1.5, 1.0]]), "curve", ["point 0", "expected an integer"]),
    ("curve-metric-string", doc(curve=[[0, "1"]]), "curve", ["point 0", "expected a number"]),
    ("curve-metric-null", doc(curve=[[0, None]]), "curve", ["point 0", "expected a number"]),
    ("curve-metric-inf", doc(curve=[[0, 1.0]]).replace("1.0]", "-1e999]"), "curve",
     ["point 0", "finite"]),
    ("curve-repeated-step", doc(curve=[[0, 1.0], [10, 2.0], [10, 3.0]]), "curve",
     ["strictly increase", "point 2 has 10 after 10"]),
    ("curve-decreasing", doc(curve=[[10, 1.0], [5, 2.0]]), "curve", ["strictly increase"]),
    ("env-steps-before-curve-end", doc(env_steps=299), "env_steps",
     ["299 is less than the last curve point's 300"]),
    ("config-tampered", doc(config=TAMPERED_CONFIG), "config_hash",
     ["does not match the config", config_hash(TAMPERED_CONFIG)]),
    ("hash-tampered", doc(config_hash="f" * 64), "config_hash", ["does not match the config"]),
    ("hash-not-hex", doc(config_hash="abc"), "config_hash", ["sha256"]),
    ("diagnostics-list", doc(diagnostics=[1.5]), "diagnostics",
     ["null or a diagnostics object", "ero_gap, ero_gap_per_agent"]),
    ("diagnostics-missing-key", doc(diagnostics=diagnostics(modes=...)), "diagnostics",
     ["missing ['modes']"]),
    ("diagnostics-unknown-key", doc(diagnostics=diagnostics(ero_gaps=[1])), "diagnostics",
     ["unknown ['ero_gaps']"]),
    ("diagnostics-gap-negative", doc(diagnostics=diagnostics(ero_gap_per_agent=[1.5, -0.1])),
     "diagnostics", ["ero_gap_per_agent[1] must be >= 0"]),
    ("diagnostics-gap-string", doc(diagnostics=diagnostics(ero_gap_per_agent=["1.5"])),
     "diagnostics", ["ero_gap_per_agent[0]", "expected a number"]),
    ("diagnostics-no-agents", doc(diagnostics=diagnostics(ero_gap_per_agent=[])), "diagnostics",
     ["one gap per agent"]),
    ("diagnostics-gap-not-max", doc(diagnostics=diagnostics(ero_gap=1.0)), "diagnostics",
     ["ero_gap 1.0 is not the largest per-agent gap 1.5"]),
    ("diagnostics-coverage-above-one", doc(diagnostics=diagnostics(mode_coverage=[0.5, 1.5])),
     "diagnostics", ["mode_coverage[1] must be in [0, 1]"]),
    ("diagnostics-modes-count", doc(diagnostics=diagnostics(modes=[[0, 0]])), "diagnostics",
     ["modes as 2 joint actions"]),
    ("diagnostics-mode-width", doc(diagnostics=diagnostics(modes=[[0, 0], [1]])), "diagnostics",
     ["modes must have 2 numbers, one per agent"]),
    ("diagnostics-samples-zero", doc(diagnostics=diagnostics(samples=0)), "diagnostics",
     ["samples must be >= 1"]),
    ("diagnostics-reward-null", doc(diagnostics=diagnostics(executed_reward=None)),
     "diagnostics", ["executed_reward", "expected a number"]),
    ("action-samples-object", doc(action_samples={"env_steps": 0}), "action_samples",
     ["a list of {env_steps, actions, rewards} records"]),
    ("action-samples-missing-key", doc(action_samples=[{"env_steps": 0, "actions": [[1, 0]]}]),
     "action_samples", ["record 0", "missing ['rewards']"]),
    ("action-samples-repeated-step", doc(action_samples=[record(5), record(5)]),
     "action_samples", ["record 1", "strictly increase", "5 follows 5"]),
    ("action-samples-step-negative", doc(action_samples=[record(-1)]), "action_samples",
     ["record 0", ">= 0"]),
    ("action-samples-no-actions", doc(action_samples=[record(0, actions=[], rewards=[])]),
     "action_samples", ["record 0", "non-empty list of joint actions"]),
    ("action-samples-ragged", doc(action_samples=[record(0, actions=[[0, 1], [1]])]),
     "action_samples", ["record 0", "same number of agents"]),
    ("action-samples-agents-change", doc(action_samples=[record(0), record(1, [[0, 1, 2]] * 2)]),
     "action_samples", ["record 1", "same number of agents (2, as the first)"]),
    ("action-samples-action-nan", doc(action_samples=[record(0)]).replace("[0, 1]", "[NaN, 1]"),
     None, ["NaN", "finite"]),
    ("action-samples-action-string", doc(action_samples=[record(0, actions=[[0, "1"]] * 2)]),
     "action_samples", ["record 0", "actions[0][1]", "expected a number"]),
    ("action-samples-reward-count", doc(action_samples=[record(0, rewards=[1.0])]),
     "action_samples", ["record 0", "1 rewards for 2 joint actions"]),
    ("action-samples-after-env-steps", doc(action_samples=[record(301)]), "env_steps",
     ["300 is less than the last action-sample record's 301"]),
]


@pytest.mark.parametrize("text, field, words", [pytest.param(*case[1:], id=case[0])
                                                for case in BAD_DOCUMENTS])
def test_bad_documents_are_rejected_with_a_reason(text, field, words):
    with pytest.raises(RunResultError) as caught:
        RunResult.from_json(text)
    message = str(caught.value)
    assert caught.value.field == field
    if field:
        assert f"field {field!r}" in message
    for word in words:
        assert word in message


def test_sample_document_is_valid():  # so each rejection above is down to its one change
    assert RunResult.from_json(doc()) == sample()


def test_an_invalid_result_cannot_be_built():
    with pytest.raises(RunResultError, match="'curve'.*strictly increase"):
        sample(curve=[(5, 1.0), (5, 1.0)])
    with pytest.raises(RunResultError, match="'config'.*JSON values only"):
        sample(config={"lr": float("nan")}, config_hash="0" * 64)
    with pytest.raises(RunResultError, match="'config'.*JSON values only"):
        sample(config={"f": print}, config_hash="0" * 64)


def test_rejection_is_a_value_error():
    assert issubclass(RunResultError, ValueError)


# --- environment_info -------------------------------------------------------------------------


def test_environment_info_describes_this_process():
    revision, packages, hardware = results.environment_info()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", revision)
    assert packages["numpy"] == metadata.version("numpy")
    assert packages["ro-bench"] == metadata.version("ro-bench")
    assert {"gymnasium", "pettingzoo"} <= set(packages)
    assert ("torch" in packages) == (find_spec("torch") is not None)
    recorded = {"platform", "machine", "processor", "cpu_count", "python"}
    assert set(hardware) == recorded | ({"cpu_model", "cpu_simd"}
                                        if Path("/proc/cpuinfo").exists() else set())
    assert hardware["cpu_count"] == os.cpu_count() and hardware["python"].startswith("3.")


def test_cpu_info_reads_the_model_and_the_simd_extensions(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\n"
                       "flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_fp16 amx_tile\n\n"
                       "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n")
    assert results.cpu_info(cpuinfo) == {
        "cpu_model": "Some CPU @ 2.0GHz",
        "cpu_simd": ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_fp16", "amx_tile"]}
    assert results.cpu_info(tmp_path / "absent") == {}


def test_revision_is_unknown_outside_a_git_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "_REPO_DIR", tmp_path)
    assert results.environment_info()[0] == "unknown"


def test_revision_is_marked_dirty_only_by_tracked_changes(tmp_path, monkeypatch):
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t",
                               "-c", "user.email=t@t", *args],
                              check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt")
    git("commit", "-q", "-m", "first")
    monkeypatch.setattr(results, "_REPO_DIR", tmp_path)
    head = git("rev-parse", "HEAD")
    (tmp_path / "untracked.txt").write_text("x")
    assert results.environment_info()[0] == head
    (tmp_path / "a.txt").write_text("2")
    assert results.environment_info()[0] == head + "+dirty"


def test_revision_ignores_an_enclosing_repository(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "site-packages").mkdir()
    monkeypatch.setattr(results, "_REPO_DIR", tmp_path / "site-packages")
    assert results.environment_info()[0] == "unknown"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, mode):
    """Files of record are read by whoever serves the board: not mkstemp's private 0600."""
    old = os.umask(umask)
    try:
        sample().write(tmp_path / "run.json")
    finally:
        os.umask(old)
    assert (tmp_path / "run.json").stat().st_mode & 0o777 == mode
