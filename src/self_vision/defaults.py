"""Every default and limit of the product, in one torch-free place.

The API, the command line, the dock and the core read these names; none of them writes its own copy.
Change a default here and every face follows.
"""

from __future__ import annotations

from typing import NamedTuple

#: Seconds of training for one enhancement run when neither steps nor a time budget is given.
ENHANCE_TIME_BUDGET = 40.0
#: Seconds of training for one denoising run when neither steps nor a time budget is given.
DENOISE_TIME_BUDGET = 30.0
#: Seconds of training of the headless demo (``self-vision demo``, ``make demo``).
DEMO_TIME_BUDGET = 30.0


class Preset(NamedTuple):
    """One of the dock's Quality choices."""

    seconds: float  #: training time of a run (a denoiser or SIM run trains one network for all of it)
    #: networks the axial stage averages (EnhanceOptions.axial_members), sharing its time; None: AXIAL_MEMBERS
    axial_networks: int | None


#: The dock's presets. Balanced is the core's default (40 s; the axial stage averages AXIAL_MEMBERS networks of
#: 10 s). Best gives the axial stage 12 networks of 10 s (was 4 of 30 s, and before that one of 120 s): on
#: the confocal nucleus x4 the mean of more short networks beat fewer long ones (docs/benchmarks.md, "Four
#: axial networks by default"). Fast has time for one. Lateral stages train one network for their share.
PRESETS = {"Fast": Preset(15.0, 1), "Balanced": Preset(ENHANCE_TIME_BUDGET, None), "Best": Preset(120.0, 12)}
#: The seed a run uses when none is given (the same input and settings give the same output).
DEFAULT_SEED = 0
#: Networks trained per stage when none is asked (a seed ensemble from the run's random sequence, their
#: outputs averaged; the stage's training time is shared by them, an exact step count is each one's).
#: The axial stage averages 4: at the same 40 s, 4 networks of 10 s beat one of 40 s on the confocal nucleus
#: x4 axial on every seed measured, and the mean of 4 is what the gate's z check at a finer step can confirm
#: (docs/benchmarks.md, "Four axial networks by default"). Volume (lateral) stages keep one: a quarter of
#: the steps made their networks worse. Inference applies every network, so the axial stage costs 4x there.
VOLUME_MEMBERS = 1
AXIAL_MEMBERS = 4

#: Largest upsampling factor per axis the core accepts.
MAX_FACTOR = 16
#: Output voxels of one inference tile (~16 MB of float32; activations stay ~100 MB).
MAX_TILE_OUTPUT = 2**22

#: An in-memory result beyond this many bytes is written block by block instead (CLI, TIFF inputs).
BLOCKWISE_OUTPUT_BYTES = 4 * 2**30
#: The dock switches to a block-wise run when the output would pass this many voxels (2**28 float32 = 1 GiB).
BLOCKWISE_OUTPUT_VOXELS = 2**28
#: Output voxels of one block of a block-wise run (halo overhead ~27% for the x4 model).
BLOCK_OUTPUT_VOXELS = 2**25
#: Output chunk edge along Y and X when none is given (256² x a few planes ≈ 1–8 MB of float32).
OUTPUT_CHUNK_LATERAL = 256
#: Output planes per chunk along Z when none is given (the whole output when it has fewer).
OUTPUT_CHUNK_AXIAL = 64
#: Low-resolution voxels read beyond each block's edge (tests/core/blockwise: the seam test).
BLOCK_HALO = 16
#: Input voxels a block-wise run trains on when the input is larger (a structure-rich region of it).
TRAIN_VOXELS = 8_000_000

# ---------------------------------------------------------------------------------------------- the dock
#: Largest factor per axis the dock proposes when it restores isotropy (a user may still type up to
#: MAX_FACTOR): beyond ~4x the zero-shot pairs come from a copy so coarse that the added detail is rarely
#: verified by the self-check (docs/benchmarks.md).
PROPOSED_FACTOR_CAP = 4

# ---------------------------------------------------------------------------------------------- limits
#: Largest seed (numpy's and torch's generators take 0 .. 2**32 - 1).
MAX_SEED = 2**32 - 1
#: Longest training time budget accepted, in seconds (one week).
MAX_TIME_BUDGET = 7 * 24 * 3600.0
#: Most training steps accepted.
MAX_STEPS = 10_000_000
#: Most data-consistency (back-projection) rounds accepted.
MAX_BACK_PROJECTION = 1000
#: Largest photon count / read-noise sigma of --noise (photons at full scale; sigma in 0-1 units).
MAX_NOISE_PHOTONS = 1e9
MAX_NOISE_SIGMA = 10.0
#: Voxel sizes outside this range (in the file's unit) are refused as implausible.
MAX_VOXEL_SIZE = 1e9
#: What a model file may set (bounds memory: a file cannot make the product build a huge network).
MAX_MODEL_FEATURES = 256
MAX_MODEL_SHRINK = 256
MAX_MODEL_MAPPING = 16
MAX_MODEL_GROUPS = 64
MAX_MODEL_KERNEL = 7
MAX_MODEL_STAGES = 8
#: Networks per stage a run may train or a model file may hold.
MAX_MEMBERS = 16
#: Networks an axial stage must average for a pass of the z check at a finer step to confirm it (below:
#: unconfirmed). One network's true gain varies between seeds more than that check can tell (correlation about
#: 0.2 over 25 seeds); the mean of 4 varied about half as much and lost on none of the 28 confocal runs
#: measured; on the widefield nucleus it loses and the check vetoed it (docs/benchmarks.md, "Several networks").
FINER_CONFIRM_MEMBERS = 4
MAX_DENOISER_FEATURES = 256
MAX_DENOISER_DEPTH = 32
#: Seconds to wait for a dask scheduler to accept the connection and answer (each).
SCHEDULER_TIMEOUT = 10.0
#: A block-wise lock file whose writer cannot be checked (another host) is taken as stale after this long.
LOCK_STALE_SECONDS = 24 * 3600.0
#: Bytes of the input hashed (spread over the file) for a block-wise run's input fingerprint.
FINGERPRINT_SAMPLE_BYTES = 1 << 20

#: How a low-resolution sample was taken along z and along y/x (core.sampling): "point" (a coarser step:
#: each sample is one position of the PSF-blurred object, noise unchanged) or "area" (binning: the mean of
#: the block). z defaults to point (a z-step); y/x to area (camera pixels integrate; docs/method.md).
SAMPLING = "z=point,xy=area"
#: On a step-sampled axis of a volume stage, the optics' blur (Gaussian sigma) in output voxels that the
#: training patches are blurred to (core.enhance.planning.step_target_blur): 1 = the output grid samples the
#: resolution at Nyquist. 0 turns the blur off.
STEP_PSF = 1.0
#: What the gate does with a stage nothing vouches for (an input too small to hold out a slab, or a thin stack's
#: axial stage that only the held-out lateral planes measured and passed): "classical"
#: returns cubic or back-projection, "network" keeps the unverified network.
GATE_UNCHECKED = "classical"
#: The gate keeps a network's result only when the lower end of this two-sided bootstrap interval of its
#: held-out gain over the best classical method (cubic or back-projection) is above zero.
GATE_CONFIDENCE = 0.95
#: Bootstrap resamples of the held-out blocks behind the gate's interval.
GATE_BOOTSTRAP = 1000
