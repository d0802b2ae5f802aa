"""Small simulated 2D-SIM acquisitions shared by the SIM tests (computed once per session)."""

from __future__ import annotations

import pytest

from self_vision.core.sim.optics import theoretical_otf
from self_vision.core.sim.simulate import simulate_sim

N = 96  # camera pixels per side: small enough to keep the folder fast, large enough for sub-pixel k0


@pytest.fixture(scope="session")
def sim200():
    """One 9 × 96 × 96 acquisition at 200 photons peak (NA 1.35 / 488 nm, 62.6 nm pixels)."""
    return simulate_sim(N, 200.0, seed=5)


@pytest.fixture(scope="session")
def sim100():
    return simulate_sim(N, 100.0, seed=7)


@pytest.fixture(scope="session")
def otf135():
    return theoretical_otf(1.35, 0.488)
