"""Named streams, distribution samplers and key samplers (simulator.randomness)."""

from __future__ import annotations

import inspect
import math
from types import SimpleNamespace as Spec

import numpy as np
import pytest
from pydantic import TypeAdapter

from simulator.randomness import (
    RandomStreams,
    key_sampler,
    lognormal_params,
    sampler,
    stable_hash,
    zipf_cdf,
)
from simulator.scenario.dists import DistSpec, KeysSpec, LognormalDistSpec, NormalDistSpec

N_DRAWS = 200_000
Z_TOL = 4.5  # tolerance in standard errors; every check below uses a fixed seed


def draws(spec, n=N_DRAWS, name="test"):
    """Draw ``n`` values through the per-call sampler (the code path the simulator uses)."""
    draw = sampler(spec, RandomStreams(11).generator(name))
    return np.array([draw() for _ in range(n)])


_DISTS = TypeAdapter(DistSpec)
_KEYS = TypeAdapter(KeysSpec)


def dist(data):
    """Build a real distribution spec through the scenario schema, as a scenario file would."""
    return _DISTS.validate_python(data)


def keys_spec(data):
    """Build a real key-popularity spec through the scenario schema."""
    return _KEYS.validate_python(data)


CONSTANT = dist({"dist": "constant", "value": "20ms"})
MEAN_CASES = {
    "exponential": dist({"dist": "exponential", "mean": "6ms"}),
    "uniform": dist({"dist": "uniform", "low": "10ms", "high": "50ms"}),
    "normal": dist({"dist": "normal", "mean": "10ms", "std": "3ms"}),
    "normal_widest_accepted": dist({"dist": "normal", "mean": "10ms", "std": "4.2ms"}),
    "normal_zero_std": dist({"dist": "normal", "mean": "7ms", "std": 0}),
    "lognormal_mean_p99": dist({"dist": "lognormal", "mean": "15ms", "p99": "80ms"}),
    "lognormal_median_sigma": dist({"dist": "lognormal", "median": "10ms", "sigma": 0.7}),
    "gamma": dist({"dist": "gamma", "mean": "20ms", "shape": 0.5}),
    "erlang": dist({"dist": "erlang", "mean": "20ms", "k": 3}),
    "pareto": dist({"dist": "pareto", "low": "1ms", "high": "1s", "alpha": 1.5}),
    "pareto_alpha_below_1": dist({"dist": "pareto", "low": "1ms", "high": "50ms", "alpha": 0.8}),
    "pareto_alpha_1": dist({"dist": "pareto", "low": "1ms", "high": "100ms", "alpha": 1}),
    "empirical_samples": dist({"dist": "empirical", "samples": ["1ms", "2ms", "2ms", "10ms"]}),
    "empirical_quantiles": dist(
        {"dist": "empirical", "quantiles": {0: "1ms", 0.5: "10ms", 0.9: "50ms", 1: "200ms"}}
    ),
}


def test_stable_hash_is_fixed_64_bit_blake2b():
    """Stream hashes are fixed values, not Python's per-process salted hash()."""
    assert stable_hash("app/2.service") == 6287265016397456846
    assert stable_hash("") == 13020603013274838756
    assert 0 <= stable_hash("x" * 1000) < 2**64


def test_same_name_gives_same_stream_whatever_the_creation_order():
    """A stream depends on its name only, not on which streams were created before it."""
    first = RandomStreams(7)
    a1, b1 = first.generator("a"), first.generator("b")
    second = RandomStreams(7)
    b2, a2 = second.generator("b"), second.generator("a")
    assert np.array_equal(a1.random(100), a2.random(100))
    assert np.array_equal(b1.random(100), b2.random(100))


def test_different_names_seeds_and_replications_differ():
    """Name, seed and replication each change the stream."""
    base = RandomStreams(7, replication=0).generator("a").random(20)
    for other in (
        RandomStreams(7, replication=0).generator("b"),
        RandomStreams(8, replication=0).generator("a"),
        RandomStreams(7, replication=1).generator("a"),
    ):
        assert not np.array_equal(base, other.random(20))


def test_sampler_is_reproducible_from_a_fresh_stream():
    """Two samplers built from fresh copies of one stream give identical draws."""
    spec = MEAN_CASES["lognormal_mean_p99"]
    assert np.array_equal(draws(spec, 10_000), draws(spec, 10_000))


