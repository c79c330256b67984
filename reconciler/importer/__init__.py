"""`reconciler import`: describe an existing tenant as an org/ tree a plan finds nothing to change in.

The CLI opens the provider, picks the domains (`tenant.py`), fetches them with the same
bulk fetch as `plan`, and hands the State to `import_tenant`, which writes the files and
returns an `ImportReport`; `first_plan` then plans the written tree against that same State.
"""

from reconciler.importer.report import ImportReport
from reconciler.importer.run import check_target, import_tenant

__all__ = ["ImportReport", "check_target", "import_tenant"]
