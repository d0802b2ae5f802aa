"""The CARE isotropic peer (csbdeep 0.8.2, Weigert et al. 2018), run from its own environment (``make care-env``).

Not part of the product and never imported by it or by the tests: ``benchmarks/peer.py`` calls this script with
``.venv-care/bin/python`` and reads its output back. It follows the authors' isotropic example
(``examples/isotropic``: ``anisotropic_distortions`` on lateral planes of the same stack, a 2D CARE network,
``IsotropicCARE.predict``), zero-shot like the product: the only data is the low-resolution stack.

One departure, so that it is scored on the product's grid: csbdeep zooms z with corner alignment, the product
and the reference use pixel-area alignment, so the caller upsamples z on the pixel-area grid (linear, csbdeep's
own interpolation order) and this script predicts with factor 1. As in the example, the training planes keep
their lateral pixel and are decimated by the factor along X; resampling them to the output's axial spacing first
(the product's choice) was tried and lost far more (nucleus x2 axial, point: -9.15 dB against -3.51 dB vs cubic).

    .venv-care/bin/python benchmarks/care_peer.py case.npz out.npz
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def main(case_path: str, out_path: str) -> None:
    """Train on ``case['low']``'s lateral planes, predict ``case['upsampled']``, write ``prediction``."""
    import tensorflow as tf
    from csbdeep.data import RawData, create_patches
    from csbdeep.data.transform import anisotropic_distortions
    from csbdeep.models import Config, IsotropicCARE

    case = np.load(case_path)
    low = case["low"].astype(np.float32)
    factor = int(case["factor"])
    psf = case["psf"].astype(np.float32)  # (Y, X) kernel: the extra axial blur, elongated along X
    steps, epochs, patch, seed = (int(case[k]) for k in ("steps_per_epoch", "epochs", "patch", "seed"))
    threads = int(case["threads"])
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    tf.keras.utils.set_random_seed(seed)  # also numpy's global generator, which create_patches draws from

    source = low
    patch_x = min(patch, source.shape[2] // (4 * factor) * 4 * factor)
    patch_y = min(patch, source.shape[1] // 4 * 4)
    raw = RawData.from_arrays(source[None], source[None], axes="ZYX")
    distortion = anisotropic_distortions(subsample=factor, psf=psf, psf_axes="YX", subsample_axis="X")
    per_plane = max(8, 2048 // source.shape[0])
    x, y, axes = create_patches(
        raw,
        patch_size=(1, patch_y, patch_x),
        n_patches_per_image=per_plane * source.shape[0],
        transforms=[distortion],
        verbose=False,
    )
    z = axes.index("Z")
    x, y = np.take(x, 0, axis=z), np.take(y, 0, axis=z)
    axes = axes.replace("Z", "")
    channel = axes.index("C")  # csbdeep's tensorflow backend wants channels last
    x, y = np.moveaxis(x, channel, -1), np.moveaxis(y, channel, -1)
    axes = axes.replace("C", "") + "C"
    n_val = max(1, len(x) // 10)
    config = Config(
        axes, 1, 1, train_steps_per_epoch=steps, train_epochs=epochs, train_batch_size=16, train_tensorboard=False
    )
    model = IsotropicCARE(config, "care_peer", basedir=None)
    t = time.perf_counter()
    model.train(x[n_val:], y[n_val:], validation_data=(x[:n_val], y[:n_val]))
    seconds = time.perf_counter() - t
    prediction = model.predict(case["upsampled"].astype(np.float32), "ZYX", 1)
    np.savez(out_path, prediction=prediction.astype(np.float32), seconds=seconds, patches=len(x))


if __name__ == "__main__":
    main(*sys.argv[1:3])
