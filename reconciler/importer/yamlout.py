"""Write org/ files as a person would: block mappings, short lists in flow style, UTF-8
text as it is, and every string that a YAML reader could take for something else quoted."""

from __future__ import annotations

import re
from typing import Any

import yaml

# Strings YAML 1.1 (PyYAML, our loader) or 1.2 (editors' yaml-language-server) would read as
# booleans or nulls; PyYAML itself only knows the 1.1 ones.
_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", ".nan", "inf", ".inf"}
# Starts like a number (ids, phones, zip codes, '007', '1e3', '+86 ...', '.5'): always quoted.
_NUMERIC_START = re.compile(r"^[-+.]?[0-9]")
# Line breaks YAML knows besides \n: a block scalar would read them back as \n, so text holding one
# is written double-quoted, where they are escaped (\r, \N, \L, \P).
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
FLOW_WIDTH = 100  # lists longer than this when written inline go one item a line


class Flow(list[Any]):
    """A list written inline, `[a, b]`, as the example org writes short lists."""


class Quoted(str):
    """A string always written in double quotes (phone numbers)."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key, as people write them


def _needs_quotes(text: str) -> bool:
    return text.lower() in _WORDS or bool(_NUMERIC_START.match(text)) or text != text.strip()


def _plain(dumper: yaml.SafeDumper, text: str) -> bool:
    analysis = dumper.analyze_scalar(text)
    return bool(analysis.allow_block_plain and analysis.allow_flow_plain)


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in text.rstrip("\n") and text == text.strip(" ") and not any(b in text for b in _OTHER_BREAKS):
        style = "|"  # a paragraph reads as one
    elif isinstance(text, Quoted) or _needs_quotes(text) or not _plain(dumper, text):
        style = '"'  # one quoting style throughout, as the example org uses
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style=style)


def _flow(dumper: yaml.SafeDumper, items: Flow) -> yaml.SequenceNode:
    inline = sum(len(str(i)) + 2 for i in items) <= FLOW_WIDTH and all(isinstance(i, str) for i in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(items), flow_style=inline)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Quoted, _str)
_Dumper.add_representer(Flow, _flow)


def dump_yaml(data: Any, header: list[str]) -> str:
    """The document with its comment lines (the `$schema` line first) above it."""
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=1_000_000, indent=2)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return lines + body


def schema_line(schema: str, depth: int) -> str:
    """`yaml-language-server: $schema=../schemas/x.schema.json` from a file `depth` folders below org/."""
    return f"yaml-language-server: $schema={'../' * (depth + 1)}schemas/{schema}"
