"""The scaffolding every loopback emulator shares, so that each provider package holds only its API.

An emulator subclasses ``LoopbackEmulator`` and implements ``handle_http`` (and ``_fault_error``,
``_error_answer``, and for eventual-consistency faults ``_reads_one``/``_not_found_answer``);
it then has ``start``/``stop``/``with``, ``stats``/``reset_stats``/``calls``/``call_log``,
``fail_next``, one fault injector (``inject``, ``inject_at_rate``, ``faults_served``: inject.py),
the ``/_emulator/stats`` and ``/_emulator/reset`` endpoints, and with
``cli.parser`` and ``cli.serve`` a ``python -m`` entry point of a few lines.
"""

from .emulator import CONTROL_PREFIX, LoopbackEmulator
from .faults import Faults
from .httpd import Answer, DropConnection, LoopbackHTTPServer, RequestHandler
from .inject import MATRIX, Fault, FaultInjector
from .stats import Stats

__all__ = ["CONTROL_PREFIX", "MATRIX", "Answer", "DropConnection", "Fault", "FaultInjector", "Faults",
           "LoopbackEmulator", "LoopbackHTTPServer", "RequestHandler", "Stats"]