@pytest.mark.parametrize("spec", [CONSTANT, *MEAN_CASES.values()], ids=["constant", *MEAN_CASES])
def test_sampler_call_is_c_level(spec):
    """The per-draw callable is a builtin (no Python frame per call) returning a Python float."""
    draw = sampler(spec, np.random.default_rng(0))
    assert inspect.isbuiltin(draw) or inspect.ismethodwrapper(draw)
    assert type(draw()) is float


@pytest.mark.parametrize("case", list(MEAN_CASES))
def test_sample_mean_matches_analytic_mean(case):
    """The sample mean of 200k sampler draws lies within 4.5 standard errors of spec.analytic_mean()."""
    spec = MEAN_CASES[case]
    x = draws(spec, name=case)
    if np.all(x == x[0]):  # a degenerate law (std 0): every draw is the mean
        assert x[0] == pytest.approx(spec.analytic_mean(), rel=1e-12)
        return
    standard_error = x.std(ddof=1) / math.sqrt(x.size)
    assert abs(x.mean() - spec.analytic_mean()) <= Z_TOL * standard_error


def test_constant_always_returns_its_value():
    """A constant draws exactly its value, and that is its mean."""
    assert set(draws(CONSTANT, 1000)) == {0.02}
    assert CONSTANT.analytic_mean() == 0.02
    assert dist("20ms") == CONSTANT  # a bare duration is shorthand for a constant


def test_lognormal_fitted_to_mean_and_p99_has_that_p99():
    """A lognormal given (mean, p99) reproduces its p99 to within 2% (about 4 SE at 500k draws)."""
    spec = MEAN_CASES["lognormal_mean_p99"]
    assert np.quantile(draws(spec, 500_000), 0.99) == pytest.approx(0.080, rel=0.02)
    mu, sigma = lognormal_params(spec)
    assert math.exp(mu + 2.3263478740408408 * sigma) == pytest.approx(0.080, rel=1e-12)


def test_lognormal_with_unreachable_p99_is_rejected():
    """No lognormal has p99 below its mean or above ~15x its mean: the schema and the sampler refuse it."""
    for p99 in (0.01, 0.015, 0.5):
        with pytest.raises(ValueError, match="p99"):
            dist({"dist": "lognormal", "mean": 0.015, "p99": p99})
        unchecked = LognormalDistSpec.model_construct(mean=0.015, p99=p99)  # bypasses the schema's check
        with pytest.raises(ValueError, match="lognormal"):
            sampler(unchecked, np.random.default_rng(0))


def test_normal_is_never_negative():
    """Truncation at 0 resamples negatives (about 1% of raw draws at the widest accepted std)."""
    x = draws(dist({"dist": "normal", "mean": "10ms", "std": "4.2ms"}), 100_000)
    assert x.min() >= 0.0


def test_normal_sample_mean_is_its_stated_mean():
    """An accepted normal delivers the mean it states (within 1% + sampling error), not a shifted one."""
    for std in ("1ms", "3ms", "4.2ms"):
        x = draws(dist({"dist": "normal", "mean": "10ms", "std": std}))
        assert abs(x.mean() - 0.010) <= 0.01 * 0.010 + Z_TOL * x.std(ddof=1) / math.sqrt(x.size)


@pytest.mark.parametrize(("mean", "std"), [("1s", "2s"), ("10ms", "4.3ms"), (0, "4ms")])
def test_normal_whose_truncation_shifts_the_mean_is_refused(mean, std):
    """Where redrawing negatives would move the mean by more than 1%, the std is refused with a way out."""
    with pytest.raises(ValueError, match=r"std .* too wide .*lognormal.*gamma"):
        dist({"dist": "normal", "mean": mean, "std": std})


def test_pareto_stays_within_its_bounds():
    """Bounded Pareto draws lie in [low, high]."""
    x = draws(dist({"dist": "pareto", "low": "1ms", "high": "50ms", "alpha": 0.8}))
    assert x.min() >= 0.001 and x.max() <= 0.05


def test_empirical_quantiles_reproduce_their_points():
    """Sample quantiles at the given p match the given values (tolerance from the local slope)."""
    quantiles = {0: 0.001, 0.5: 0.01, 0.9: 0.05, 0.99: 0.2, 1: 0.5}
    x = draws(dist({"dist": "empirical", "quantiles": quantiles}))
    assert x.min() >= 0.001 and x.max() <= 0.5
    ps, vs = list(quantiles), list(quantiles.values())
    for i in range(1, len(ps) - 1):
        slope = max((vs[i + 1] - vs[i]) / (ps[i + 1] - ps[i]), (vs[i] - vs[i - 1]) / (ps[i] - ps[i - 1]))
        tolerance = Z_TOL * slope * math.sqrt(ps[i] * (1 - ps[i]) / x.size)
        assert abs(np.quantile(x, ps[i]) - vs[i]) <= tolerance


