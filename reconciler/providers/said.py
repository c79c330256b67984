"""Provider errors said twice: in the reader's language where the CLI prints them (once, as the
run's error line) and in English where JSON carries them (an access check's detail, a doctor's
"not available" reason), so JSON never changes with the language.

`said(error, text)` gives `error` the message `text` in the reader's language and keeps `text`
(an i18n.Text, English as a str) on it; `english(error)` is that Text (or the Text an error was
made with, as a change's failure is: its result is said where shown), or the message as it was for
an error made without one (a service's own answer, already the same in every language).
"""

from __future__ import annotations

from typing import TypeVar

from reconciler.i18n import Text, say

E = TypeVar("E", bound=BaseException)


def said(error: E, text: Text) -> E:
    error.args = (say(text), *error.args[1:])
    error.text = text  # type: ignore[attr-defined]  # any exception may carry one
    return error


def english(error: BaseException) -> str:
    """The error's sentence for JSON: English, said in the reader's language where shown (its
    Text, kept by `said` or given as the error's message), else its message as it is."""
    text = getattr(error, "text", None)
    if isinstance(text, Text):
        return text
    if len(error.args) == 1 and isinstance(error.args[0], Text):
        return error.args[0]
    return str(error)
