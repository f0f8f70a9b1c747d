"""Slots: the units of a machine that one task at a time may use.

A slot is one or several device ids (``--resources 0,1 2,3`` is two slots of two GPUs
each) or a plain CPU slot (``--workers 4``). Two running tasks never share a slot, and
a task's processes see only their slot's devices through ``CUDA_VISIBLE_DEVICES`` —
unlike a launcher that gives every job every GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runlab.errors import UsageError


@dataclass(frozen=True)
class Slot:
    """One place a task can run. ``devices`` is empty for a CPU slot."""

    index: int
    devices: tuple[str, ...] = ()

    def env(self) -> dict[str, str]:
        """The environment a task on this slot gets (CPU slots leave CUDA alone)."""
        env = {"RUNLAB_SLOT": str(self.index)}
        if self.devices:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(self.devices)
        return env

    def __str__(self) -> str:
        return ",".join(self.devices) if self.devices else f"cpu{self.index}"


def parse_slot(value: str | int | Sequence[str | int]) -> tuple[str, ...]:
    """``"0,1"``, ``0`` or ``[0, 1]`` → ``("0", "1")``; an empty slot is an error."""
    if isinstance(value, (str, int)):
        parts = [p.strip() for p in str(value).split(",")]
    else:
        parts = [str(p).strip() for p in value]
    if not parts or any(not p for p in parts):
        raise UsageError(f"resource {value!r}: write device ids like 0 or 0,1")
    return tuple(parts)


def make_slots(
    resources: Sequence[str | int | Sequence[str | int]] | None = None, workers: int | None = None
) -> list[Slot]:
    """The slots for ``--resources`` and ``--workers``: resources win; else N CPU slots.

    With both, ``workers`` must equal the number of resource slots (write a device twice,
    ``--resources 0 0 1 1``, to run two tasks per GPU).
    """
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: need at least 1")
    if resources:
        slots = [Slot(i, parse_slot(r)) for i, r in enumerate(resources)]
        if workers is not None and workers != len(slots):
            raise UsageError(
                f"--workers {workers} but {len(slots)} resource slots: give one or make them agree"
            )
        return slots
    return [Slot(i) for i in range(workers or 1)]