def test_empirical_samples_are_chosen_uniformly():
    """Each listed sample is drawn equally often."""
    x = draws(dist({"dist": "empirical", "samples": [1.0, 2.0, 3.0, 4.0]}))
    counts = np.array([(x == v).sum() for v in (1.0, 2.0, 3.0, 4.0)])
    assert counts.sum() == x.size
    assert np.all(np.abs(counts / x.size - 0.25) <= Z_TOL * math.sqrt(0.25 * 0.75 / x.size))


def test_bare_number_is_a_constant():
    """A bare number of seconds samples as a constant, and the schema reads it as one."""
    assert sampler(0.25, np.random.default_rng(0))() == 0.25
    assert dist(3).analytic_mean() == 3.0


def test_truncated_normal_mean_accounts_for_the_truncation():
    """With mean 0, the truncated normal is half-normal: mean std * sqrt(2/pi)."""
    spec = NormalDistSpec.model_construct(mean=0.0, std=1.0)  # refused by the schema; the formula holds
    assert spec.analytic_mean() == pytest.approx(math.sqrt(2 / math.pi), rel=1e-12)


def test_bounded_pareto_mean_is_continuous_at_alpha_1():
    """The alpha = 1 branch (a log) agrees with the general formula just either side of 1."""
    def mean(alpha):
        return dist({"dist": "pareto", "low": "1ms", "high": "100ms", "alpha": alpha}).analytic_mean()

    assert mean(1.0) == pytest.approx(mean(1.0 + 1e-6), rel=1e-5)
    assert mean(1.0) == pytest.approx(mean(1.0 - 1e-6), rel=1e-5)


def test_unknown_distribution_is_rejected():
    """An unknown `dist` is refused by the schema, and by the sampler if a stand-in slips past it."""
    with pytest.raises(ValueError, match="weibull"):
        dist({"dist": "weibull", "mean": "6ms"})
    with pytest.raises(ValueError, match="unknown distribution"):
        sampler(Spec(dist="weibull"), np.random.default_rng(0))  # no real spec can carry this tag


def test_zipf_key_frequencies_match_normalised_weights():
    """Top zipf keys appear with frequency (k+1)^-alpha / H within 4.5 standard errors."""
    catalog, alpha, n = 1000, 0.9, 300_000
    spec = keys_spec({"dist": "zipf", "alpha": alpha, "catalog": catalog})
    draw = key_sampler(spec, RandomStreams(3).generator("keys"))
    keys = np.array([draw() for _ in range(n)])
    assert keys.min() >= 0 and keys.max() < catalog
    weights = np.arange(1, catalog + 1, dtype=float) ** -alpha
    p = weights / weights.sum()
    freq = np.bincount(keys, minlength=catalog) / n
    top = slice(0, 20)
    assert np.all(np.abs(freq[top] - p[top]) <= Z_TOL * np.sqrt(p[top] * (1 - p[top]) / n))


def test_uniform_keys_cover_the_catalog_evenly():
    """Uniform keys are ints in [0, catalog) with mean (catalog - 1) / 2."""
    catalog, n = 50, 200_000
    draw = key_sampler(keys_spec({"dist": "uniform", "catalog": catalog}), np.random.default_rng(5))
    keys = np.array([draw() for _ in range(n)])
    assert type(draw()) is int
    assert keys.min() == 0 and keys.max() == catalog - 1
    standard_error = math.sqrt((catalog**2 - 1) / 12 / n)
    assert abs(keys.mean() - (catalog - 1) / 2) <= Z_TOL * standard_error


def test_zipf_cdf_ends_at_exactly_one_and_is_read_only():
    """The last CDF entry is 1.0, so a uniform in [0, 1) never maps past the catalog."""
    cdf = zipf_cdf(1.1, 1_000_000)
    assert cdf[-1] == 1.0 and np.all(np.diff(cdf) > 0)
    with pytest.raises(ValueError):
        cdf[0] = 0.0


def test_single_key_catalog_always_gives_key_zero():
    """A one-key catalog has nothing to choose."""
    draw = key_sampler(keys_spec({"dist": "zipf", "alpha": 1.0, "catalog": 1}), np.random.default_rng(0))
    assert {draw() for _ in range(10_000)} == {0}
