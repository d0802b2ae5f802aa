"""Events, the cancel token and the synchronous driver of the core generators."""

from __future__ import annotations

import threading

import pytest

from self_vision.core.events import CancelToken, StageInfo, run_to_end


def generator(n: int):
    for i in range(n):
        yield StageInfo("test", f"step {i}")
    return "done"


def test_run_to_end_returns_the_value_and_passes_every_event() -> None:
    seen: list[StageInfo] = []
    assert run_to_end(generator(3), seen.append) == "done"
    assert [e.message for e in seen] == ["step 0", "step 1", "step 2"]
    assert run_to_end(generator(2)) == "done"  # no consumer: events are dropped


def test_errors_in_the_generator_reach_the_caller() -> None:
    def broken():
        yield StageInfo("x", "first")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_to_end(broken())


def test_cancel_token_is_seen_across_threads() -> None:
    token = CancelToken()
    assert not token.cancelled
    thread = threading.Thread(target=token.cancel)
    thread.start()
    thread.join()
    assert token.cancelled
