"""Estimate, from the low-res input alone, the axial blur (Gaussian sigma, in output-z voxels) that makes
degraded lateral planes look like the real z axis: match the normalised adjacent-difference energy
E[(x[i+1]-x[i])^2] / E[(x - mean)^2] along z (input) and along the resampled lateral axis (after blur + area)."""

import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from harness import *  # noqa


def stat_axis(a: np.ndarray, axis: int) -> float:
    d = np.diff(a, axis=axis)
    m = a - a.mean(axis=axis, keepdims=True)
    return float((d**2).mean() / (m**2).mean())


def estimate(x: np.ndarray, fz: int, lateral: float, z_out: float, sigmas=np.arange(0, 3.01, 0.25)):
    target = stat_axis(x, 0)
    srcs = axial_sources(x, fz, z_out, lateral, True)
    out = []
    for s in sigmas:
        vals = []
        for src in srcs:
            t = torch.from_numpy(src)[:, None]  # (Z, 1, A, B): axis A is the fake z
            if s > 0:
                t = gaussian_blur(t, [s, 0.0])
            low = degrade(t, (fz, 1), "area")[:, 0].numpy()
            # match the number of samples along the axis: windows of x.shape[0]
            n = x.shape[0]
            w = low[:, : (low.shape[1] // n) * n].reshape(low.shape[0], -1, n, low.shape[2])
            vals.append(stat_axis(w, 2))
        out.append((float(s), float(np.mean(vals))))
    return target, out


if __name__ == "__main__":
    ref, low = load_case((4, 1, 1))
    x = Normalizer.fit(low).forward(low)
    target, out = estimate(x, 4, VOXEL[1], VOXEL[0])
    print("z statistic of input:", round(target, 4))
    for s, v in out:
        print(f"sigma {s:.2f}: lateral statistic {v:.4f}")
    # oracle: same statistic along z of the reference vs along y of the reference resampled to 5 µm
    r = Normalizer.fit(ref).forward(ref)
    print(
        "oracle reference z stat",
        round(stat_axis(r, 0), 4),
        "vs lateral-resampled",
        round(stat_axis(resample_axis(r, 1, round(r.shape[1] * 2 / 5)), 1), 4),
    )
