"""Every setting of a SIM run and its default, in one torch-free place (the CLI's help reads its defaults here).

:mod:`self_vision.core.sim.run` re-exports :class:`SimOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

DENOISERS = ("none", "rdl", "plain")
TRAINING_MODES = ("auto", "self", "timelapse", "supervised")


@dataclass(frozen=True)
class SimOptions:
    """Every setting of a SIM run, with its default. Lengths in µm, frequencies in cycles/µm."""

    pixel_size_um: float | None = None  # camera pixel; None: the caller must pass the file's value
    order: str = "orientation-major"  # or "phase-major"
    n_orientations: int = 3
    n_phases: int = 3
    offset: float | None = None  # camera offset in counts; None: estimated from the frames
    excitation_wavelength_um: float = 0.488
    na_excitation: float = 1.35  # sets the expected |k0| = 2·NA_exc/λ_exc (line spacing λ/(2·NA_exc))
    emission_wavelength_um: float = 0.525
    na_detection: float = 1.3  # with the emission wavelength: the computed OTF when no otf_path
    otf_path: str | None = None  # a measured radial OTF (.mrc, e.g. otf_tirf488.mrc)
    k0_prior: float | None = None  # None: expected_k0(excitation wavelength, NA_exc)
    angles_prior: tuple[float, ...] | None = None  # radians, atan2(ky, kx) with y = rows; None: searched
    k0_tolerance: float = 0.1  # relative search band around the |k0| prior
    angle_tolerance: float = 0.2  # rad, search wedge around each prior angle
    min_modulation: float = 0.1  # below: the orientation's fit counts as unreliable
    individual_phases: bool = True  # False: equally spaced phases plus one offset per orientation
    wiener: float = 0.1  # Wiener parameter w (see wiener.py)
    apodisation: float = 1.0  # apodisation cutoff as a fraction of k_c + |k0|
    apodisation_bend: float = 1.0
    attenuation: float = 0.0  # band-centre notch strength, 0 = off
    attenuation_width: float = 1.0  # µm⁻¹
    denoise: str = "none"  # "none", "rdl" (pattern-guided), "plain" (same denoiser without the PM branch)
    training: str = "auto"  # "auto" (timelapse when T ≥ 2, else self), "self", "timelapse", "supervised"
    time_budget_s: float = 40.0  # training time limit (the step count then varies with the machine's load)
    max_steps: int = 5000  # step limit; with time_budget_s = inf exactly this many steps (the run repeats exactly)
    patch: int = 48
    batch: int = 8
    width: int = 32
    blocks: int = 3
    learning_rate: float = 1e-3
    fnsm: bool = False  # learnable Fourier low-pass copy of the raw input as extra channels
    recorruption_alpha: float = 0.5  # self mode: input y + α·z, target y − z/α
    recorruption_draws: int = 4  # self mode: recorrupted copies for training, averaged at inference
    pm_source: str = "wiener"  # SR estimate behind the PM images: "wiener" (one stage) or "denoised" (two stages)
    stage1_fraction: float = 0.4  # pm_source="denoised": share of the budget for the first (plain) stage
    pm_wiener: float = 0.3  # Wiener parameter of the SR estimate behind the PM images (smoother than `wiener`)
    device: str = "auto"
    seed: int = 0
