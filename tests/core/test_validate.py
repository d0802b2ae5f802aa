"""core.validate: factor parsing, volume checks and size checks give one-line, actionable errors."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision.core.errors import DataError, SelfVisionError, UsageError
from self_vision.core.validate import MAX_FACTOR, check_size, check_volume, parse_factor


def _one_line(err: pytest.ExceptionInfo[SelfVisionError]) -> str:
    message = str(err.value)
    assert message
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------------------------- parse_factor


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("4,4,4", (4, 4, 4)),
        ("1,4,4", (1, 4, 4)),
        (" 1, 4 ,4 ", (1, 4, 4)),
        ("1x4x4", (1, 4, 4)),
        ("2,3", (2, 3)),
        ("4", (4,)),
        (4, (4,)),
        (np.int64(3), (3,)),
        (2.0, (2,)),
        ([2, 2], (2, 2)),
        ((1, 2, 2), (1, 2, 2)),
        (["1", "2", "2"], (1, 2, 2)),
        (str(MAX_FACTOR), (MAX_FACTOR,)),
    ],
)
def test_parse_factor_without_rank(given, expected):
    result = parse_factor(given)
    assert result == expected
    assert all(type(v) is int for v in result)


@pytest.mark.parametrize(
    ("given", "ndim", "expected"),
    [
        ("4", 3, (1, 4, 4)),  # one number on a volume: the lateral factor, z untouched
        (4, 3, (1, 4, 4)),
        ("4", 2, (4, 4)),
        (4, 2, (4, 4)),
        ("4,4,4", 3, (4, 4, 4)),
        ("2,4,4", 3, (2, 4, 4)),
        ("1,4,4", 3, (1, 4, 4)),
        ("1,4,4", 2, (4, 4)),  # a leading z factor of 1 is dropped for a 2D image
        ([2, 2], 2, (2, 2)),
        ([1, 3], 2, (1, 3)),
    ],
)
def test_parse_factor_fits_the_rank(given, ndim, expected):
    assert parse_factor(given, ndim) == expected


@pytest.mark.parametrize(
    ("given", "ndim", "fragment"),
    [
        ("0", None, "below 1"),
        ("-2", None, "below 1"),
        ("1,0,4", None, "below 1"),
        (0, None, "below 1"),
        ("1.5", None, "whole number"),
        (2.5, None, "whole number"),
        ("nan", None, "whole number"),
        ("99", None, "too large"),
        (str(MAX_FACTOR + 1), None, "too large"),
        ("a,b", None, "not a number"),
        ("4,four", None, "not a number"),
        ([None, 2], None, "not a number"),
        ("", None, "one number or one per axis"),
        (",", None, "one number or one per axis"),
        ([], None, "one number or one per axis"),
        ("1,2,2,2", None, "one number or one per axis"),
        ("1", None, "nothing to enhance"),
        ("1,1,1", None, "nothing to enhance"),
        (1, 3, "nothing to enhance"),
        ("1,1", 2, "nothing to enhance"),
        ([2, 2], 3, "2 entries but the image has 3 axes"),
        ("2,4,4", 2, "3 entries but the image has 2 axes"),
    ],
)
def test_parse_factor_rejects(given, ndim, fragment):
    with pytest.raises(UsageError) as err:
        parse_factor(given, ndim)
    assert err.value.exit_code == 2
    message = _one_line(err)
    assert fragment in message
    assert message.startswith("factor ")


def test_parse_factor_error_quotes_what_was_given():
    with pytest.raises(UsageError, match=r"^factor '1,4,99': 99 is too large; the most per axis is 16$"):
        parse_factor("1,4,99")


def test_parse_factor_message_names_the_bad_part():
    with pytest.raises(UsageError) as err:
        parse_factor("1,b,4")
    assert "'b'" in _one_line(err)


# --------------------------------------------------------------------------------------------- check_volume


@pytest.mark.parametrize(
    "volume",
    [
        np.arange(48, dtype=np.float32).reshape(3, 4, 4),
        np.arange(16, dtype=np.uint16).reshape(4, 4),
        np.arange(16, dtype=np.int8).reshape(4, 4),
        np.arange(16, dtype=np.float64).reshape(1, 4, 4),
    ],
)
def test_check_volume_accepts_real_2d_and_3d_data(volume):
    assert check_volume(volume) is None


def _with(value: float) -> np.ndarray:
    volume = np.arange(64, dtype=np.float32).reshape(4, 4, 4)
    volume[1, 2, 3] = value
    return volume


@pytest.mark.parametrize(
    ("volume", "fragment"),
    [
        (_with(np.nan), "1 NaN/Inf voxels"),
        (_with(np.inf), "1 NaN/Inf voxels"),
        (_with(-np.inf), "1 NaN/Inf voxels"),
        (np.full((4, 4, 4), np.nan, np.float32), "64 NaN/Inf voxels"),
        (np.full((4, 8, 8), 3.0, np.float32), "constant"),
        (np.zeros((8, 8), np.uint16), "constant"),
        (np.arange(256, dtype=np.float32).reshape(2, 2, 8, 8), "4 axes"),
        (np.arange(8, dtype=np.float32), "1 axes"),
        (np.zeros((0, 8, 8), np.float32), "empty"),
        (np.zeros((8, 0), np.uint8), "empty"),
        (np.arange(64).reshape(4, 4, 4) * (1 + 1j), "data type complex"),
        (np.arange(16).reshape(4, 4) % 2 == 0, "data type bool"),
    ],
)
def test_check_volume_rejects(volume, fragment):
    with pytest.raises(DataError) as err:
        check_volume(volume, "cells.tif")
    assert err.value.exit_code == 1
    message = _one_line(err)
    assert message.startswith("cells.tif: ")
    assert fragment in message


def test_check_volume_default_name():
    with pytest.raises(DataError, match=r"^input: is constant"):
        check_volume(np.ones((4, 4), np.float32))


# --------------------------------------------------------------------------------------------- check_size


@pytest.mark.parametrize(
    ("shape", "factor"),
    [
        ((8, 16, 16), (1, 4, 4)),  # exactly factor * MIN_LOW_RES
        ((2, 48, 48), (4, 2, 2)),  # z is not checked here (the axial path learns from lateral planes)
        ((8, 3, 64), (1, 1, 4)),  # an axis that is not upsampled may be tiny
        ((32, 32), (8, 8)),
    ],
)
def test_check_size_accepts(shape, factor):
    assert check_size(shape, factor) is None


@pytest.mark.parametrize(
    ("shape", "factor", "fragment"),
    [
        ((8, 15, 48), (1, 4, 4), "axis Y has 15 voxels, too few to learn a 4x factor (needs at least 16)"),
        ((8, 48, 15), (1, 4, 4), "axis X has 15 voxels, too few to learn a 4x factor (needs at least 16)"),
        ((4, 8, 8), (1, 4, 4), "axis Y has 8 voxels"),
        ((31, 64), (8, 2), "axis Y has 31 voxels, too few to learn a 8x factor (needs at least 32)"),
    ],
)
def test_check_size_rejects(shape, factor, fragment):
    with pytest.raises(DataError) as err:
        check_size(shape, factor, "small.tif")
    message = _one_line(err)
    assert message.startswith("small.tif: ")
    assert fragment in message


def test_check_size_min_low_res_is_a_parameter():
    check_size((8, 16, 16), (1, 4, 4), min_low_res=4)
    with pytest.raises(DataError, match="needs at least 20"):
        check_size((8, 16, 16), (1, 4, 4), min_low_res=5)


def test_check_size_needs_one_factor_per_axis():
    with pytest.raises(ValueError):
        check_size((8, 48, 48), (4, 4))
