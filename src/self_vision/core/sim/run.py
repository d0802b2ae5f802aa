"""2D-SIM from raw frames to widefield, Wiener SIM and rDL-SIM: the one entry point for API, CLI and napari.

``sim_steps(raw, options)`` is a generator: it yields :mod:`self_vision.core.events` events (``StageInfo`` at
each stage, ``TrainProgress`` per training step), checks ``cancel`` between steps (raising
:class:`~self_vision.core.errors.CancelledError`) and returns a :class:`SimResult` (``StopIteration.value``;
:func:`run_sim` drives it to the end). The core never imports napari or Qt.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import CancelledError, DataError, UsageError
from ..events import CancelToken, Event, StageInfo
from . import layout
from .denoise import denoise_frames
from .noise import NoiseModel
from .optics import OTF, expected_k0, read_otf, theoretical_otf
from .options import DENOISERS, TRAINING_MODES, SimOptions
from .pattern import PatternParams, estimate_pattern
from .wiener import WienerOptions, reconstruct, widefield


@dataclass
class SimResult:
    """Outputs on the 2× grid (``pixel_size_um``), one image per time point (no T axis for a single acquisition).

    ``denoised`` holds the denoised raw frames in the input layout (offset removed); ``sr_denoised`` their Wiener
    SIM (rDL-SIM); both are None when ``denoise == "none"``.
    """

    widefield: np.ndarray
    sr: np.ndarray
    sr_denoised: np.ndarray | None
    denoised: np.ndarray | None
    params: list[PatternParams]
    warnings: list[str]
    pixel_size_um: float
    raw_pixel_size_um: float
    offset: float
    otf_source: str
    noise: NoiseModel | None = None
    losses: list[float] = field(default_factory=list)
    training_mode: str | None = None  # resolved: "self", "timelapse" or "supervised"; None without denoising
    steps_trained: dict[str, int] = field(default_factory=dict)  # per stage ("denoise", "rdl")
    train_seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"pixel {self.raw_pixel_size_um:g} µm raw, {self.pixel_size_um:g} µm SIM; offset {self.offset:.1f}; "
            f"OTF {self.otf_source}"
        ]
        lines += [f"orientation {d}: {p.summary()}" for d, p in enumerate(self.params)]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def make_otf(options: SimOptions) -> OTF:
    """The measured OTF of ``otf_path``, else the ideal one of the detection NA and emission wavelength."""
    if options.otf_path:
        return read_otf(options.otf_path)
    return theoretical_otf(options.na_detection, options.emission_wavelength_um)


def _check(options: SimOptions) -> None:
    if options.pixel_size_um is None or not options.pixel_size_um > 0:
        raise UsageError("the raw SIM pixel size is unknown; give it (e.g. --pixel-size 0.0626 in µm)")
    if options.denoise not in DENOISERS:
        raise UsageError(f"unknown denoiser {options.denoise!r}; use one of {', '.join(DENOISERS)}")
    if options.training not in TRAINING_MODES:
        raise UsageError(f"unknown training mode {options.training!r}; use one of {', '.join(TRAINING_MODES)}")
    if options.pm_source not in ("denoised", "wiener"):
        raise UsageError(f"unknown pm_source {options.pm_source!r}; use denoised or wiener")
    if options.wiener <= 0 or options.pm_wiener <= 0:
        raise UsageError("the Wiener parameters must be positive (e.g. 0.1)")
    if options.pixel_size_um > 0.2:
        raise UsageError(f"pixel size {options.pixel_size_um} µm is too coarse for SIM; is it in µm?")


def _raise_if(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise CancelledError("SIM run cancelled")


def sim_steps(
    raw: np.ndarray,
    options: SimOptions,
    *,
    target: np.ndarray | None = None,
    cancel: CancelToken | None = None,
) -> Generator[Event, None, SimResult]:
    """Run 2D-SIM on ``raw`` ``(O·P, Y, X)`` or ``(T, O·P, Y, X)``; ``target`` is the matched high-SNR stack
    (same shape) for ``training="supervised"``."""
    _check(options)
    stacks = layout.arrange(raw, options.n_orientations, options.n_phases, options.order)
    single = np.asarray(raw).ndim == 3 and stacks.shape[0] == 1
    pixel = float(options.pixel_size_um)
    yield StageInfo("sim-estimate", "estimating the illumination pattern")
    otf = make_otf(options)
    offset = layout.estimate_offset(stacks) if options.offset is None else float(options.offset)
    stacks = layout.subtract_offset(stacks, offset)
    if float(stacks.max()) <= 0:
        raise DataError("the raw SIM frames are empty after removing the camera offset; check --offset")
    k0_prior = (
        options.k0_prior
        if options.k0_prior is not None
        else expected_k0(options.excitation_wavelength_um, options.na_excitation)
    )
    if k0_prior >= 1 / pixel:
        raise UsageError(f"expected |k0| {k0_prior:.2f} /µm is beyond the 2× grid for pixel {pixel} µm; check units")
    params, warnings = estimate_pattern(
        stacks.sum(axis=0),
        pixel,
        otf,
        k0_prior=k0_prior,
        angles_prior=options.angles_prior,
        k0_tolerance=options.k0_tolerance,
        angle_tolerance=options.angle_tolerance,
        min_modulation=options.min_modulation,
        individual_phases=options.individual_phases,
    )
    _raise_if(cancel)
    wopts = WienerOptions(
        wiener=options.wiener,
        apodisation=options.apodisation,
        apodisation_bend=options.apodisation_bend,
        attenuation=options.attenuation,
        attenuation_width=options.attenuation_width,
    )
    yield StageInfo("sim-wiener", f"Wiener SIM of {stacks.shape[0]} acquisition(s)")
    wf = np.stack([widefield(s) for s in stacks])
    sr = []
    for s in stacks:
        _raise_if(cancel)
        sr.append(reconstruct(s, params, pixel, otf, wopts))
    sr = np.stack(sr)
    result = SimResult(
        widefield=wf,
        sr=sr,
        sr_denoised=None,
        denoised=None,
        params=params,
        warnings=warnings,
        pixel_size_um=pixel / 2,
        raw_pixel_size_um=pixel,
        offset=offset,
        otf_source=otf.source,
    )
    if options.denoise != "none":
        high = None
        if target is not None:
            high = layout.subtract_offset(
                layout.arrange(target, options.n_orientations, options.n_phases, options.order), offset
            )
            if high.shape != stacks.shape:
                raise DataError(
                    f"the high-SNR target has shape {np.shape(target)}, the raw frames {np.shape(raw)}; "
                    "give matched acquisitions"
                )
        done = yield from denoise_frames(stacks, high, params, pixel, otf, options, cancel)
        yield StageInfo("sim-wiener", "Wiener SIM of the denoised frames")
        result.sr_denoised = np.stack([reconstruct(s, params, pixel, otf, wopts) for s in done.frames])
        result.denoised = layout.flatten(done.frames, options.order)
        result.losses, result.noise, result.training_mode = done.losses, done.noise, done.mode
        result.steps_trained, result.train_seconds = done.steps, done.train_seconds
    if single:
        result.widefield, result.sr = result.widefield[0], result.sr[0]
        if result.sr_denoised is not None:
            result.sr_denoised, result.denoised = result.sr_denoised[0], result.denoised[0]
    return result


def run_sim(
    raw: np.ndarray, options: SimOptions, *, target: np.ndarray | None = None, cancel: CancelToken | None = None
) -> SimResult:
    """Drive :func:`sim_steps` to the end, dropping the events."""
    steps = sim_steps(raw, options, target=target, cancel=cancel)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def with_file_pixel(options: SimOptions, file_pixel_um: float | None) -> SimOptions:
    """``options`` with the file's pixel size filled in when the user gave none."""
    if options.pixel_size_um is None and file_pixel_um is not None:
        return replace(options, pixel_size_um=float(file_pixel_um))
    return options
