import numpy as np
import pytest
import torch

from self_vision.core.degrade import degrade
from self_vision.core.enhance.enhancer import load_model, save_model
from self_vision.core.enhance.options import EnhanceOptions
from self_vision.core.enhance.planning import plan_path
from self_vision.core.enhance.run import apply_model_steps, enhance_steps
from self_vision.core.errors import DataError, UsageError
from self_vision.core.events import StageInfo, TrainProgress, run_to_end
from self_vision.core.model import members_of
from self_vision.core.sample import synthetic_neurons
from self_vision.defaults import AXIAL_MEMBERS, ENHANCE_TIME_BUDGET, VOLUME_MEMBERS


@pytest.fixture(scope="module")
def volume():
    return synthetic_neurons((12, 48, 48), seed=2) * 1000 + 100  # camera-like units


def run(volume, factor, **kwargs):
    options = EnhanceOptions(steps=kwargs.pop("steps", 6), seed=0, **kwargs)
    return run_to_end(enhance_steps(volume, factor, voxel_size=(2.0, 0.5, 0.5), options=options, device="cpu"))


@pytest.mark.parametrize(
    ("factor", "path"),
    [
        ((1, 4, 4), "auto"),
        ((1, 2, 3), "auto"),
        ((2, 1, 1), "auto"),
        ((4, 4, 4), "auto"),
        ((2, 2, 2), "3d"),
        ((3, 1, 1), "3d"),
        ((2, 4, 4), "lateral-axial"),
    ],
)
def test_shapes_and_voxel_sizes(volume, factor, path):
    result = run(volume, factor, path=path)
    assert result.data.shape == tuple(s * f for s, f in zip(volume.shape, factor, strict=True))
    assert result.voxel_size == pytest.approx(tuple(v / f for v, f in zip((2.0, 0.5, 0.5), factor, strict=True)))
    assert result.data.dtype == np.float32
    assert np.isfinite(result.data).all()


def test_two_dimensional_input(volume):
    options = EnhanceOptions(steps=5, seed=0, gate_unchecked="network")  # 48 px: too narrow to hold out a slab
    result = run_to_end(enhance_steps(volume[5], (4, 4), voxel_size=(0.5, 0.5), options=options, device="cpu"))
    assert result.data.shape == (192, 192)
    assert result.path.startswith("volume 2x2 + volume 2x2")  # gradual: 4 = 2 x 2


@pytest.mark.parametrize("back_projection", [0, 10])
def test_output_is_aligned_with_the_input(volume, back_projection):
    result = run(volume, (1, 4, 4), back_projection=back_projection, steps=30)
    low = degrade(torch.from_numpy(result.data)[None, None], (1, 4, 4))[0, 0].numpy()
    error = np.abs(low - volume)[:, 2:-2, 2:-2].mean() / np.ptp(volume)
    assert error < (0.002 if back_projection else 0.03)


def test_result_is_in_input_intensity_units(volume):
    result = run(volume, (1, 2, 2))
    assert abs(result.data.mean() - volume.mean()) < 0.02 * np.ptp(volume)


def test_which_path_ran():
    assert plan_path((30, 64, 64), (1, 4, 4), "auto") == "3d"
    assert plan_path((8, 64, 64), (4, 1, 1), "auto") == "lateral-axial"
    with pytest.raises(DataError, match="too few"):
        plan_path((8, 64, 64), (4, 1, 1), "3d")
    with pytest.raises(UsageError, match="unknown path"):
        plan_path((8, 64, 64), (4, 1, 1), "magic")


def test_save_load_round_trip(volume, tmp_path):
    result = run(volume, (2, 2, 2), steps=10)
    path = save_model(result.model, tmp_path / "model.pt")
    loaded = load_model(path)
    again = run_to_end(apply_model_steps(loaded, volume, voxel_size=(2.0, 0.5, 0.5), device="cpu"))
    np.testing.assert_allclose(again.data, result.data, rtol=1e-5, atol=1e-3)
    assert again.voxel_size == result.voxel_size
    assert loaded.path == result.model.path


def test_load_rejects_other_files(tmp_path):
    bogus = tmp_path / "model.pt"
    bogus.write_text("hello")
    with pytest.raises(DataError, match="not a napari-self-vision model"):
        load_model(bogus)
    torch.save({"format": "something else"}, bogus)
    with pytest.raises(DataError, match="not a napari-self-vision model"):
        load_model(bogus)
    with pytest.raises(DataError, match="no such model"):
        load_model(tmp_path / "missing.pt")


def test_model_for_other_rank_is_refused(volume):
    result = run(volume, (1, 2, 2))
    with pytest.raises(DataError, match="3D"):
        run_to_end(apply_model_steps(result.model, volume[0], device="cpu"))


