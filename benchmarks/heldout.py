"""Held-out volumes for the quality benchmark: real stacks no setting of the product was chosen on.

The development volumes live in ``../shared/data``; these come from NEUBIAS/training-resources (CC-BY-4.0,
© NEUBIAS training-resources authors), pinned by commit and SHA-256, into ``benchmarks/heldout-data/``
(git-ignored)::

    .venv/bin/python benchmarks/heldout.py                 # download (needs the internet)
    .venv/bin/python benchmarks/heldout.py --from CLONE    # or copy from a local clone of the repository

Then ``benchmarks/quality.py --volumes golgi chromosomes`` (or ``spots``, ``mitotic-plate``) reads them from there.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import urllib.request
from pathlib import Path
from typing import NamedTuple

HELDOUT_DIR = Path(__file__).resolve().parent / "heldout-data"
COMMIT = "8bbaa51d4df0edb61b36bf6a437c695bae1fe3ef"
REPOSITORY = "NEUBIAS/training-resources"


class Heldout(NamedTuple):
    file: str  # under image_data/ in the repository
    sha256: str
    voxel: tuple[float, float, float]  # (z, y, x) µm, from the file's ImageJ metadata
    about: str


HELDOUT = {
    "golgi": Heldout(
        "xyz_calibrated_16bit__golgi_bfa.tif",
        "33a0ef2319041c8226043879a38c9ff8b12201be82fda1ae91dac9a6161ec5a2",
        (0.3876, 0.35144, 0.35144),
        "25×137×147 uint16: the Golgi of one cell (brefeldin A series, first time point), sparse, near-isotropic",
    ),
    "chromosomes": Heldout(
        "xyz_8bit__chromosomes.tif",
        "ca27860f921d4908083ce3d8b444647e4507b9922c318e22e88154fda48a508d",
        (0.15, 0.033854, 0.033854),
        "40×152×126, 8-bit values: a ring of chromosomes, very noisy, finely sampled laterally",
    ),
    # added 2026-12-08 for the test pre-registered in docs/benchmarks.md ("A bar for
    # the classical check"); thin stacks, so binned lateral cases mostly
    "spots": Heldout(
        "xyz_16bit__spots.tif",
        "53855e07677e0c9b04ba3f0fae98b08a4502110f8ae895697d18609b8821f3be",
        (0.4, 0.094134, 0.094134),
        "17×88×89 uint16: fluorescent spots in cells",
    ),
    "mitotic-plate": Heldout(
        "xyz_8bit__mitotic_plate_calibrated.tif",
        "9b361da5d56abc8fac7ca62d01918603b5dd1ade806d3bfe2af1a863f7b04a39",
        (3.0, 0.085197, 0.085197),
        "6×263×263, 8-bit values: a metaphase plate, 3 µm z-step",
    ),
}


def heldout_path(name: str) -> Path:
    """The local file of a held-out volume, or exit with what to run when it is missing."""
    path = HELDOUT_DIR / HELDOUT[name].file
    if not path.is_file():
        sys.exit(f"quality: error: {path} is missing: run `.venv/bin/python benchmarks/heldout.py` first")
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch(source: Path | None) -> None:
    """Download (or copy from a clone at ``source``) every held-out file, checking its SHA-256."""
    HELDOUT_DIR.mkdir(exist_ok=True)
    for volume in HELDOUT.values():
        file, digest = volume.file, volume.sha256
        target = HELDOUT_DIR / file
        if target.is_file() and _sha256(target) == digest:
            continue
        partial = target.with_suffix(".part")
        url = f"https://github.com/{REPOSITORY}/raw/{COMMIT}/image_data/{file}"
        try:
            if source is not None:
                shutil.copyfile(source / "image_data" / file, partial)
            else:
                with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
                    shutil.copyfileobj(response, out)
        except OSError as err:  # URLError and missing files are OSErrors
            partial.unlink(missing_ok=True)
            where = source / "image_data" / file if source is not None else url
            sys.exit(f"heldout: error: could not get {where}: {err}; download it by hand into {HELDOUT_DIR}")
        if _sha256(partial) != digest:
            partial.unlink()
            sys.exit(f"heldout: error: {file} does not match its SHA-256: not the pinned file")
        partial.replace(target)
        print(f"{target}: ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=None, help="a local clone to copy from")
    fetch(parser.parse_args().source)


if __name__ == "__main__":
    main()
