"""The fast slice of the fault matrix (benchmarks/fault_matrix.py): every fault of the matrix at
30 % of all requests, against a small generated company, for each provider's emulator. One apply
either converges, or says in one line per failed change (or one line for the whole stop) what
failed, and a second apply converges; nothing is ever made twice, and every password handed to
the welcome mail is the account's own.

Every wait is on a fake clock; a timeout costs the clients' short read timeout in real time.
"""

from __future__ import annotations

import pytest

from benchmarks.fault_matrix import TARGETS, run_cell
from tests.emulators.common import MATRIX

pytestmark = pytest.mark.slow  # runs first in `make test` (tests/conftest.py)

PEOPLE = 12
RATE = 0.30
SEEDS = (3, 4, 5, 6, 7)
# Short read timeouts (each timeout fault costs one in real time), yet long enough for a small
# company's requests on a loaded machine: 12 people make Google batches of a few calls, not the
# benchmark's thousand (whose default timeouts, benchmarks/fault_matrix.py's, stay as they are).
TIMEOUTS = {"google": 1.0, "microsoft": 0.5, "exmail": 0.5, "alimail": 0.5}


@pytest.mark.parametrize("fault", list(MATRIX))
@pytest.mark.parametrize("key", list(TARGETS))
def test_one_apply_under_faults_converges_or_says_what_failed(key: str, fault: str) -> None:
    # A run of few requests (a batched read is one or two) can draw no fault at 30 %, or draw only
    # faults that do not apply (a stale read of a request that reads no one object): the next seed then.
    for seed in SEEDS:
        outcome = run_cell(key, fault, RATE, PEOPLE, seed=seed, timeout=TIMEOUTS[key])
        if outcome.faults:
            break
    assert outcome.faults > 0, "the fault met no request: the cell measured nothing"
    assert (outcome.duplicates, outcome.wrong_passwords) == (0, 0)
    if outcome.converged:
        return
    lines = outcome.failed or [outcome.stopped or ""]
    assert outcome.rerun_converged, lines
    for line in lines:  # one clear line each: no traceback, no internal error
        assert line and "\n" not in line and "internal error" not in line and "Traceback" not in line, line


def test_a_fault_free_run_converges_with_no_fault_met() -> None:
    """The cell's own check: without faults every provider converges in one apply."""
    for key in TARGETS:
        outcome = run_cell(key, "none", 0.0, PEOPLE, kinds=(), timeout=60.0)  # no real timeout comes near
        assert outcome.converged and outcome.faults == 0 and outcome.changes > 0, outcome
