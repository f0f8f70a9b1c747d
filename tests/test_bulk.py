"""runlab.bulk.paused_gc: the collector is paused inside, nests, and is restored."""

from __future__ import annotations

import gc

import pytest

from runlab.bulk import paused_gc


def test_paused_gc_pauses_nests_and_restores() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_paused_gc_restores_after_an_exception() -> None:
    with pytest.raises(KeyError), paused_gc():
        raise KeyError("x")
    assert gc.isenabled()


def test_paused_gc_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_paused_gc_is_a_decorator() -> None:
    @paused_gc()
    def inside() -> bool:
        return gc.isenabled()

    assert inside() is False
    assert gc.isenabled()
