"""Read one org/ YAML file into plain data while keeping every node's position.

`yaml.safe_load` forgets where things were written; admins need
`org/users/e1001.yaml:4:3`. So we compose the node graph ourselves and build
the Python values from it, recording the line and column of every value and
every mapping key under its path (("members", 2) is the third member).

Hostile input gets a clear `InputIssue`, never a traceback: files that are too
large, not UTF-8, not YAML, alias bombs, recursive aliases, duplicate keys and
nesting deep enough to exhaust the parser.
"""

from __future__ import annotations

import codecs
import errno
import functools
import operator
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from reconciler import collector
from reconciler.atomicfile import FileTooLarge, NotAPlainFile, read_plain_file
from reconciler.errors import InputIssue, SourceLocation
from reconciler.i18n import N_, _

MAX_FILE_BYTES = 5 * 1024 * 1024
# Far above any real org/ file (a 10,000-person list is about 150,000 nodes), far below what an
# alias bomb expands to, and what fits in memory: PyYAML takes about 500 bytes a node.
MAX_NODES = 1_000_000
# Nodes aliases may add beyond those written out: as many as the file holds, or this many in a
# small file. Anchors save typing a list twice; a file that expands ten-fold (a "billion laughs",
# each level small enough to pass MAX_NODES but building hundreds of thousands of departments)
# is refused at the alias that passes the budget.
ALIAS_SLACK = 10_000
# Characters of text once every alias is written out. A file without aliases holds at most its own
# size; twice the file limit leaves room for anchors while one 1 MB string aliased 1,000 times
# (a 1 MB file, 3 GB of memory once validated) is refused before anything is built.
MAX_EXPANDED_CHARS = 2 * MAX_FILE_BYTES

# No number in org/ comes near this (an unquoted phone number is far below it); larger ones overflow
# where they are used (`offboard_after_days: 0xffffffffffffffffffff` as a date) and lose
# precision in JSON readers.
MAX_INTEGER = 2**53

PathKey = tuple[str | int, ...]
NO_MARKS: Mapping[PathKey, tuple[int, int]] = MappingProxyType({})
# libyaml's parser where PyYAML was built with it: several times faster on 10,000 files.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STR_TAG = "tag:yaml.org,2002:str"
# The implicit typing of a plain scalar (`yes` is a bool, `2026-01-05` a date), as the loader does it.
_RESOLVER = yaml.resolver.Resolver()


