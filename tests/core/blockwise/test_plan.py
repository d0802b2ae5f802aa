"""Block plans: every output voxel written by exactly one block, chunk-aligned, inputs read with a clipped halo."""

from __future__ import annotations

import numpy as np
import pytest

from self_vision.core.blockwise.plan import BlockPlan, plan_blocks
from self_vision.core.errors import UsageError


@pytest.mark.parametrize(
    ("shape", "factor", "chunks"),
    [((10, 50, 70), (1, 4, 4), (10, 64, 64)), ((9, 33, 20), (2, 2, 2), (6, 16, 16)), ((40, 30), (3, 3), None)],
)
def test_blocks_tile_the_output_exactly_once(shape, factor, chunks):
    plan = plan_blocks(shape, factor, chunks=chunks, block_output=4096, halo=3)
    count = np.zeros(plan.output_shape, np.int32)
    for block in plan:
        count[block.output] += 1
        for out, c in zip(block.output, plan.chunks, strict=True):
            assert out.start % c == 0  # starts on a chunk boundary: no chunk is shared by two blocks
        kept = [k.stop - k.start for k in block.keep]
        assert kept == [o.stop - o.start for o in block.output]
        for read, out, f, size in zip(block.read, block.output, factor, shape, strict=True):
            core = slice(out.start // f, out.stop // f)
            assert read.start <= core.start and read.stop >= core.stop  # the halo surrounds the core...
            assert read.start >= 0 and read.stop <= size  # ...clipped at the volume's edge
    assert (count == 1).all()


def test_chunks_are_whole_input_voxels_and_the_plan_round_trips():
    plan = plan_blocks((8, 100, 100), (1, 3, 3), chunks=(8, 100, 100))
    assert all(c % f == 0 for c, f in zip(plan.chunks, plan.factor, strict=True))
    assert BlockPlan.from_dict(plan.to_dict()) == plan


def test_blocks_stay_under_the_output_budget():
    plan = plan_blocks((16, 512, 512), (1, 4, 4), block_output=2**22)
    assert len(plan) > 1
    block = plan.block(0)
    assert np.prod([o.stop - o.start for o in block.output]) <= 2**22


def test_halo_is_added_only_where_the_volume_is_cut():
    plan = plan_blocks((6, 64, 64), (1, 2, 2), chunks=(6, 32, 32), block_output=6 * 32 * 32, halo=5)
    block = plan.block(0)
    assert block.read[0] == slice(0, 6)  # z is not cut: no halo
    assert block.read[1] == slice(0, 16 + 5)


def test_bad_chunks_are_a_usage_error():
    with pytest.raises(UsageError, match="one size per axis"):
        plan_blocks((8, 32, 32), (1, 2, 2), chunks=(32, 32))
    with pytest.raises(UsageError, match="positive"):
        plan_blocks((8, 32, 32), (1, 2, 2), chunks=(8, 0, 32))
