"""The value reports' statistics against published worked values, and the stable splits on 100,000 units.

Sources of the expected values:
- [N98a] R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven
  methods", Statistics in Medicine 17:857-872 (1998), Table I, method 3 (Wilson score, no continuity correction).
- [N98b] R. G. Newcombe, "Interval estimation for the difference between independent proportions: comparison
  of eleven methods", Statistics in Medicine 17:873-890 (1998), Table II, examples (a)-(h), method 1 (Wald)
  and method 10 (hybrid score, no continuity correction).
- [ET93] B. Efron and R. J. Tibshirani, "An Introduction to the Bootstrap" (Chapman & Hall, 1993), Table 2.1
  and section 2.1: the mouse survival data (treatment 94 197 16 38 99 141 23; control 52 104 146 10 51 30 40 27
  46), means 86.86 and 56.22, difference 30.63, estimated standard error 28.93.
"""

import statistics

import pytest

from analytics.statistics import (
    Z95,
    Verdict,
    bootstrap_mean_difference,
    compare,
    compare_amounts,
    newcombe_difference,
    wald_difference,
    wilson,
)
from core.splits import campaign_experiment, in_share, position


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_the_wilson_interval_matches_newcombes_table_for_one_proportion(successes, n, low, high):
    # [N98a] Table I.
    assert wilson(successes, n) == pytest.approx((low, high), abs=0.00005)


# [N98b] Table II: (x1, n1, x2, n2), method 10 (hybrid score), method 1 (Wald, None where it is degenerate).
NEWCOMBE_TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339), (0.0575, 0.3425)),
    ((9, 10, 3, 10), (0.1705, 0.8090), (0.2605, 0.9395)),
    ((6, 7, 2, 7), (0.0582, 0.8062), (0.1481, 0.9947)),
    ((5, 56, 0, 29), (-0.0381, 0.1926), (0.0146, 0.1640)),
    ((0, 10, 0, 20), (-0.1611, 0.2775), None),
    ((0, 10, 0, 10), (-0.2775, 0.2775), None),
    ((10, 10, 0, 20), (0.6791, 1.0), None),
    ((10, 10, 0, 10), (0.6075, 1.0), None),
]


@pytest.mark.parametrize(("counts", "hybrid", "wald"), NEWCOMBE_TABLE_II)
def test_the_difference_intervals_match_newcombes_worked_examples(counts, hybrid, wald):
    interval = newcombe_difference(*counts)
    x1, n1, x2, n2 = counts
    assert interval.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert (interval.low, interval.high) == pytest.approx(hybrid, abs=0.00005)
    if wald is not None:
        textbook = wald_difference(*counts)
        assert (textbook.low, textbook.high) == pytest.approx(wald, abs=0.00005)


def test_the_95_percent_normal_quantile_is_the_usual_one():
    assert pytest.approx(1.959964, abs=1e-6) == Z95


def test_a_comparison_reports_the_lift_in_percentage_points_with_its_verdict():
    lift = compare(560, 700, 480, 800)  # example (a) of [N98b], ten times the size
    assert lift.first_rate == 80.0 and lift.second_rate == 60.0
    assert lift.difference is not None and lift.difference.estimate == pytest.approx(20.0)
    assert lift.verdict == Verdict.HIGHER
    assert compare(480, 800, 560, 700).verdict == Verdict.LOWER
    assert compare(100, 1000, 105, 1000).verdict == Verdict.NO_DIFFERENCE


def test_a_comparison_of_small_arms_says_the_sample_is_too_small_even_when_the_interval_excludes_zero():
    lift = compare(9, 10, 3, 10)  # example (b): the interval excludes zero, but ten per arm is too few
    assert lift.difference is not None and lift.difference.excludes_zero
    assert lift.verdict == Verdict.TOO_SMALL
    assert compare(0, 500, 1, 500).verdict == Verdict.TOO_SMALL  # one event in a thousand units
    assert compare(3, 40, 0, 0).verdict == Verdict.TOO_SMALL and compare(3, 40, 0, 0).difference is None


