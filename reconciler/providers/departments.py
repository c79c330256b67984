"""Departments told apart by name: org/'s department paths are keys ("/sales/sales-east"), while
Exmail and Alibaba Mail name departments and know no keys, so a department's path there is the
chain of its names from the root ("/销售部/华东销售"). A provider fits org/ to that with
`departments_by_name`, refusing names the service cannot hold and two siblings of one name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from reconciler.errors import UserError
from reconciler.i18n import _, say
from reconciler.state import OrgUnit, State


def departments_by_name(desired: State, service: str, name_problem: Callable[[str], str | None]) -> None:
    """Rewrite `desired`'s org units and users' org units to name paths; `name_problem` says why
    `service` cannot hold a name (None: it can)."""
    units = {k: u for k, u in desired.of("orgunit").items() if isinstance(u, OrgUnit)}
    renamed: dict[str, str] = {"/": "/"}
    problems = []
    for path in sorted(units, key=lambda p: p.count("/")):
        unit = units[path]
        name = unit.name or path.rsplit("/", 1)[1]
        problem = name_problem(name)
        if problem:
            problems.append(f"{path} ({name!r}): {say(problem)}")
        parent = renamed.get(unit.parent or "/", "/")
        renamed[path] = f"{parent.rstrip('/')}/{name}"
    doubled = sorted(p for p, n in Counter(renamed.values()).items() if n > 1)  # linear: thousands of units
    problems += [_("{path}: two departments with one name under one parent; {service} tells departments apart by "
                   "name").format(path=p, service=service) for p in doubled]
    if problems:
        raise UserError(_("departments {service} cannot hold:").format(service=service) + "\n  "
                        + "\n  ".join(problems))
    for path, unit in units.items():
        del desired.resources["orgunit"][path]
        desired.add(OrgUnit(path=renamed[path], name=renamed[path].rsplit("/", 1)[1], description=unit.description))
    for user in list(desired.users().values()):
        if user.orgunit is not None:
            desired.add(user.model_copy(update={"orgunit": renamed.get(user.orgunit, user.orgunit)}))
