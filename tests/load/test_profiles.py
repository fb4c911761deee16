"""Load profiles: validation with messages naming the option, and arrival times."""

from __future__ import annotations

import itertools
import statistics

import pytest

from llmd_console.load.profiles import Concurrent, ProfileError, Rate, Sweep


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Concurrent(10, -3), r"-c/--concurrency must be a whole number from 1 to 10000, got -3"),
        (lambda: Concurrent(0, 2), r"-n/--requests must be a whole number from 1 to 10000000, got 0"),
        (lambda: Rate(0, requests=5), r"--rate must be a number above 0 and at most 100000, got 0"),
        (lambda: Rate(-2, requests=5), r"--rate must be a number above 0"),
        (lambda: Rate(float("nan"), requests=5), r"--rate must be a number above 0"),
        (lambda: Rate(5), r"a rate profile needs -n/--requests or --duration"),
        (lambda: Rate(5, duration=0), r"--duration must be a number above 0"),
        (lambda: Sweep(5, 1, 2, step_requests=3), r"--max-rate \(2\) must not be below --rate \(5\)"),
        (lambda: Sweep(1, 0.0001, 100, step_requests=3), r"more than 1000 steps"),
        (lambda: Sweep(1, 1, 3), r"a sweep needs -n/--requests or --duration"),
    ],
)
def test_bad_profiles_say_what_is_wrong(make: object, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        make()  # type: ignore[operator]


def test_constant_rate_is_evenly_spaced_and_bounded() -> None:
    assert list(Rate(4, requests=5).arrivals()) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert list(Rate(2, duration=2).arrivals()) == [0.0, 0.5, 1.0, 1.5]
    assert len(list(Rate(2, requests=3, duration=100).arrivals())) == 3


def test_poisson_arrivals_are_seeded_with_the_rate_as_mean() -> None:
    first = list(Rate(50, requests=2000, poisson=True, seed=3).arrivals())
    assert first == list(Rate(50, requests=2000, poisson=True, seed=3).arrivals())
    assert first != list(Rate(50, requests=2000, poisson=True, seed=4).arrivals())
    gaps = [b - a for a, b in itertools.pairwise(first)]
    assert statistics.mean(gaps) == pytest.approx(1 / 50, rel=0.1)
    assert statistics.stdev(gaps) == pytest.approx(1 / 50, rel=0.15)  # exponential: sd = mean


def test_sweep_rates_and_steps() -> None:
    sweep = Sweep(2, 2, 9, step_requests=4)
    assert sweep.rates() == [2, 4, 6, 8]
    step = sweep.step_profile(6)
    assert (step.rate, step.requests, step.poisson) == (6, 4, False)
    assert Sweep(0.1, 0.1, 0.3, step_duration=1).rates() == [0.1, 0.2, 0.3]
