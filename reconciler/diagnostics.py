"""One shape for everything a report tells an admin: plan warnings, safety violations, failed
changes, audit findings and DNS problems each carry a stable `code` (for scripts and `jq`),
a `severity`, the `subject` it is about, a one-line `message`, and what to do (`action`)
where there is something to do.

Severities, lowest first: info (worth knowing), low (tidy up when convenient), medium (fix
soon: something does not work as intended), high (fix now: a risk, or an apply refused).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, WrapValidator

from reconciler.i18n import Text, _, say

Severity = Literal["info", "low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high")
RANK: dict[Severity, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def _keep_text(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """pydantic makes every `str` subclass a plain `str`: a `Text` would lose its template."""
    return value if isinstance(value, Text) else handler(value)


# A sentence a person reads: a `Text` (translated where shown) or a plain string; English in JSON.
Sentence = Annotated[str, WrapValidator(_keep_text)]


class Diagnostic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(description="Stable machine code, like unmanaged-user or max-deletes.")
    severity: Severity
    subject: str | None = Field(None, description="What it is about: an address, a kind, a field, a domain.")
    message: Sentence = Field(description="What is the matter, in one sentence.")
    action: Sentence | None = Field(None, description="What to do about it, where there is something to do.")

    @property
    def text(self) -> str:
        """The message and what to do, as one line, in English (logs, JSON)."""
        return f"{self.message}; {self.action}" if self.action else self.message

    def said(self) -> str:
        """The message and what to do, as one line, in the reader's language."""
        if not self.action:
            return say(self.message)
        return _("{message}; {action}").format(message=say(self.message), action=say(self.action))
