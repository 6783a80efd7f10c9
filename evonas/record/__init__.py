"""Run record: the files a run writes under ``results/<run-name>/``."""

from evonas.record.run_record import RecordError, RunRecord, atomic_write_text, environment

__all__ = ["RecordError", "RunRecord", "atomic_write_text", "environment"]
