"""Run record: the files a run writes under ``results/<run-name>/``, read back as a
:class:`Run`, and its plots (:mod:`evonas.record.plots`, loaded when used)."""

from evonas.record.run import CONFIG_FORMAT, Run, RunConfig, TaskInfo, load_run
from evonas.record.run_record import RecordError, RunRecord, atomic_write_text, environment

__all__ = [
    "CONFIG_FORMAT",
    "RecordError",
    "Run",
    "RunConfig",
    "RunRecord",
    "TaskInfo",
    "atomic_write_text",
    "environment",
    "load_run",
]
