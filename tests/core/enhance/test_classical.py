"""Cubic or back-projection, measured on the whole input reduced once more at its own noise."""

import numpy as np
from scipy import ndimage

from self_vision.core.bootstrap import block_sse
from self_vision.core.degrade import add_poisson_gaussian, cubic_upsample
from self_vision.core.enhance.classical import ClassicalCheck, check_factor, classical_check, reduction
from self_vision.core.enhance.gate import decide
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.quality import back_projection_baseline, degrade_array

from .test_gate import _check, _Groups

AREA = ("area", "area", "area")


def _specimen(shape=(8, 128, 128), seed=0) -> np.ndarray:
    """Bright blobs on a dark background, smooth enough at the pixel scale for the noise estimate to read ~0
    on it (sharper ones read as noise, and the check then prefers cubic: the safe side, see the module)."""
    field = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), (0, 2.5, 2.5))
    field = (field - field.min()) / (field.max() - field.min())
    return (field**2).astype(np.float32)


def _true_margin(reference, low, factor) -> float:
    """Back-projection's gain over cubic against the clean reference (dB)."""
    border = [2 * f for f in factor]
    cubic = block_sse(cubic_upsample(low, factor), reference, border).sum()
    bp = block_sse(back_projection_baseline(low, factor, "area", 10, 0.5, AREA), reference, border).sum()
    return float(10 * np.log10(cubic / bp))


def test_it_prefers_back_projection_on_clean_and_cubic_on_noisy_binned_data():
    factor = (1, 2, 2)
    reference = _specimen()
    clean = degrade_array(reference, factor, "area", 0.5, AREA)
    noisy = add_poisson_gaussian(clean, 10.0, 0.02, np.random.default_rng(1)).astype(np.float32)
    # the premise, against the clean truth: back-projection wins on the clean copy and loses on the noisy one
    assert _true_margin(reference, clean, factor) > 0.1
    assert _true_margin(reference, noisy, factor) < -0.1
    on_clean, on_noisy = classical_check(clean, factor, AREA), classical_check(noisy, factor, AREA)
    assert on_clean is not None and on_clean.preferred == "back-projection"
    assert on_noisy is not None and on_noisy.preferred == "cubic"
    assert on_noisy.low <= on_noisy.gain <= on_noisy.high
    assert "at its own noise" in on_noisy.summary()


def test_the_same_input_gives_the_same_answer():
    x = degrade_array(_specimen(seed=2), (1, 2, 2), "area", 0.5, AREA)
    assert classical_check(x, (1, 2, 2), AREA) == classical_check(x, (1, 2, 2), AREA)


def test_check_factor_needs_room_and_stands_in_y_for_a_thin_z():
    assert check_factor((40, 64, 64), (2, 2, 2)) == (2, 2, 2)
    assert check_factor((40, 64, 64), (1, 4, 4)) == (1, 2, 2)  # x4 is checked by reducing x2 once more
    assert check_factor((40, 64, 64), (3, 1, 1)) == (3, 1, 1)
    assert check_factor((7, 64, 64), (4, 1, 1)) == (1, 2, 1)  # 7 planes cannot be reduced once more
    assert check_factor((7, 64, 64), (2, 2, 2)) == (1, 2, 2)
    assert check_factor((7, 12, 12), (4, 1, 1)) is None
    # each axis keeps its own sampling model in the check; y standing in for a thin z takes z's
    mixed = ("point", "area", "area")
    assert reduction((40, 64, 64), (1, 4, 4), mixed) == ((1, 2, 2), ["point", "area", "area"])
    assert reduction((7, 64, 64), (4, 1, 1), mixed) == ((1, 2, 1), ["point", "point", "area"])
    assert classical_check(np.zeros((4, 12, 12), np.float32), (1, 4, 4), AREA) is None


def test_the_gate_returns_what_the_classical_check_prefers():
    enhancer = _Groups(["lateral"])
    enhancer.factor, enhancer.sampling = (1, 2, 2), AREA
    rejected = _check({"lateral": (-0.3, -0.5, -0.1)})  # the slab alone would pick back-projection
    assert decide(enhancer, rejected, EnhanceOptions()).returned == "back-projection"
    loses = ClassicalCheck(-1.4, -1.6, -1.2, (1, 2, 2))
    decision = decide(enhancer, rejected, EnhanceOptions(), loses)
    assert decision.returned == "cubic"
    assert "cubic, not back-projection: back-projection -1.40 dB" in decision.summary()
    assert decide(enhancer, None, EnhanceOptions(), loses).returned == "cubic"  # nothing held out: same rule
    wins = ClassicalCheck(0.3, 0.2, 0.4, (1, 2, 2))
    assert decide(enhancer, None, EnhanceOptions(), wins).returned == "back-projection"
    kept = decide(enhancer, _check({"lateral": (0.5, 0.3, 0.7)}), EnhanceOptions(), loses)
    assert kept.returned == "network" and "back-projection -1.40" not in kept.summary()