def test_paper_configuration(volume):
    from self_vision.core.enhance.options import paper_options

    options = paper_options(steps=5, seed=0, gate_unchecked="network")  # no slab: keep the network to see it
    result = run_to_end(enhance_steps(volume, (2, 2, 2), voxel_size=(2.0, 0.5, 0.5), options=options, device="cpu"))
    assert result.path == "volume 2x2x2 + back-projection x10"  # one 3D network, full factor
    assert result.model.stages[0].model.config.residual == "linear"
    assert result.data.shape == (24, 96, 96)
    with pytest.raises(DataError, match="too few"):  # the paper's recipe cannot learn 4x axial from 12 slices
        run_to_end(enhance_steps(volume, (4, 1, 1), options=options, device="cpu"))


def test_mixed_loss_trains_lateral_stages_with_l1_and_the_axial_stage_with_l2():
    options = EnhanceOptions(loss="mixed")
    assert options.settings(1.0, "volume").loss == "l1"
    assert options.settings(1.0, "axial").loss == "l2"
    assert EnhanceOptions(loss="l2").settings(1.0, "volume").loss == "l2"
    with pytest.raises(UsageError, match="loss"):
        EnhanceOptions(loss="huber").settings(1.0)


def test_several_networks_per_stage_are_trained_and_averaged(volume, tmp_path):
    one = run(volume, (2, 1, 1), steps=8, self_check=False, members=1)
    two = run(volume, (2, 1, 1), steps=8, self_check=False, members=2)
    stage = two.model.stages[0]
    assert stage.members == 2 and one.model.stages[0].members == 1
    first, second = members_of(stage.model)
    # the first network is the one-network run's (same random sequence); the second starts elsewhere
    for a, b in zip(first.parameters(), members_of(one.model.stages[0].model)[0].parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters(), strict=True))
    assert set(two.logs) == {"axial", "axial #2"} and two.logs["axial #2"].steps == 8
    assert not np.allclose(two.data, one.data)
    again = run(volume, (2, 1, 1), steps=8, self_check=False, members=2)
    np.testing.assert_array_equal(again.data, two.data)  # the same seed and settings: the same output
    loaded = load_model(save_model(two.model, tmp_path / "two.pt"))
    assert loaded.stages[0].members == 2
    applied = run_to_end(apply_model_steps(loaded, volume, voxel_size=(2.0, 0.5, 0.5), device="cpu"))
    np.testing.assert_allclose(applied.data, two.data, rtol=1e-5, atol=1e-3)


def test_member_training_events_say_which_network(volume):
    options = EnhanceOptions(steps=4, seed=0, members=3, self_check=False)
    events = list(enhance_steps(volume, (1, 2, 2), voxel_size=(2.0, 0.5, 0.5), options=options, device="cpu"))
    stages = {e.stage for e in events if isinstance(e, TrainProgress)}
    assert stages == {"lateral", "lateral #2", "lateral #3"}
    notes = [e.message for e in events if isinstance(e, StageInfo) and e.message.startswith("learning")]
    assert [n.rsplit("(", 1)[1] for n in notes] == ["network 1 of 3)", "network 2 of 3)", "network 3 of 3)"]


def test_by_default_the_axial_stage_averages_four_networks_and_volume_stages_train_one(volume):
    axial = run(volume, (2, 1, 1), steps=4, self_check=False)
    lateral = run(volume, (1, 2, 2), steps=4, self_check=False)
    assert axial.model.stages[0].members == AXIAL_MEMBERS == 4
    assert [s.members for s in lateral.model.stages] == [VOLUME_MEMBERS] == [1]
    assert all(log.steps == 4 for log in axial.logs.values())  # an exact step count is each network's


def test_a_stage_s_networks_share_its_time_budget_but_not_its_step_count():
    timed = EnhanceOptions(time_budget=40.0)
    assert timed.settings(0.5, "axial", networks=4).time_budget == pytest.approx(5.0)
    assert timed.settings(0.5, "volume").time_budget == pytest.approx(20.0)
    assert EnhanceOptions().settings(1.0, "axial", networks=4).time_budget == pytest.approx(ENHANCE_TIME_BUDGET / 4)
    counted = EnhanceOptions(steps=100)
    assert counted.settings(0.5, "axial", networks=4).steps == 50 and counted.settings(0.5, "axial").steps == 50
    assert (EnhanceOptions(members=2).members_for("axial"), EnhanceOptions(members=2).members_for("volume")) == (2, 2)


@pytest.mark.parametrize("members", [0, 17, 1.5, True])
def test_a_bad_number_of_networks_is_a_usage_error(volume, members):
    with pytest.raises(UsageError, match="members"):
        run(volume, (1, 2, 2), members=members)
