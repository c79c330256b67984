"""`--help` and usage errors in the reader's language.

Typer reads every command's and option's help when the module defining them is imported,
before the language of the run is chosen; those texts are marked with `N_` and translated
here, on the Click command Typer builds for each run (`typer.main.get_command` makes new
objects every time, so the app itself keeps the English for the next run in the process).

Typer's own words come from two places. Its help page's titles and tags are constants of
`typer.rich_utils`, read when a page is drawn: they are set to the translation for a run in
Chinese and given back their English for a run in English. Its copy of Click writes usage
errors and "Usage:" as plain English strings (no gettext): the usage line is written again
with a translated prefix, and the errors are recognised by their English shape and said again
(an error of a shape not listed stays in English, which a test would show).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

import typer
import typer.main
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from reconciler import i18n
from reconciler.i18n import N_, _

# typer.rich_utils constant -> its words, wrapped as Typer shows them ("[default: {}]").
# The brackets stay outside the message: a translation keeps exactly the source's markup.
HELP_PAGE_WORDS: dict[str, tuple[str, str, str]] = {
    "ARGUMENTS_PANEL_TITLE": ("", N_("Arguments"), ""),
    "OPTIONS_PANEL_TITLE": ("", N_("Options"), ""),
    "COMMANDS_PANEL_TITLE": ("", N_("Commands"), ""),
    "DEFAULT_STRING": ("[", N_("default: {value}"), "]"),
    "ENVVAR_STRING": ("[", N_("env var: {value}"), "]"),
    "REQUIRED_LONG_STRING": ("[", N_("required"), "]"),
    "DEPRECATED_STRING": ("(", N_("deprecated"), ") "),
}
SHOW_HELP = "Show this message and exit."  # the help option's own help, in Typer's Click
N_("Show this message and exit.")
N_("Usage: ")

# Usage errors as Typer's Click words them -> the same error as a message of ours.
USAGE_ERRORS: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern, re.DOTALL), message) for pattern, message in [
    (r"No such option: (?P<option>\S+) \(Possible options: (?P<options>.+)\)",
     N_("No such option: {option} (did you mean: {options})")),
    (r"No such option: (?P<option>\S+)", N_("No such option: {option}")),
    (r"Missing argument (?P<name>.+)\.", N_("Missing argument {name}.")),
    (r"Missing option (?P<name>.+?)\.", N_("Missing option {name}.")),
    (r"Missing parameter (?P<name>.+)\.", N_("Missing parameter {name}.")),
    (r"Missing command\.", N_("Missing command.")),
    (r"Invalid value for (?P<name>.+?): (?:Value error, )?(?P<value>.+) is not one of (?P<choices>.+)\.",
     N_("Invalid value for {name}: {value} is not one of {choices}.")),
    (r"Invalid value for (?P<name>.+?): Input should be a valid integer, unable to parse string as an integer",
     N_("Invalid value for {name}: it should be a whole number.")),
    (r"Invalid value for (?P<name>.+?): Input should be a valid number, unable to parse string as a number",
     N_("Invalid value for {name}: it should be a number.")),
    (r"Invalid value for (?P<name>.+?): Input should be greater than or equal to (?P<bound>\S+)",
     N_("Invalid value for {name}: it should be at least {bound}.")),
    (r"Invalid value for (?P<name>.+?): Input should be less than or equal to (?P<bound>\S+)",
     N_("Invalid value for {name}: it should be at most {bound}.")),
    (r"Invalid value for (?P<name>.+?): (?P<problem>.+)", N_("Invalid value for {name}: {problem}")),
    (r"Got unexpected extra argument\(s\) \((?P<arguments>.+)\)", N_("Unexpected extra arguments ({arguments})")),
    (r"No such command (?P<name>'.+?')\. Did you mean (?P<suggestions>.+)\?",
     N_("No such command {name}. Did you mean {suggestions}?")),
    (r"No such command (?P<name>'.+?')\.", N_("No such command {name}.")),
    (r"Option (?P<name>'.+?') requires an argument\.", N_("Option {name} requires an argument.")),
    (r"Option (?P<name>'.+?') requires (?P<count>\d+) arguments\.", N_("Option {name} requires {count} arguments.")),
]]


def said_usage_error(message: str) -> str:
    """A usage error of Typer's Click (`format_message()`) in the reader's language."""
    if i18n.language() == i18n.SOURCE_LANGUAGE:
        return message
    for pattern, said in USAGE_ERRORS:
        if found := pattern.fullmatch(message):
            return _(said).format(**found.groupdict())
    return message


# typer.rich_utils loads Rich's markdown and syntax highlighting (markdown_it, pygments), which
# only a help page draws: a run that draws none never imports it. It is changed when a page is
# drawn in another language (each command's format_help says it first), and given its English
# back at the end of every run that loaded it. Its English is kept on first import, before any change.
RICH_UTILS = "typer.rich_utils"


@cache
def _typer_help_page() -> tuple[ModuleType, dict[str, Any]]:
    """typer.rich_utils and its English, as Typer made them."""
    import typer.rich_utils as rich_utils

    english = {name: getattr(rich_utils, name) for name in HELP_PAGE_WORDS}
    english.update(_get_parameter_help=rich_utils._get_parameter_help,
                   _make_command_help=rich_utils._make_command_help)
    return rich_utils, english


def speak_help_page(*, drawing: bool = False) -> None:
    """Typer's help-page words in the language of this run (English given back for English).

    Unless a page is `drawing`, a typer.rich_utils not yet loaded is left so: nothing reads it.
    """
    english = i18n.language() == i18n.SOURCE_LANGUAGE
    if RICH_UTILS not in sys.modules and (english or not drawing):
        return  # never loaded, so never changed: Typer loads it in English if it draws a page
    rich_utils, typer_english = _typer_help_page()
    if english:
        for name, value in typer_english.items():
            setattr(rich_utils, name, value)
        return
    for name, (before, words, after) in HELP_PAGE_WORDS.items():
        setattr(rich_utils, name, before + _(words).format(value="{}") + after)
    rich_utils._get_parameter_help = _folded_parameter_help  # type: ignore[attr-defined]
    rich_utils._make_command_help = _folded_command_help  # type: ignore[attr-defined]


# Rich wraps a line only at spaces, and a Chinese sentence has none: an option's help longer
# than its column would be cut with "…". A Chinese line may break between any two characters
# (never before a closing mark like "，" or after an opening one like "（"), and not inside a
# Latin word: the help is wrapped that way. English keeps Typer's own, unchanged.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CLOSING = "，。：；、）》」』！？"
_OPENING = "（《「『"
# A unit no line breaks inside: a space run, or a Chinese character (with the opening marks
# before it and the closing marks after it), or a run of anything else (a Latin word, `--opt`).
_UNIT = re.compile(rf"\s+|[{_OPENING}]*(?:[{_CJK}]|[^\s{_CJK}]+)[{_CLOSING}]*")


def _folded_command_help(**given: Any) -> Any:
    shown = _typer_help_page()[1]["_make_command_help"](**given)
    return ChineseWrapped(shown) if isinstance(shown, Text) else shown


def _folded_parameter_help(**given: Any) -> Any:
    columns = _typer_help_page()[1]["_get_parameter_help"](**given)
    columns.renderables = [ChineseWrapped(item) if isinstance(item, Text) else item for item in columns.renderables]
    return columns


class ChineseWrapped:
    """A Text wrapped as Chinese is: at spaces and between Chinese characters."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        units = [cell_len(unit) for unit in _UNIT.findall(self.text.plain) if not unit.isspace()]
        return Measurement(max(units, default=0), cell_len(self.text.plain)).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for paragraph in self.text.split("\n"):
            for line in paragraph.divide(break_offsets(paragraph.plain, options.max_width)):
                line.rstrip()  # a line breaks before a unit, so only its end can hold spaces
                line.overflow = "fold"  # a single unit wider than the column (a long path) is folded
                yield line


