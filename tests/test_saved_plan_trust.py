"""A saved plan is a record of what was reviewed, never an instruction: `apply FILE` plans
again and applies only when the fresh plan is the saved one.

Each case edits the file the way someone with write access to it (or a careless hand)
could, and runs the real CLI: nothing may reach the provider that a fresh plan would not
make, and the fresh plan's safety limits hold whatever the file says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import changes_to_apply
from reconciler.changes import Change
from reconciler.errors import StalePlan
from reconciler.model.loader import load_org
from reconciler.plan import saved as saved_plans
from reconciler.providers.local import LocalProvider
from tests.applying import apply_all
from tests.test_cli import LEAVERS, apply_in_process, directory, edit, reconciler

STALE = ("error: refusing to apply: this saved plan is not what a fresh plan of org/ against the provider says "
         "now: it is stale (the provider or reconciler changed since it was made) or it was edited. Nothing was "
         "applied; run `reconciler plan --out` again, review it, and apply that.")


@pytest.fixture
def repo(org_copy: Path) -> Path:
    return org_copy.parent


def _document(repo: Path) -> dict[str, Any]:
    data = json.loads((repo / "plan.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _save(repo: Path, document: dict[str, Any]) -> None:
    (repo / "plan.json").write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


def _as_read(repo: Path, kind: str, key: str) -> dict[str, Any]:
    """An object as the provider holds it, spelt as a plan's `before` spells it."""
    provider = LocalProvider(directory(repo))
    try:
        resource = provider.fetch(["acme.com"]).get(kind, key)  # type: ignore[arg-type]
    finally:
        provider.close()
    assert resource is not None
    return resource.model_dump(mode="json", exclude_none=True)


def _title_plan(repo: Path) -> None:
    """The example applied, then one reviewed change saved: a new title for zengxiaoyan."""
    apply_in_process(repo)
    edit(repo, "users/e1012.yaml", "title: 高级销售代表", "title: 销售主管")
    assert reconciler(repo, "plan", "--out", "plan.json").returncode == 0
    assert [c["key"] for c in _document(repo)["changes"]] == ["zengxiaoyan@acme.com"]


def test_an_unedited_plan_applies(repo: Path) -> None:
    _title_plan(repo)
    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "Applied 1, failed 0, skipped 0."
    assert _as_read(repo, "user", "zengxiaoyan@acme.com")["title"] == "销售主管"
    # Applied once; the same file again has nothing left to do (it converges, and is not refused).
    again = reconciler(repo, "apply", "plan.json", "--yes")
    assert (again.returncode, again.stderr) == (0, "No changes to apply. The provider matches org/.\n")


def test_deleting_the_violations_does_not_let_a_mass_suspension_through(repo: Path) -> None:
    apply_in_process(repo)
    for name in LEAVERS:
        (repo / "org" / "users" / f"{name}.yaml").unlink()
    assert reconciler(repo, "plan", "--out", "plan.json").returncode == 1  # saved, and refused
    document = _document(repo)
    assert [v["code"] for v in document["violations"]] == ["max-deletes", "max-delete-percent"]
    del document["violations"]
    _save(repo, document)
    before = directory(repo).read_bytes()

    result = reconciler(repo, "apply", "plan.json", "--yes", "--summary", "apply.md")
    assert result.returncode == 1
    assert result.stderr.startswith("error: refusing to apply: the plan breaks safety limits:\n  ")
    assert "safety.max_deletes" in result.stderr
    assert directory(repo).read_bytes() == before
    assert "Apply refused: the plan breaks safety limits." in (repo / "apply.md").read_text(encoding="utf-8")


def test_changes_appended_by_hand_are_never_applied(repo: Path) -> None:
    _title_plan(repo)
    document = _document(repo)
    admin = _as_read(repo, "user", "admin@acme.com")  # protected in org.yaml
    document["changes"] += [
        {"action": "create", "kind": "role", "key": "super-admin/zhangwei@acme.com",
         "after": {"role": "super-admin", "user": "zhangwei@acme.com"}},
        {"action": "update", "kind": "user", "key": "admin@acme.com", "before": admin, "after": admin,
         "effects": ["reset_password", "sign_out"]},
    ]
    _save(repo, document)
    before = directory(repo).read_bytes()

    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        STALE,
        "  only in the saved plan: create role super-admin/zhangwei@acme.com",
        "  only in the saved plan: update user admin@acme.com",
    ]
    assert directory(repo).read_bytes() == before


def test_a_change_whose_attribute_was_edited_is_refused(repo: Path) -> None:
    _title_plan(repo)
    document = _document(repo)
    document["changes"][0]["after"]["title"] = "首席执行官"
    document["changes"][0]["effects"] = ["transfer_data"]
    document["changes"][0]["transfer_to"] = "zhangwei@acme.com"
    _save(repo, document)
    before = directory(repo).read_bytes()

    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        STALE, "  differs from a fresh plan: update user zengxiaoyan@acme.com (after.title, effects, transfer_to)"]
    assert directory(repo).read_bytes() == before


