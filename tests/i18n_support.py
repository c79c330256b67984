"""Finding English left in output that should speak Chinese.

`english_left(text)` names the lines of human output (text, markdown, a PR comment) that still
hold an English sentence: three or more English words in a row, once what is never translated is
taken out (addresses, URLs, paths, options and commands, codes, `inline code`, and the values a test
says are data: names from org/ or the provider). `reconciler.i18n.missing()` catches the messages
that went through `_` without a translation; this catches the ones that never went through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NEVER_TRANSLATED = [
    r"`[^`]*`",                                    # inline code: commands, keys, values
    r"https?://\S+",                               # links
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+",                 # addresses
    r"(?<!\w)--?[a-z][\w-]*(=\S+)?",               # options
    r"\S*[/\\]\S*",                                # paths, folders, org/...
    r"\b[\w-]+\.(ya?ml|json|md|txt|html|po|mo)\b",  # file names
    r"\b[a-z0-9]+(?:[-_.][a-z0-9]+)+\b",           # codes and keys: unmanaged-user, defaults.locale
    r"\breconciler(\s+[a-z][\w-]*)?",              # the command and its subcommand
    r"<[^>]+>",                                    # HTML and markdown tags, <details>
    r"\b[A-Z0-9]{2,}\b",                            # acronyms: MX, SPF, DKIM, DNS, PR
    r"Google Workspace|Microsoft 365|Microsoft Graph|Tencent Exmail|Alibaba Mail|GitHub",  # names
]
ENGLISH_RUN = re.compile(r"\b[A-Za-z][A-Za-z']*(?:[\s,:;.()0-9]+[A-Za-z][A-Za-z']*){2,}\b")


def english_left(text: str, data: Iterable[str] = ()) -> list[str]:
    """Lines of `text` with 3+ English words in a row, ignoring `data` (names and values the
    org/ or the provider holds, which stay as written) and what is never translated."""
    scrubbed_data = sorted({value for value in data if value}, key=len, reverse=True)
    left: list[str] = []
    for line in text.splitlines():
        scrubbed = line
        for value in scrubbed_data:
            scrubbed = scrubbed.replace(value, " ")
        for pattern in NEVER_TRANSLATED:
            scrubbed = re.sub(pattern, " ", scrubbed)
        if ENGLISH_RUN.search(scrubbed):
            left.append(line)
    return left
