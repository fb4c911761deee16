"""Tour files: the built-in one is valid, and a bad one is refused naming the step and the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmd_console.sim.worlds.scenarios import SCENARIOS
from llmd_console.tour import Step, TourError, load_tour, parse_tour


def test_the_built_in_tour_is_valid_and_uses_real_scenarios() -> None:
    tour = load_tour("default")
    assert len(tour.steps) >= 8
    kinds = {s.kind for s in tour.steps}
    assert {"scenario", "clear", "load", "prompt", "wait_for_finding", "focus"} <= kinds
    assert all(s.value in SCENARIOS for s in tour.steps if s.kind == "scenario")


def test_steps_are_read_with_their_defaults() -> None:
    tour = parse_tour(
        "name: t\nsteps:\n- caption: a\n- caption: b\n  load: {requests: 5}\n  advance: 2\n"
        "- caption: c\n  clear: true\n",
        "t.yaml",
    )
    assert tour.steps == (
        Step("a"),
        Step("b", "load", (5, 4), 2.0),
        Step("c", "clear", True),
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("steps: [{caption: a, colour: red}]", "step 1: unknown field(s) colour"),
        ("steps: [{caption: a, scenario: x, clear: true}]", "step 1: one thing per step, not scenario and clear"),
        ("steps: [{caption: a}, {focus: pods}]", "step 2: caption is required"),
        ("steps: [{caption: a, advance: soon}]", "step 1: advance: must be a number"),
        ("steps: [{caption: a, advance: 0}]", "step 1: advance: must be a number from 0.5"),
        ("steps: [{caption: a, load: {requests: -1}}]", "step 1: load.requests: must be a number from 1"),
        ("steps: [{caption: a, load: {rps: 3}}]", "step 1: load must be a mapping of requests and concurrency"),
        ("steps: [{caption: a, clear: false}]", "step 1: clear must be true"),
        ("steps: []", "a non-empty list of steps"),
        ("steps: [", "not YAML"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_a_bad_tour_is_refused_naming_what_is_wrong(text: str, said: str) -> None:
    with pytest.raises(TourError) as caught:
        parse_tour(text, "bad.yaml")
    assert str(caught.value).startswith("bad.yaml") and said in str(caught.value), caught.value


def test_too_many_steps_and_too_large_files_are_refused() -> None:
    with pytest.raises(TourError, match="at most 200 steps"):
        parse_tour("steps:\n" + "- caption: a\n" * 201, "long.yaml")
    with pytest.raises(TourError, match="larger than 256 KiB"):
        parse_tour("steps:\n- caption: " + "a" * 300_000, "big.yaml")


def test_demo_refuses_a_bad_tour_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "tour.yaml"
    bad.write_text("steps: [{caption: a, scenario: 3}]")
    run = subprocess.run(
        [sys.executable, "-m", "llmd_console", "demo", "--tour", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert f"tour error: {bad}: step 1: scenario must be a non-empty text" in run.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "llmd_console", "demo", "--tour", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