def test_a_change_in_the_file_twice_is_refused(repo: Path) -> None:
    _title_plan(repo)
    document = _document(repo)
    document["changes"].append(document["changes"][0])
    _save(repo, document)
    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [STALE, "  only in the saved plan: update user zengxiaoyan@acme.com"]


def test_a_plan_the_provider_moved_past_is_stale(repo: Path) -> None:
    """Someone changed another account in the console after the plan was saved: the saved
    change's own object is untouched, but a fresh plan would also put the console edit back.
    Applying the file would apply a plan nobody reviewed against this provider."""
    _title_plan(repo)
    provider = LocalProvider(directory(repo))
    try:
        state = provider.fetch(["acme.com"])
        someone = state.get("user", "zhangwei@acme.com")
        assert someone is not None
        report = apply_all([Change(action="update", kind="user", key=someone.key,
                                   before=someone.model_dump(mode="json", exclude_none=True),
                                   after={**someone.model_dump(mode="json", exclude_none=True),
                                          "title": "Set in the console"}, changed=["title"])], provider)
    finally:
        provider.close()
    assert report.ok
    before = directory(repo).read_bytes()

    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [STALE, "  only in a fresh plan: update user zhangwei@acme.com"]
    assert directory(repo).read_bytes() == before


def test_a_plan_made_before_another_pull_request_merged_is_stale(repo: Path) -> None:
    _title_plan(repo)
    edit(repo, "users/e1013.yaml", "title: 销售代表", "title: 高级销售代表")  # the other pull request
    before = directory(repo).read_bytes()
    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert (result.returncode, result.stderr) == (
        1, "error: org/ changed since this plan was made; run `reconciler plan` again\n")
    assert directory(repo).read_bytes() == before


def test_a_plan_without_format_version_is_not_a_plan(repo: Path) -> None:
    _title_plan(repo)
    document = _document(repo)
    del document["format_version"]
    _save(repo, document)
    result = reconciler(repo, "apply", "plan.json", "--yes")
    assert (result.returncode, result.stderr) == (
        1, "error: plan.json: not a plan file (it has no format_version); save one with `reconciler plan --out`\n")


def test_a_saved_plan_resumes_after_a_crash_and_applies_only_the_fresh_changes(org_copy: Path,
                                                                              tmp_path: Path) -> None:
    """An apply that died half-way: what it made is skipped, the rest equals a fresh plan."""
    # Unprotected: a protected account created by the first half would keep its links out of the
    # fresh plan (protected means untouched once it exists), which is the safety tests' subject.
    settings = org_copy / "org.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("protected: [admin@acme.com]", "protected: []"),
                        encoding="utf-8")
    path = tmp_path / "directory.json"
    org, issues = load_org(org_copy)
    assert issues == []
    provider = LocalProvider(path)
    try:
        plan, todo, _ = changes_to_apply(org, issues, provider, None)
    finally:
        provider.close()
    saved = tmp_path / "plan.json"
    saved.write_text(plan.model_dump_json(indent=2), encoding="utf-8")
    half = len(todo) // 2
    assert apply_all(todo[:half], LocalProvider(path)).ok

    provider = LocalProvider(path)
    try:
        fresh, rest, _ = changes_to_apply(org, issues, provider, saved)
    finally:
        provider.close()
    remaining = saved_plans.load_plan(saved).changes[half:]
    assert [saved_plans.canonical(c) for c in rest] == [saved_plans.canonical(c) for c in remaining]
    assert rest == fresh.changes and fresh.violations == []
    assert apply_all(rest, LocalProvider(path)).ok

    # A change whose `reason` alone differs (prose, e.g. a date) is the same change.
    document = json.loads(saved.read_text(encoding="utf-8"))
    document["changes"][0]["reason"] = "written on another day"
    saved.write_text(json.dumps(document), encoding="utf-8")
    provider = LocalProvider(path)
    try:
        assert changes_to_apply(org, issues, provider, saved)[1] == []
    finally:
        provider.close()


def test_the_comparison_names_what_differs_and_stops_after_twenty() -> None:
    from reconciler.changes import Plan

    def retitle(n: int, title: str) -> Change:
        user = {"email": f"u{n:02}@acme.com", "id": f"E{n}", "title": "Old"}
        return Change(action="update", kind="user", key=user["email"], before=user,
                      after={**user, "title": title}, changed=["title"])

    fresh = Plan(provider="local", changes=[retitle(n, "New") for n in range(50)])
    saved = [retitle(n, "New" if n % 2 else "Edited") for n in range(50)]
    with pytest.raises(StalePlan) as stale:
        saved_plans.matching_fresh(saved, fresh)
    listed = str(stale.value).split("\n")[1:]
    assert listed == [f"  differs from a fresh plan: update user u{n:02}@acme.com (after.title)"
                      for n in range(0, 40, 2)] + ["  ... and 5 more"]
    # Keys in another order and defaults written out are the same change.
    respelt = [Change.model_validate(json.loads(json.dumps(c.model_dump(), sort_keys=True))) for c in fresh.changes]
    assert saved_plans.matching_fresh(list(reversed(respelt)), fresh) == fresh.changes