class YamlProblem(Exception):
    def __init__(self, issue: InputIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue


# Slots: one document, one view and one Sourced per person stay in memory to the end of a run,
# and an instance without a __dict__ is half the size and one object fewer for the collector.
@dataclass(slots=True)
class YamlDocument:
    """A parsed file: its data and where each piece of it was written."""

    display_path: str
    data: Any
    # Filled by the full reader only (a flat file keeps flat_lines): until then one shared, read-only
    # empty mapping, not two new dicts per person's file.
    value_marks: Mapping[PathKey, tuple[int, int]] = field(default_factory=lambda: NO_MARKS)
    key_marks: Mapping[PathKey, tuple[int, int]] = field(default_factory=lambda: NO_MARKS)
    source: bytes = b""  # the file as read (once: it is hashed into the org digest too)
    # A flat file's positions, compactly (100,000 people's files stay in memory): the line of each
    # key (one dict shared by the files that write the same keys on the same lines: never changed),
    # and the column of a value only where it is not one space after `key:`.
    flat_lines: dict[str, int] | None = None
    flat_columns: dict[str, int] | None = None

    def marks(self) -> tuple[Mapping[PathKey, tuple[int, int]], Mapping[PathKey, tuple[int, int]]]:
        """Every value's and every key's position, whichever way they are kept."""
        if self.flat_lines is None:
            return self.value_marks, self.key_marks
        values: dict[PathKey, tuple[int, int]] = {(): (min(self.flat_lines.values()), 1)}
        values.update({(key,): (line, self._column(key)) for key, line in self.flat_lines.items()})
        return values, {(key,): (line, 1) for key, line in self.flat_lines.items()}

    def _column(self, key: str) -> int:
        return (self.flat_columns or {}).get(key, len(key) + 3)

    def _mark(self, path: PathKey, key: bool) -> tuple[int, int] | None:
        if self.flat_lines is None:
            return (self.key_marks if key else self.value_marks).get(path)
        if not path:
            return None if key else (min(self.flat_lines.values()), 1)
        name = path[0]
        if len(path) != 1 or not isinstance(name, str) or name not in self.flat_lines:
            return None
        return self.flat_lines[name], 1 if key else self._column(name)

    def locate(self, path: PathKey = (), *, key: bool = False) -> SourceLocation:
        """The position of the value at `path` (or of its key), else of its nearest parent."""
        if key and (found := self._mark(path, True)):
            return SourceLocation(self.display_path, *found)
        probe = tuple(path)
        while True:
            if found := self._mark(probe, False) or self._mark(probe, True):
                return SourceLocation(self.display_path, *found)
            if not probe:
                return SourceLocation(self.display_path, 1, 1)
            probe = probe[:-1]

    def sub(self, prefix: PathKey) -> DocumentView:
        return DocumentView(self, prefix)


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A document seen from one item down (one user of a file holding a list)."""

    document: YamlDocument
    prefix: PathKey

    def locate(self, path: PathKey = (), *, key: bool = False) -> SourceLocation:
        return self.document.locate(self.prefix + tuple(path), key=key)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    """Builds Python values from a composed node graph, counting every node visited."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.count = 0
        self.last: yaml.Node | None = None
        self.active: set[int] = set()
        self.scalars = yaml.constructor.SafeConstructor()
        self.values: dict[PathKey, tuple[int, int]] = {}  # the document's marks, as they are built
        self.keys: dict[PathKey, tuple[int, int]] = {}

    def problem(self, node: yaml.Node, message: str) -> YamlProblem:
        line, col = _mark(node)
        return YamlProblem(InputIssue(SourceLocation(self.doc.display_path, line, col), message))

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.problem(node, _too_many_nodes())
        self.values.setdefault(path, _mark(node))
        self.last = node
        if isinstance(node, yaml.ScalarNode):
            return self.build_scalar(node)
        if id(node) in self.active:
            raise self.problem(node, _("recursive YAML alias: a node contains itself"))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                return self.build_mapping(node, path)
        finally:
            self.active.discard(id(node))
        raise self.problem(node, _("unsupported YAML node {tag}").format(tag=node.tag))

    def build_scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:binary":
            raise self.problem(node, _("binary values (!!binary) have no place in org/ files; write the text itself"))
        try:
            value = self.scalars.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise self.problem(node, _("cannot read value {value}: {problem}").format(
                value=_short(node.value), problem=_yaml_words(exc.problem))) from None
        except ValueError as exc:  # e.g. 2026-02-30 resolves as a timestamp but is no date
            if node.value.lstrip("+-").replace("_", "").isdigit():  # past Python's 4,300 digits
                raise self.problem(node, _number_too_large(node.value)) from None
            if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):  # `!!int abc`
                raise self.problem(node, _not_valid_for_tag(node)) from None
            raise self.problem(node, _invalid_value(node.value, str(exc))) from None
        except (KeyError, AttributeError, TypeError, OverflowError):
            # What PyYAML's constructors raise for a tag forced on a value it does not fit:
            # `!!bool maybe` (KeyError), `!!timestamp soon` (AttributeError).
            raise self.problem(node, _not_valid_for_tag(node)) from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            # No setting needs it, and past 2**63 the numbers overflow where they are used (dates).
            raise self.problem(node, _number_too_large(node.value))
        return value

    def build_mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.problem(key_node, _("YAML merge keys (<<) are not supported in org/ files"))
            key = self.build_scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise self.problem(key_node, _("mapping keys must be plain text, not {key}").format(key=repr(key)))
            if key in result:
                first = self.keys.get((*path, key))
                message = (_("duplicate key {key} (first at line {line})") if first else _("duplicate key {key}"))
                raise self.problem(key_node, message.format(key=repr(key), line=first[0] if first else 0))
            self.keys[(*path, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result


def _read_text(path: str | Path, display: str, listed_regular: bool = False) -> tuple[str, bytes]:
    def issue(message: str, line: int = 0, col: int = 0) -> YamlProblem:
        return YamlProblem(InputIssue(SourceLocation(display, line, col), message))

    try:
        raw = read_plain_file(path, MAX_FILE_BYTES, listed_regular=listed_regular)
    except NotAPlainFile as exc:
        # A FIFO would hang validate; a device (/dev/zero) would fill the memory.
        raise issue(_("{what} is not an org/ file; org/ holds plain files only: remove it").format(
            what=_(exc.what))) from None
    except FileTooLarge as exc:
        raise issue(_("file is {size} MiB, over the {limit} MiB limit for one org/ file; split it into several "
                      "files").format(size=f"{exc.size / 1024 / 1024:.1f}", limit=MAX_FILE_BYTES // 1024 // 1024)
                    ) from None
    except OSError as exc:
        raise issue(_("cannot read: {reason}").format(reason=_os_reason(exc))) from None
    try:
        # As "utf-8-sig" decodes (a BOM dropped, error positions counted after it), without that
        # codec's Python-level call per file.
        return (raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw).decode("utf-8"), raw
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise issue(
            _("not valid UTF-8 (byte 0x{byte}); save the file as UTF-8").format(byte=f"{raw[exc.start]:02x}"), line, col
        ) from None


def _count_nodes(text: str, display: str) -> None:
    """Refuse a file of more than MAX_NODES nodes before composing it: parser events are made and
    dropped one at a time, where the composed nodes of a 5 MiB list would take 1.5 GB."""
    count = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.NodeEvent):
            count += 1
            if count > MAX_NODES:
                mark = event.start_mark
                line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
                raise YamlProblem(InputIssue(
                    SourceLocation(display, line, col),
                    _("the file holds more than {count} YAML nodes; split it into several files").format(
                        count=f"{MAX_NODES:,}")))


def load_yaml(path: str | Path, display: str, *, listed_regular: bool = False) -> YamlDocument:
    """Parse one file. Raises `YamlProblem` with a located, readable message. `listed_regular`:
    a folder listing says it is a regular file (see `read_plain_file`)."""
    text, raw = _read_text(path, display, listed_regular)
    doc = YamlDocument(display, None, source=raw)
    if _read_flat_mapping(doc, text):  # builds no node graph: nothing for the collector to pause for
        return doc
    # The collector, run again and again while a big file's nodes are made (every one of them still
    # alive), took four fifths of the time: a 5 MiB file of people composed in 14 s instead of 2.7 s.
    # Paused here too for a file read alone (load_checked pauses it for the whole of org/).
    with collector.paused():
        return _compose(doc, text, display)


def _compose(doc: YamlDocument, text: str, display: str) -> YamlDocument:
    """`doc` filled by the full parser (what the line reader does not take)."""
    try:
        if len(text) > 2 * MAX_NODES:  # a node takes two characters at least ("x,"): else it cannot be over
            _count_nodes(text, display)
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (control characters)
        position = exc.position
        if _LOADER is not yaml.SafeLoader:  # libyaml counts bytes, PyYAML characters
            position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
        line = text.count("\n", 0, position) + 1
        col = position - (text.rfind("\n", 0, position) + 1) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        raise YamlProblem(InputIssue(SourceLocation(display, line, col),
                                     _("invalid YAML: character {char} (U+{code}) is not allowed").format(
                                         char=repr(char), code=f"{ord(char[:1] or ' '):04X}"))) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = _yaml_words(exc.problem or exc.context or "invalid YAML")
        if mark is not None:
            what += _likely_cause(text, mark.line, mark.column)
        raise YamlProblem(
            InputIssue(SourceLocation(display, line, col), _("invalid YAML: {problem}").format(problem=what))
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(InputIssue(SourceLocation(display), _("invalid YAML: {problem}").format(
            problem=_yaml_words(str(exc))))) from None
    except RecursionError:
        raise YamlProblem(
            InputIssue(SourceLocation(display), _("invalid YAML: nested too deeply"))
        ) from None
    if node is None:
        return doc
    _build_document(doc, node, text)
    return doc


def _build_document(doc: YamlDocument, node: yaml.Node, text: str) -> None:
    builder = _Builder(doc)
    doc.value_marks, doc.key_marks = builder.values, builder.keys
    try:
        # Only an alias (`*name`) makes a file expand past what it holds, and a node takes at least
        # a character: a file with neither can be built as it is (most of org/, person by person).
        if "*" in text:
            _check_expanded_size(node, builder)
        doc.data = builder.build(node, ())
    except RecursionError:
        line, col = _mark(builder.last or node)
        raise YamlProblem(
            InputIssue(SourceLocation(doc.display_path, line, col), _("invalid YAML: nested too deeply"))
        ) from None


def _too_many_nodes() -> str:
    return _("the file expands to more than {count} YAML nodes (an alias bomb?); write the data out without "
             "anchors").format(count=f"{MAX_NODES:,}")


@dataclass
class _Size:
    """What building a node would make, counting an aliased node every time it is used."""

    nodes: int = 0
    chars: int = 0

    def add(self, other: _Size) -> None:
        self.nodes = min(self.nodes + other.nodes, MAX_NODES + 1)
        self.chars = min(self.chars + other.chars, MAX_EXPANDED_CHARS + 1)


def _check_expanded_size(root: yaml.Node, builder: _Builder) -> None:
    """Refuse a file whose aliases expand past MAX_NODES nodes or MAX_EXPANDED_CHARS characters.

    Sized over distinct nodes (memoised), so a bomb is refused at once instead of after building
    millions of values. The characters are refused at the anchored node whose reuse passes the
    limit: that is the text to write out (or shorten). A node met again while it is being sized
    is a recursive alias: the builder reports it with its position.
    """
    memo: dict[int, _Size] = {}
    alias_budget = max(ALIAS_SLACK, _distinct_nodes(root))
    aliased = 0

    def size(node: yaml.Node) -> _Size:
        nonlocal aliased
        if id(node) in memo:
            return memo[id(node)]
        memo[id(node)] = _Size(1, 0)  # while inside it: a recursive alias, reported by the builder
        total = _Size(1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        for child in children:
            repeated = id(child) in memo
            child_size = size(child)
            total.add(child_size)
            if repeated:
                aliased += child_size.nodes
                if aliased > alias_budget:
                    raise builder.problem(child, _too_many_aliased(alias_budget))
            if total.nodes > MAX_NODES:
                raise builder.problem(child, _too_many_nodes())
            if total.chars > MAX_EXPANDED_CHARS:
                raise builder.problem(child, _too_long(repeated))
        memo[id(node)] = total
        return total

    size(root)


def _distinct_nodes(root: yaml.Node) -> int:
    """Nodes written in the file (each anchored node once), walked without recursion."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
    return len(seen)


def _too_many_aliased(budget: int) -> str:
    return _("aliases up to here repeat more than {count} YAML nodes, more than the file holds written out "
             "(an alias bomb?); write the data out without anchors").format(count=f"{budget:,}")


def _too_long(repeated: bool) -> str:
    if repeated:
        message = _("the value anchored here is repeated through aliases until the file expands to more than "
                    "{limit} MiB of text once its aliases are written out (an alias bomb?); write the data out "
                    "without anchors")
    else:
        message = _("the file expands to more than {limit} MiB of text once its aliases are written out (an alias "
                    "bomb?); write the data out without anchors")
    return message.format(limit=MAX_EXPANDED_CHARS // 1024 // 1024)


def _number_too_large(value: str) -> str:
    return _("the number {value} is too large (at most {limit})").format(value=_short(value),
                                                                         limit=f"{MAX_INTEGER:,}")


def _not_valid_for_tag(node: yaml.Node) -> str:
    return _("{value} is not a valid {tag} value").format(value=_short(node.value), tag=_short_tag(node))


# Python's words for a date YAML reads but the calendar has not (`2026-02-30`), as it says them.
_DATE_WORDS = {word: word for word in (
    N_("day is out of range for month"),
    N_("month must be in 1..12"),
    N_("hour must be in 0..23"),
    N_("minute must be in 0..59"),
    N_("second must be in 0..59"),
)}


def _invalid_value(value: str, reason: str) -> str:
    said = _(_DATE_WORDS[reason]) if reason in _DATE_WORDS else reason[:120]
    return _("invalid value {value}: {reason}").format(value=_short(value), reason=said)


# What the YAML parser (libyaml, or PyYAML's own) says where it stops, as it says it: the
# message ids are its English words, so English output is the parser's; other languages get
# a translation of the ones org/ files meet. A message not listed here is shown as the parser
# wrote it.
_PARSER_WORDS = {word: word for word in (
    N_("mapping values are not allowed in this context"),
    N_("mapping values are not allowed here"),
    N_("mapping keys are not allowed in this context"),
    N_("could not find expected ':'"),
    N_("found character that cannot start any token"),
    N_("found unexpected end of stream"),
    N_("did not find expected key"),
    N_("did not find expected node content"),
    N_("found undefined alias"),
    N_("but found another document"),
    N_("did not find expected '-' indicator"),
    N_("did not find expected <document start>"),
    N_("found a tab character that violates indentation"),
    N_("block sequence entries are not allowed in this context"),
    N_("block sequence entries are not allowed here"),
    N_("second occurrence"),
    N_("found unknown escape character"),
    N_("found undefined tag handle"),
    N_("found duplicate %YAML directive"),
    N_("found incompatible YAML document"),
    N_("found duplicate %TAG directive"),
    N_("did not find expected comment or line break"),
    N_("did not find expected alphabetic or numeric character"),
    N_("found unexpected ':'"),
    N_("exceeded maximum nesting depth"),
    N_("invalid YAML"),
)}
# A brace in a message would be a placeholder: these say theirs as a value.
_PARSER_WORDS_WITH_BRACES = {
    "did not find expected ',' or ']'": (N_("did not find expected ',' or {closer}"), "']'"),
    "did not find expected ',' or '}'": (N_("did not find expected ',' or {closer}"), "'}'"),
}
_PARSER_PATTERNS = (
    (re.compile(r"found undefined alias (?P<name>.+)"), N_("found undefined alias {name}")),
    (re.compile(r"could not determine a constructor for the tag (?P<tag>.+)"),
     N_("could not determine a constructor for the tag {tag}")),
)


def _yaml_words(problem: str | None) -> str:
    """The parser's message in the reader's language, where it is one we know."""
    text = problem or ""
    if text in _PARSER_WORDS:
        return _(_PARSER_WORDS[text])
    if text in _PARSER_WORDS_WITH_BRACES:
        template, closer = _PARSER_WORDS_WITH_BRACES[text]
        return _(template).format(closer=closer)
    for pattern, template in _PARSER_PATTERNS:
        if match := pattern.fullmatch(text):
            return _(template).format(**match.groupdict())
    return text


# The operating system's reason a file cannot be read, as strerror says it on Linux (English
# output keeps it), for the errors an org/ file meets.
_OS_REASONS = {
    errno.EACCES: N_("Permission denied"),
    errno.EPERM: N_("Operation not permitted"),
    errno.ENOENT: N_("No such file or directory"),
    errno.EISDIR: N_("Is a directory"),
    errno.ELOOP: N_("Too many levels of symbolic links"),
    errno.ENAMETOOLONG: N_("File name too long"),
    errno.EIO: N_("Input/output error"),
    errno.ENOTDIR: N_("Not a directory"),
}


def _os_reason(error: OSError) -> str:
    reason = error.strerror or str(error)
    known = _OS_REASONS.get(error.errno or 0)
    return _(known) if known is not None and known == reason else reason


def _short_tag(node: yaml.Node) -> str:
    return node.tag.replace("tag:yaml.org,2002:", "!!")


def _short(text: str, limit: int = 60) -> str:
    """A value quoted for a message, cut: a 5 MB value is not repeated in full."""
    shown = repr(text)
    if len(shown) <= limit:
        return shown
    return _("{start}…' ({count} characters)").format(start=shown[: limit - 1], count=f"{len(text):,}")


def _likely_cause(text: str, line: int, column: int) -> str:
    """What people most often type by mistake where YAML stopped reading: a tab, or a full-width colon."""
    lines = text.splitlines()
    here = lines[line] if line < len(lines) else ""
    if "\t" in here[: column + 1]:
        return _(" (a tab: YAML indents with spaces only)")
    if any("：" in near for near in lines[max(0, line - 1): line + 1]):  # YAML often stops a line later
        return _(" ('：' is a full-width colon, which YAML does not read as one: type ':' and a space)")
    return ""


# The shape of most org/ files (one person, one group): `key: value` lines at the left margin.
# Composing a node graph costs 20 times more than reading such lines, so they are read here,
# to the same data and positions; anything else (indentation, lists, quotes, anchors, tags,
# flow style, tabs, characters YAML refuses or reads as line breaks, a key twice) goes to the
# full parser, which also gives every error its message. The usual file (nothing to trim, cut or
# build) is read in a few passes over its whole text, the rest line by line; tests/test_yaml_fast_path.py
# checks that all three readers agree on generated text.
_FLAT_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*): +([^-?:,\[\]{}#&*!|>'\"%@`\s][^\n]*)")
# A `key: "quoted value"` line (double quotes without an escape, single quotes without a quote
# inside), then spaces or a comment: how people write a phone number ("+86 139 1600 1000") or a
# value that would otherwise read as something else ('007', "yes"). Its text is what is between the
# quotes, always text, and its place is the opening quote's, as the full reader has it.
_QUOTED_LINE = re.compile(r"""([A-Za-z_][A-Za-z0-9_]*): +(?:"([^"\\]*)"|'([^']*)')(?: +#[^\n]*| *)""")
# A `key: [a, b.c]` line: a short list of plain words (a person's aliases), written the one usual
# way (one space after each comma, none inside the brackets, no `:` or `#` in a word), then spaces
# or a comment. Anything else in brackets goes to the full parser.
_FLOW_WORD = r"[^-?:,\[\]{}#&*!|>'\"%@`\s][^,\[\]{}#:\s]*"
_FLOW_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*): +\[((?:" + _FLOW_WORD + r")(?:, " + _FLOW_WORD
                        + r")*)?\](?: +#[^\n]*| *)")
_FLOW_WORDS = re.compile(_FLOW_WORD)
# Printable characters YAML reads in a plain value, minus its extra line breaks and the BOM.
_FLAT_TEXT = re.compile("[\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                        "\U00010000-\U0010ffff]*")


def _read_flat_mapping(doc: YamlDocument, text: str) -> bool:
    """Fill `doc` from a file of `key: plain value` lines (comments and blank lines allowed);
    False, with `doc` untouched, when the file is anything else."""
    if not _FLAT_TEXT.fullmatch(text):
        return False
    return _read_usual_flat(doc, text) or _read_flat_lines(doc, text)


# A plain value's first character and the rest of its line (`_FLAT_LINE`'s second group).
_FLAT_VALUE = r"([^-?:,\[\]{}#&*!|>'\"%@`\s][^\n]*)"
_BLANK_OR_COMMENT = r"(?:#[^\n]*|[^\S\n]*)"  # [^\S\n]: what str.isspace() says is a space, on one line
# Every line of a flat file, as findall gives it: (`key:` and its spaces, the rest of the line) for a
# `key: value` line (as _FLAT_LINE reads it), ('', '') for a blank or whole-line comment. Each
# alternative spans a whole line, so a line that is none of these gives no row at all.
_FLAT_ROWS = re.compile(r"^(?:([A-Za-z_][A-Za-z0-9_]*: +)" + _FLAT_VALUE + "|" + _BLANK_OR_COMMENT + ")$",
                        re.MULTILINE)
_first_character = operator.itemgetter(0)


@dataclass(slots=True)
class _Layout:
    """The `key: ` parts of a flat file's lines, the same in every file written alike, and what they say."""

    keys: tuple[str, ...]
    lines: dict[str, int]
    columns: dict[str, int] | None
    heads: tuple[str, ...]
    seen: int = 0
    # The whole text of a file laid out so, each value a group: one match where findall makes a row a
    # line. Compiled (a quarter of a millisecond) once the layout is common.
    pattern: re.Pattern[str] | None = None


# Layouts by the lines' `key: ` parts ('' for a blank or comment line): a few per org/, as people's
# files are written alike; None for one the line reader must judge (a key twice, `yes:`, no key).
_LAYOUTS: dict[tuple[str, ...], _Layout | None] = {}
# A layout's pattern is compiled once it was read this often, for this many layouts at most: a
# pattern saves a few microseconds a file, so only common layouts repay it, whatever org/ holds.
PATTERN_AFTER = 32
MAX_PATTERNS = 64
_PATTERNED: list[_Layout] = []
# The common layout last read, by the number of lines: the next file of as many lines is most often laid out so.
_RECENT: dict[int, _Layout] = {}


def _read_usual_flat(doc: YamlDocument, text: str) -> bool:
    """`_read_flat_lines` for the usual file, in a few passes over the whole text instead of steps per
    line (100,000 people's files): every line `key: text`, blank or a comment, and nothing that
    reader would trim, cut or build (a comment after a value, trailing spaces, `: ` in a value or
    one ending in `:`, a number, a date, a bool). False, with `doc` untouched, for anything else:
    the line reader then reads it (or refuses it) as it always has."""
    newlines = text.count("\n")
    layout = _RECENT.get(newlines)
    match = layout.pattern.fullmatch(text) if layout is not None and layout.pattern is not None else None
    if match is not None and layout is not None:
        values = match.groups()
    else:
        rows = _FLAT_ROWS.findall(text)
        if len(rows) != newlines + 1:  # a line of another kind
            return False
        heads, values = zip(*rows, strict=True)
        layout = _LAYOUTS[heads] if heads in _LAYOUTS else _new_layout(heads)
        if layout is None:
            return False
        _note_seen(layout, newlines)
        values = tuple(value for value in values if value)  # a key's value is never empty: it has a first character
    # What the line reader cuts or refuses: ` #` (a comment after a value), trailing spaces, `:` at
    # the end, `: ` inside a value (a comment with any of these goes to it too).
    if " #" in text or " \n" in text or ":\n" in text or text.endswith((" ", ":")) or text.count(": ") != len(values):
        return False
    if not _TYPED_FIRST.isdisjoint(map(_first_character, values)) and not all(map(_plain_text, values)):
        return False  # a number, a date, a bool: built by the line reader, as the full reader builds it
    doc.data = dict(zip(layout.keys, values, strict=True))
    doc.flat_lines, doc.flat_columns = layout.lines, layout.columns
    return True


def _new_layout(heads: tuple[str, ...]) -> _Layout | None:
    keys: list[str] = []
    lines: dict[str, int] = {}
    columns: dict[str, int] = {}
    layout = None
    for row, head in enumerate(heads):
        if not head:
            continue
        key = sys.intern(head[: head.index(":")])
        if key in lines or not _plain_key(key):
            break
        keys.append(key)
        lines[key] = row + 1
        if len(head) != len(key) + 2:  # the value's column, where it is not one space after `key:`
            columns[key] = len(head) + 1
    else:
        if keys:
            layout = _Layout(tuple(keys), _shared_shape(lines), columns or None, heads)
    if len(_LAYOUTS) < MAX_SHAPES:
        _LAYOUTS[heads] = layout
    return layout


def _note_seen(layout: _Layout, newlines: int) -> None:
    layout.seen += 1
    if layout.pattern is None and layout.seen >= PATTERN_AFTER and len(_PATTERNED) < MAX_PATTERNS:
        layout.pattern = re.compile("\n".join(re.escape(head) + _FLAT_VALUE if head else _BLANK_OR_COMMENT
                                              for head in layout.heads))
        _PATTERNED.append(layout)
    if layout.pattern is not None:
        _RECENT[newlines] = layout


def _read_flat_lines(doc: YamlDocument, text: str) -> bool:
    """`_read_flat_mapping` line by line, for text the character check passed: the reader of every
    flat file `_read_usual_flat` does not take, and the one it must agree with."""
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    columns: dict[str, int] = {}
    items: dict[PathKey, tuple[int, int]] = {}  # where each word of a `[a, b]` list is
    number = 0
    for line in text.split("\n"):
        number += 1
        if not line or line[0] == "#" or line.isspace():
            continue
        match = _FLAT_LINE.fullmatch(line)
        if match is None:
            if not (_read_quoted_line(line, number, data, lines, columns)
                    or _read_flow_line(line, number, data, lines, columns, items)):
                return False
            continue
        key, value = match.groups()
        if " #" in value:
            value = value[: value.index(" #")]
        value = value.rstrip(" ")
        if key in data or ": " in value or value[-1] == ":" or not _plain_key(key):
            return False
        key = sys.intern(key)  # the same few keys in every person's file
        column = match.start(2) + 1
        if _plain_text(value):
            data[key] = value
        else:  # a number, a date, a bool: built as the full reader builds it
            start = yaml.Mark(doc.display_path, 0, number - 1, column - 1, None, 0)
            tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
            data[key] = _Builder(doc).build_scalar(yaml.ScalarNode(tag, value, start_mark=start))
        lines[key] = number
        if column != len(key) + 3:
            columns[key] = column
    if not data:
        return False
    if items:  # the compact positions hold one per key: this file keeps every position, as the full reader does
        doc.data = data
        doc.value_marks = {(): (min(lines.values()), 1),
                           **{(key,): (line, columns.get(key, len(key) + 3)) for key, line in lines.items()}, **items}
        doc.key_marks = {(key,): (line, 1) for key, line in lines.items()}
        return True
    doc.data, doc.flat_lines, doc.flat_columns = data, _shared_shape(lines), columns or None
    return True


def _read_flow_line(line: str, number: int, data: dict[str, Any], lines: dict[str, int], columns: dict[str, int],
                    items: dict[PathKey, tuple[int, int]]) -> bool:
    """Add a `key: [a, b]` line (line `number`) to what `_read_flat_lines` gathers, each word's place
    in `items`; False if it is not one, names a key again or one that is not plain text, or a word
    reads as something other than text (`[1, yes]`)."""
    match = _new_key_line(_FLOW_LINE, line, data)
    if match is None:
        return False
    words = list(_FLOW_WORDS.finditer(line, match.start(2), match.end(2))) if match.group(2) is not None else []
    if not all(_plain_text(word.group()) for word in words):
        return False
    key = _place(match.group(1), [word.group() for word in words], number, line.index("[", match.end(1)) + 1,
                 data, lines, columns)  # the list's place: its opening bracket
    for index, word in enumerate(words):
        items[(key, index)] = (number, word.start() + 1)
    return True


def _read_quoted_line(line: str, number: int, data: dict[str, Any], lines: dict[str, int],
                      columns: dict[str, int]) -> bool:
    """Add a `key: "quoted"` line (line `number`) to what `_read_flat_lines` gathers; False if it is
    not one, or names a key again or one that is not plain text."""
    match = _new_key_line(_QUOTED_LINE, line, data)
    if match is None:
        return False
    double, single = match.group(2), match.group(3)
    # The text between the quotes, placed at the opening quote (counted from 1: the text's start).
    if double is not None:
        _place(match.group(1), double, number, match.start(2), data, lines, columns)
    else:
        _place(match.group(1), single, number, match.start(3), data, lines, columns)
    return True


def _new_key_line(pattern: re.Pattern[str], line: str, data: dict[str, Any]) -> re.Match[str] | None:
    """`pattern`'s match of the whole line, if its key (group 1) is plain text not given before."""
    match = pattern.fullmatch(line)
    if match is None or match.group(1) in data or not _plain_key(match.group(1)):
        return None
    return match


def _place(key: str, value: Any, number: int, column: int, data: dict[str, Any], lines: dict[str, int],
           columns: dict[str, int]) -> str:
    """Keep a key's value, its line and (where it is not one space after `key:`) its column."""
    key = sys.intern(key)  # the same few keys in every person's file
    data[key] = value
    lines[key] = number
    if column != len(key) + 3:
        columns[key] = column
    return key


# Where each key is written, shared by every file that writes the same keys on the same lines
# (one person's file looks like the next: 100,000 copies of one small dict were 27 MB). Never
# changed once made; a few thousand shapes at most are kept, past that each file keeps its own.
_SHAPES: dict[tuple[tuple[str, int], ...], dict[str, int]] = {}
MAX_SHAPES = 4096


def _shared_shape(lines: dict[str, int]) -> dict[str, int]:
    shape = tuple(lines.items())
    shared = _SHAPES.get(shape)
    if shared is not None:
        return shared
    if len(_SHAPES) < MAX_SHAPES:
        _SHAPES[shape] = lines
    return lines


# The first characters that can make a plain value something other than text (digits, signs,
# `~`, `.inf`, letters of yes/no/true/null...): only values starting with one are resolved.
_TYPED_FIRST = frozenset(first for first in _RESOLVER.yaml_implicit_resolvers if first is not None)


@functools.lru_cache(maxsize=1024)
def _plain_key(key: str) -> bool:
    """`_plain_text` for a key: the same dozen keys start every person's file (`family_name`
    and `title` start like `false` and `true`, and went through the resolver's patterns each time)."""
    return _plain_text(key)


def _plain_text(value: str) -> bool:
    """Whether YAML reads this plain scalar as text (not a number, date, bool or null)."""
    return value[0] not in _TYPED_FIRST or _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG
