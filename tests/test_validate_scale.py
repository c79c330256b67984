"""What the work on `validate` at 100,000 people changed keeps meaning what it meant.

The loader trusts the folder listing for a file's kind and checks a name's characters in C
first; naming reads a pattern once and works out only the placeholders it names; resolving
works out each profile's services and licence once. Each test pins what the slower code did.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import pytest

from reconciler.atomicfile import FileTooLarge, NotAPlainFile, read_plain_file
from reconciler.model.files import NamingFile, UserEntry
from reconciler.model.loader import load_org
from reconciler.model.org import DepartmentTree
from reconciler.model.yamlsource import NO_MARKS, load_yaml
from reconciler.naming import local_base
from reconciler.resolve import resolve
from reconciler.state import License, State, User

PERSON = "id: E9001\ngiven_name: Wei\nfamily_name: Zhang\n"


def test_a_fifo_read_as_a_listed_regular_file_is_refused_on_the_open_file(tmp_path: Path) -> None:
    """The listing said a regular file, then a FIFO took its place: the open file is still checked,
    and opening it does not wait for a writer."""
    fifo = tmp_path / "e9001.yaml"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(read_plain_file(fifo, 1024, listed_regular=True))
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome[0], NotAPlainFile) and "FIFO" in outcome[0].what


def counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes asked of every os.read from here on."""
    asked: list[int] = []
    real_read = os.read

    def read(fd: int, size: int) -> bytes:
        asked.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(os, "read", read)
    return asked


def test_a_file_whose_size_says_it_all_is_read_in_one_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """100,000 people's files: one read each, not a second one to find the end."""
    person = tmp_path / "e9001.yaml"
    person.write_text(PERSON)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    asked = counting_reads(monkeypatch)
    assert read_plain_file(person, 1024, listed_regular=True) == PERSON.encode()
    assert asked == [len(PERSON) + 1]
    assert read_plain_file(empty, 1024) == b""
    assert asked == [len(PERSON) + 1, 1]


