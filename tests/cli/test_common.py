"""The summary's training text (cli/common.py): what a user needs to repeat a run."""

from self_vision.cli.common import steps_text


def test_a_budget_shared_by_networks_says_steps_count_each_network():
    record = {"steps_trained": {"axial": 973, "axial #2": 981, "axial #3": 932}, "train_seconds": 40.0, "seed": 0}
    text = steps_text(record)
    assert "2886 steps in a time budget, 3 axial networks of 932-981" in text
    assert "--steps repeats a run exactly, and counts each network" in text


def test_one_network_per_stage_names_no_networks():
    record = {"steps_trained": {"lateral 1x2x2": 500, "axial": 400}, "train_seconds": 20.0, "seed": 1}
    text = steps_text(record)
    assert "900 steps in a time budget:" in text and "networks" not in text


def test_exact_steps_say_the_run_repeats():
    record = {"steps_trained": {"axial": 10, "axial #2": 10}, "train_seconds": 1.0, "seed": 2, "exact_steps": True}
    assert steps_text(record) == "trained 1.0 s (20 steps, exact steps, seed 2: repeats exactly)"