def break_offsets(plain: str, width: int) -> list[int]:
    """Where `plain` breaks to fit `width` cells: before the unit that would not fit."""
    offsets: list[int] = []
    used = 0
    for found in _UNIT.finditer(plain):
        unit = found.group()
        size = cell_len(unit)
        if unit.isspace():
            used += size
        elif used and used + size > width:
            offsets.append(found.start())
            used = size
        else:
            used += size
    return offsets


def command_of(app: typer.Typer) -> Any:
    """The Click command of `app` for this run: its help texts in the reader's language."""
    speak_help_page()
    command = typer.main.get_command(app)
    if i18n.language() != i18n.SOURCE_LANGUAGE:
        _translate(command)
    return command


def _translate(command: Any) -> None:
    for attribute in ("help", "short_help"):
        if text := getattr(command, attribute, None):
            setattr(command, attribute, _(text))
    for param in command.params:
        if text := getattr(param, "help", None):
            param.help = _(text)
    command.get_help_option = _with_translated_help(command.get_help_option)
    command.format_usage = _usage_with_prefix(command)
    command.format_help = _speaking_first(command.format_help)
    for sub in getattr(command, "commands", {}).values():
        _translate(sub)


def _with_translated_help(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The help option, made by Typer's Click on first use, with its help translated."""
    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None and option.help == SHOW_HELP:
            option.help = _(SHOW_HELP)
        return option
    return get_help_option


def _speaking_first(format_help: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """A command's format_help that puts Typer's help-page words in this run's language first."""
    def speaking_format_help(ctx: Any, formatter: Any) -> None:
        speak_help_page(drawing=True)
        format_help(ctx, formatter)
    return speaking_format_help


def _usage_with_prefix(command: Any) -> Callable[[Any, Any], None]:
    def format_usage(ctx: Any, formatter: Any) -> None:
        pieces = command.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=_("Usage: "))
    return format_usage