def growing_after_fstat(monkeypatch: pytest.MonkeyPatch, path: Path, extra: bytes) -> None:
    """`extra` written at the end of `path` just after the reader asked its size."""
    real_fstat = os.fstat

    def fstat(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        with path.open("ab") as out:
            out.write(extra)
        return info

    monkeypatch.setattr(os, "fstat", fstat)


def test_a_file_that_grows_after_its_size_was_asked_is_read_to_its_end(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    person = tmp_path / "e9001.yaml"
    person.write_text(PERSON)
    growing_after_fstat(monkeypatch, person, b"title: Staff\n")
    assert read_plain_file(person, 1024, listed_regular=True) == PERSON.encode() + b"title: Staff\n"


def test_a_file_that_grows_past_the_limit_after_its_size_was_asked_is_refused(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    person = tmp_path / "e9001.yaml"
    person.write_text(PERSON)
    growing_after_fstat(monkeypatch, person, b"x" * 2048)
    asked = counting_reads(monkeypatch)
    with pytest.raises(FileTooLarge) as refused:
        read_plain_file(person, 1024, listed_regular=True)
    assert refused.value.size == 1025  # never more than a byte past the limit read
    assert sum(asked) <= 1025


def test_a_file_that_shrinks_after_its_size_was_asked_is_read_as_it_is(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    person = tmp_path / "e9001.yaml"
    person.write_text(PERSON)
    real_fstat = os.fstat

    def fstat(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        person.write_text("id: E9001\n")  # truncated and rewritten: shorter than the size said
        return info

    monkeypatch.setattr(os, "fstat", fstat)
    assert read_plain_file(person, 1024, listed_regular=True) == b"id: E9001\n"


def test_people_given_the_same_fields_share_one_set_of_them(org_copy: Path) -> None:
    """pydantic keeps with every entry the set of fields it was given (728 bytes a person): entries
    given the same fields share one; the set is still each entry's own answer, and a copy's own."""
    (org_copy / "users" / "e9001.yaml").write_text(PERSON)
    (org_copy / "users" / "e9002.yaml").write_text(PERSON.replace("E9001", "E9002").replace("Wei", "Na"))
    (org_copy / "users" / "e9003.yaml").write_text(PERSON.replace("E9001", "E9003") + "title: Staff\n")
    org, issues = load_org(org_copy)
    assert issues == []
    users = {entry.value.id: entry.value for entry in org.users}
    first, second, third = users["E9001"], users["E9002"], users["E9003"]
    assert first.model_fields_set is second.model_fields_set == {"id", "given_name", "family_name"}
    assert third.model_fields_set == {"id", "given_name", "family_name", "title"}
    assert first.model_dump(exclude_unset=True) == {"id": "E9001", "given_name": "Wei", "family_name": "Zhang"}
    changed = first.model_copy(update={"title": "Lead"})
    assert "title" in changed.model_fields_set and second.model_fields_set == {"id", "given_name", "family_name"}
    distinct = {id(entry.value.model_fields_set) for entry in org.users}
    assert len(distinct) == len({frozenset(entry.value.model_fields_set) for entry in org.users})


def test_a_fifo_among_people_is_reported_by_validate(org_copy: Path) -> None:
    os.mkfifo(org_copy / "users" / "pipe.yaml")
    _org, issues = load_org(org_copy)
    assert [str(issue) for issue in issues] == [
        "org/users/pipe.yaml: a FIFO (named pipe) is not an org/ file; org/ holds plain files only: remove it"]


@pytest.mark.parametrize("name", ["zhang\u00a0wei.yaml", "张伟.yaml", "e\u0301.yaml"])
def test_a_name_python_calls_unprintable_but_that_is_one_line_of_text_is_read(org_copy: Path, name: str) -> None:
    """str.isprintable() refuses a no-break space and a combining accent alone, where the
    loader does not: such a name falls through to the character-by-character check, and loads."""
    (org_copy / "users" / name).write_text(PERSON, encoding="utf-8")
    org, issues = load_org(org_copy)
    assert issues == []
    assert org.users_by_id()["E9001"].locate("id").path == f"org/users/{name}"


def test_a_name_with_a_line_separator_is_still_refused(org_copy: Path) -> None:
    (org_copy / "users" / "zhang\u2028wei.yaml").write_text(PERSON, encoding="utf-8")
    org, issues = load_org(org_copy)
    assert "E9001" not in org.users_by_id()
    assert [str(issue) for issue in issues] == [
        "org/users/zhang\\u2028wei.yaml: the name has a control character (U+2028); rename it (plain UTF-8, no "
        "tabs or line breaks): it was not read"]


@pytest.mark.parametrize(("pattern", "latin", "expected_han", "expected_latin"), [
    ("{family}{given}", None, "ouyangnana", "smithanna"),
    ("{family}.{given}", "{given}.{family}", "ouyang.nana", "anna.smith"),
    ("{family_initial}{given}.{id}", None, "onana.e1001", "sanna.e1002"),
    ("{given_initial}-{family}_{id}", "{given_initial}{family_initial}", "n-ouyang_e1001", "as"),
    ("x{id}", None, "xe1001", "xe1002"),
])
def test_a_pattern_gives_the_same_local_part_read_once_as_read_per_person(
        pattern: str, latin: str | None, expected_han: str, expected_latin: str) -> None:
    naming = NamingFile.model_validate({"users": {"pattern": pattern, "latin_pattern": latin}})
    han = UserEntry(id="E1001", given_name="娜娜", family_name="欧阳")
    western = UserEntry(id="E1002", given_name="Anna", family_name="Smith")
    assert (local_base(han, naming), local_base(western, naming)) == (expected_han, expected_latin)


def test_services_and_licences_follow_each_persons_profile_or_the_default(org_copy: Path) -> None:
    """Worked out once per profile now: a person naming none still gets org.yaml's default's."""
    org, issues = load_org(org_copy)
    assert issues == []
    desired = resolve(org, State(), "local", dt.date(2026, 1, 5)).desired
    profiles = org.permissions.profiles
    licences = {resource.user: resource.sku for resource in desired.of("license").values()
                if isinstance(resource, License)}
    named = {entry.value.profile for entry in org.users}
    assert None in named and len(named - {None}) >= 2  # the example has both kinds
    for entry in org.users:
        user = desired.users()[resolve_address(desired, entry.value.id)]
        profile = profiles[entry.value.profile or "staff"]  # staff: the example's default
        assert user.services == tuple(sorted(profile.services))
        assert licences.get(user.email) == profile.licenses.get("local")


def resolve_address(desired: State, user_id: str) -> str:
    return next(u.email for u in desired.users().values() if isinstance(u, User) and u.id == user_id)


def test_a_department_and_all_below_it_is_found_from_one_index(tmp_path: Path) -> None:
    """Sorted by path, not scanned per question; /sales-east is not below /sales, /sales/x is."""
    tree_yaml = """\
- key: sales
  name: Sales
  children:
    - {key: sales-north, name: North, children: [{key: sales-north-1, name: N1}]}
    - {key: sales-a, name: A}
- key: sales-east
  name: Sales East (a top department whose path starts like /sales)
  children: [{key: east-1, name: E1}]
- key: rd
  name: R&D
"""
    org_dir = tmp_path / "org"
    (org_dir / "users").mkdir(parents=True)
    (org_dir / "org.yaml").write_text("name: Acme\nprovider: {kind: local}\n", encoding="utf-8")
    (org_dir / "domains.yaml").write_text("- {name: acme.com, primary: true}\n", encoding="utf-8")
    (org_dir / "departments.yaml").write_text(tree_yaml, encoding="utf-8")
    org, issues = load_org(org_dir)
    assert issues == []
    tree = DepartmentTree(org.departments)
    assert tree.and_below("sales") == {"sales", "sales-north", "sales-north-1", "sales-a"}
    assert tree.and_below("sales-north") == {"sales-north", "sales-north-1"}
    assert tree.and_below("sales-east") == {"sales-east", "east-1"}
    assert tree.and_below("rd") == {"rd"}
    assert tree.and_below("nowhere") == set()
    for node in org.departments:  # as the scan over every department found it
        prefix = node.path + "/"
        assert tree.and_below(node.key) == {node.key} | {n.key for n in org.departments if n.path.startswith(prefix)}


def test_files_are_read_in_path_order_without_the_final_sort(org_copy: Path) -> None:
    """Each folder's names sorted and subfolders walked in place give the order of path parts:
    users/a/x before users/a-b/x before users/a.yaml (what the duplicate-id message calls first)."""
    places = ["a-b/x.yaml", "a.yaml", "a/x.yaml", "a/b/y.yaml", "a0.yaml", "A.yaml"]
    for number, place in enumerate(places):
        path = org_copy / "users" / "zz" / place
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"id: Z{number}\ngiven_name: Wei\nfamily_name: Zhang\n", encoding="utf-8")
    org, issues = load_org(org_copy)
    assert issues == []
    read = [entry.locate().path.removeprefix("org/users/zz/") for entry in org.users
            if entry.value.id.startswith("Z")]
    assert read == sorted(places, key=lambda place: tuple(place.split("/")))
    assert read == ["A.yaml", "a/b/y.yaml", "a/x.yaml", "a-b/x.yaml", "a.yaml", "a0.yaml"]


def test_files_of_one_shape_share_their_key_lines_and_each_is_located_in_its_own_file(org_copy: Path) -> None:
    (org_copy / "users" / "z1.yaml").write_text("id: Z1\ngiven_name: Wei\nfamily_name: Zhang\nmanager: Q\n",
                                                encoding="utf-8")
    (org_copy / "users" / "z2.yaml").write_text("id: Z2\ngiven_name: Fang\nfamily_name: Li\nmanager: Q\n",
                                                encoding="utf-8")
    (org_copy / "users" / "z3.yaml").write_text("# moved down a line\nid: Z3\ngiven_name: Na\nfamily_name: Wang\n"
                                                "manager:   Q\n", encoding="utf-8")
    org, _issues = load_org(org_copy)
    users = org.users_by_id()
    first, second, third = (users[f"Z{n}"].where.document for n in (1, 2, 3))
    assert first.flat_lines is second.flat_lines and first.flat_lines is not third.flat_lines
    assert [str(users[f"Z{n}"].locate("manager")) for n in (1, 2, 3)] == [
        "org/users/z1.yaml:4:10", "org/users/z2.yaml:4:10", "org/users/z3.yaml:5:12"]


@pytest.mark.parametrize(("given", "family", "pattern", "expected"), [
    ("Mary Ann", "O'Neil", "{given}.{family}", "maryann.oneil"),
    ("Léa", "Dubois", "{family}_{given}", "dubois_lea"),
    ("阳", "欧", "{family}.{given}.{id}", "ou.yang.e.1_0"),
    ("-x-", "Núñez", "{given}-{family}", "x-nunez"),
    ("😀", "Smith", "{given}.{family}", "smith"),  # an empty given name leaves no lone dot
    ("José", "García", "{given_initial}.{family}", "j.garcia"),
])
def test_a_local_part_already_clean_is_kept_and_any_other_is_cleaned(
        given: str, family: str, pattern: str, expected: str) -> None:
    """What the slower code gave for each (clean_local_part is skipped only for a part it would keep)."""
    naming = NamingFile.model_validate({"users": {"pattern": pattern}})
    assert local_base(UserEntry(id="E.1_0", given_name=given, family_name=family), naming) == expected


def test_only_a_composed_file_has_marks_of_its_own(tmp_path: Path) -> None:
    """A flat file keeps its positions in flat_lines: its node marks are one shared, read-only empty
    mapping (nothing can be written into another file's marks through it)."""
    flat, nested = tmp_path / "flat.yaml", tmp_path / "nested.yaml"
    flat.write_text(PERSON, encoding="utf-8")
    nested.write_text("key: sales\nmembers:\n  - E1\n  - E2\n", encoding="utf-8")
    flat_doc, nested_doc, other_flat = (load_yaml(flat, "flat.yaml"), load_yaml(nested, "nested.yaml"),
                                        load_yaml(flat, "flat.yaml"))
    assert flat_doc.value_marks is other_flat.value_marks is flat_doc.key_marks is NO_MARKS
    with pytest.raises(TypeError):
        NO_MARKS[("x",)] = (1, 1)  # type: ignore[index]
    assert nested_doc.value_marks is not NO_MARKS and dict(NO_MARKS) == {}
    assert str(nested_doc.locate(("members", 1))) == "nested.yaml:4:5"
    assert str(flat_doc.locate(("family_name",))) == "flat.yaml:3:14"
