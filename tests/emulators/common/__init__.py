"""The scaffolding every loopback emulator shares, so that each provider package holds only its API.

An emulator subclasses ``LoopbackEmulator`` and implements ``handle_http`` (and ``_fault_error``);
it then has ``start``/``stop``/``with``, ``stats``/``reset_stats``/``calls``/``call_log``,
``fail_next``, the ``/_emulator/stats`` and ``/_emulator/reset`` endpoints, and with
``cli.parser`` and ``cli.serve`` a ``python -m`` entry point of a few lines.
"""

from .emulator import CONTROL_PREFIX, LoopbackEmulator
from .faults import Fault, Faults
from .httpd import Answer, DropConnection, LoopbackHTTPServer, RequestHandler
from .lost import LostAnswer, LostAnswers
from .stats import Stats

__all__ = ["CONTROL_PREFIX", "Answer", "DropConnection", "Fault", "Faults", "LoopbackEmulator", "LoopbackHTTPServer",
           "LostAnswer", "LostAnswers", "RequestHandler", "Stats"]
