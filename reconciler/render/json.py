"""The JSON plan (the README's contract, format_version 2): the plan value itself."""

from __future__ import annotations

from reconciler.changes import Plan


def render_json(plan: Plan) -> str:
    return plan.model_dump_json(indent=2) + "\n"
