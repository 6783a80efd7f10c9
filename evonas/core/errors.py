"""What a user can get wrong. Every such error derives from :class:`UserError`: the command
line answers it with one line naming the file, key or value and what is valid (exit 2), and
a traceback only with ``--debug`` or ``EVONAS_DEBUG=1``."""

from __future__ import annotations


class UserError(Exception):
    """Bad input: a scenario, a command-line value, a plug-in, a dataset, a run directory."""

    def __str__(self) -> str:  # KeyError-based subclasses would quote the message
        return str(self.args[0]) if self.args else ""
