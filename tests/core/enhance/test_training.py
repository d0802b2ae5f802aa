import numpy as np
import pytest
import torch

from helpers import drain
from self_vision.core.enhance.training import train_model
from self_vision.core.errors import CancelledError
from self_vision.core.events import CancelToken, TrainProgress
from self_vision.core.fit import TrainSettings
from self_vision.core.model import ModelConfig, SelfVisionNet
from self_vision.core.patches import PatchSampler
from self_vision.core.sample import synthetic_neurons

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def volume():
    return synthetic_neurons((8, 64, 64), seed=3)


def make_run(volume, steps=30, seed=0, cancel=None):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SelfVisionNet(ModelConfig((1, 2, 2)))
    sampler = PatchSampler([volume], (4, 24, 24), rng)
    settings = TrainSettings(steps=steps, time_budget=None, batch_size=4)
    gen = train_model(model, sampler, settings, device=CPU, rng=rng, rotate_lateral=True, cancel=cancel)
    return model, gen


def test_events_and_loss_goes_down(volume):
    _, gen = make_run(volume, steps=120)
    events, log = drain(gen)
    assert len(events) == 120 and log.steps == 120
    assert all(isinstance(e, TrainProgress) for e in events)
    assert [e.step for e in events] == list(range(1, 121))
    assert events[-1].total == 120 and events[-1].eta == 0
    assert events[0].learning_rate > events[-1].learning_rate  # cosine decay
    assert log.last_loss < 0.8 * log.first_loss


def test_cancel_stops_within_one_step(volume):
    token = CancelToken()
    _, gen = make_run(volume, steps=1000, cancel=token)
    seen = []
    with pytest.raises(CancelledError):
        for event in gen:
            seen.append(event)
            if event.step == 3:
                token.cancel()
    assert len(seen) == 3


def test_consumer_can_stop_iterating(volume):
    _model, gen = make_run(volume, steps=1000)
    for event in gen:
        if event.step == 2:
            break
    gen.close()  # no exception, no further steps
    assert event.step == 2


def test_time_budget_stops_the_run(volume):
    rng = np.random.default_rng(0)
    model = SelfVisionNet(ModelConfig((1, 2, 2)))
    sampler = PatchSampler([volume], (4, 24, 24), rng)
    settings = TrainSettings(steps=None, time_budget=0.5)
    events, log = drain(train_model(model, sampler, settings, device=CPU, rng=rng, rotate_lateral=True))
    assert 0.5 <= log.seconds < 5
    assert events[-1].step == log.steps


def test_seeded_runs_are_reproducible(volume):
    a, gen_a = make_run(volume, steps=15, seed=7)
    drain(gen_a)
    b, gen_b = make_run(volume, steps=15, seed=7)
    drain(gen_b)
    c, gen_c = make_run(volume, steps=15, seed=8)
    drain(gen_c)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True))


def test_poisson_gaussian_noise_reaches_the_training_inputs(volume, monkeypatch):
    import self_vision.core.enhance.training as train_module

    seen = []
    original = train_module.add_poisson_gaussian

    def spy(x, photons, sigma, rng):
        out = original(x, photons, sigma, rng)
        seen.append((photons, sigma, float(np.abs(out - x).mean())))
        return out

    monkeypatch.setattr(train_module, "add_poisson_gaussian", spy)
    rng = np.random.default_rng(0)
    model = SelfVisionNet(ModelConfig((1, 2, 2)))
    sampler = PatchSampler([volume], (4, 24, 24), rng)
    settings = TrainSettings(steps=3, time_budget=None, noise_photons=50.0, noise_sigma=0.01)
    drain(train_model(model, sampler, settings, device=CPU, rng=rng, rotate_lateral=True))
    assert len(seen) == 3
    assert all(p == 50.0 and s == 0.01 and change > 0.005 for p, s, change in seen)
