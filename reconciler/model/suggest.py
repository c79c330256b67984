"""'Did you mean ...?' hints for misspelt keys and references."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from reconciler.i18n import _


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `word`, or None when nothing is close."""
    options = sorted(set(candidates))
    # The same word in other case first: difflib weighs 'zh-hk' as close to 'zh-TW' as to 'zh-HK'.
    close = [o for o in options if o.lower() == word.lower()]
    if not close:
        close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'sales'?)', or '' when nothing is close: a hint that ends a sentence, in
    parentheses, so it reads as one in every language."""
    found = closest(word, candidates)
    return _(" (did you mean {suggestion}?)").format(suggestion=repr(found)) if found is not None else ""