MOUSE_TREATMENT = [94, 197, 16, 38, 99, 141, 23]
MOUSE_CONTROL = [52, 104, 146, 10, 51, 30, 40, 27, 46]


def test_the_bootstrap_interval_of_the_mouse_data_matches_efron_and_tibshirani():
    interval = bootstrap_mean_difference(MOUSE_TREATMENT, MOUSE_CONTROL)
    assert interval.estimate == pytest.approx(30.63, abs=0.005)  # [ET93] section 2.1
    # [ET93]'s standard error 28.93 uses n - 1; the ideal bootstrap's is the plug-in one (n), 26.91. The
    # percentile interval of 2,000 resamples spans about 2 × 1.96 of it.
    plug_in = (statistics.pvariance(MOUSE_TREATMENT) / 7 + statistics.pvariance(MOUSE_CONTROL) / 9) ** 0.5
    textbook = (statistics.variance(MOUSE_TREATMENT) / 7 + statistics.variance(MOUSE_CONTROL) / 9) ** 0.5
    assert textbook == pytest.approx(28.93, abs=0.01)
    assert (interval.high - interval.low) / (2 * Z95) == pytest.approx(plug_in, rel=0.08)
    assert interval.low < 0 < interval.high  # [ET93]: not significant


def test_the_bootstrap_is_the_same_every_time_and_depends_on_its_seed():
    first = bootstrap_mean_difference(MOUSE_TREATMENT, MOUSE_CONTROL)
    assert bootstrap_mean_difference(MOUSE_TREATMENT, MOUSE_CONTROL) == first
    assert bootstrap_mean_difference(MOUSE_TREATMENT, MOUSE_CONTROL, seed=7) != first


def test_the_bootstrap_of_large_arms_agrees_with_the_normal_interval():
    treated = [0.0] * 9000 + [100.0] * 1000  # mean 10
    control = [0.0] * 950 + [80.0] * 50  # mean 4
    amounts = compare_amounts(treated, control)
    se = (statistics.pvariance(treated) / len(treated) + statistics.pvariance(control) / len(control)) ** 0.5
    assert amounts.difference is not None
    assert amounts.difference.estimate == pytest.approx(6.0)
    assert amounts.difference.low == pytest.approx(6.0 - Z95 * se, abs=0.15)
    assert amounts.difference.high == pytest.approx(6.0 + Z95 * se, abs=0.15)
    assert amounts.verdict == Verdict.HIGHER
    assert compare_amounts(treated[:20], control).verdict == Verdict.TOO_SMALL


def test_a_split_is_stable_and_independent_between_experiments():
    assert position("campaign:1", 42) == position("campaign:1", 42)
    assert in_share("campaign:1", 42, 100) and not in_share("campaign:1", 42, 0)
    units = range(10_000)
    one = {u for u in units if in_share(campaign_experiment(1), u, 10)}
    two = {u for u in units if in_share(campaign_experiment(2), u, 10)}
    # Independent splits: about 10% of one campaign's control is in the other's (100 expected, sd ~9.5).
    assert 60 <= len(one & two) <= 140


@pytest.mark.parametrize("percent", [10, 20, 50])
def test_the_shares_hold_within_tolerance_on_100000_customers(percent):
    n = 100_000
    inside = sum(in_share(campaign_experiment(7), customer, percent) for customer in range(1, n + 1))
    p = percent / 100
    sd = (n * p * (1 - p)) ** 0.5
    assert abs(inside - n * p) < 4 * sd  # 4 standard deviations: a correct split fails once in 15,000 runs
    # Visitor tokens (strings) split the same way.
    tokens = sum(in_share("bot-holdout:3", f"visitor-{i}", percent) for i in range(n))
    assert abs(tokens - n * p) < 4 * sd
