"""The files meticulous keeps in an experiment folder, and the exact ``STATUS`` format.

An experiment folder written through :class:`~runlab.compat.meticulous.Experiment` is a
runlab run folder (``run.json``, ``params.json``, ``stdout.log``, ...) that also holds
meticulous's files, so both tools read it::

    experiments/3/
      STATUS             RUNNING | SUCCESS | ERROR + traceback (format below)
      args.json          the arguments (the same content as runlab's params.json)
      default_args.json  the argparse defaults ({} when there is no parser)
      metadata.json      githead-sha, githead-message, description, timestamp, command
      summary.json       shared with runlab: Experiment.summary writes runlab's summary
      stdout, stderr     symbolic links to stdout.log and stderr.log

``STATUS`` is one word with no newline after it -- ``RUNNING``, ``SUCCESS`` -- or, for
a failure, ``ERROR``, one newline, and the traceback as Python prints it without its
final newline. The first line is therefore always exactly the status word (meticulous
left a newline after it for readers to trip on), and the last line of an ``ERROR`` file
is the exception (``ValueError: bad k``).
"""

from __future__ import annotations

import enum

from runlab.importers.meticulous import last_line, parse_status
from runlab.record.status import RunStatus

STATUS = "STATUS"
ARGS = "args.json"
DEFAULT_ARGS = "default_args.json"
METADATA = "metadata.json"
SUMMARY = "summary.json"
STDOUT = "stdout"
STDERR = "stderr"
__all__ = [
    "ARGS",
    "DEFAULT_ARGS",
    "MARKERS",
    "METADATA",
    "STATUS",
    "STDERR",
    "STDOUT",
    "SUMMARY",
    "Status",
    "format_status",
    "last_line",
    "parse_status",
]

MARKERS = (STATUS, ARGS, METADATA, "run.json")
"""A folder holding any of these is an experiment (others, like ``plots/``, are not)."""


class Status(str, enum.Enum):
    """The three statuses meticulous knows; ``UNKNOWN`` is what a reader says without any."""

    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, status: RunStatus) -> Status:
        """The meticulous status of a runlab status: only ``completed`` is a success."""
        if status is RunStatus.COMPLETED:
            return cls.SUCCESS
        if status in (RunStatus.RUNNING, RunStatus.QUEUED):
            return cls.RUNNING
        return cls.ERROR


def format_status(status: Status, message: str = "") -> str:
    """The text of a ``STATUS`` file: the word, then the traceback only for ``ERROR``."""
    text = message.strip("\n")
    if status is Status.ERROR and text:
        return f"{status.value}\n{text}"
    return status.value
