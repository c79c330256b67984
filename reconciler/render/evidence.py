"""A frozen account's evidence report as markdown, in the reader's language (reconciler/evidence.py
writes it beside its JSON form): for the investigator, the ticket and the incident file."""

from __future__ import annotations

from reconciler.evidence import Evidence
from reconciler.i18n import N_, _, say
from reconciler.plan.incident import describe
from reconciler.render.markdown import cell

PLANNED = {"remove": N_("to remove"), "kept": N_("kept: forwarding inside the company")}
OUTCOMES = {"applied": N_("done"), "failed": N_("failed"), "skipped": N_("skipped")}


def _yes_no(value: bool | None) -> str:
    return _("unknown") if value is None else _("yes") if value else _("no")


def render_evidence(record: Evidence) -> str:
    found = record.found
    health = found.health
    lines = ["# " + _("Incident evidence: {address}").format(address=cell(record.address)), "",
             _("Provider {provider}; read at {read} (UTC), before anything was removed; written at {written}.").format(
                 provider=cell(record.provider), read=record.read_at.isoformat(),
                 written=record.written_at.isoformat() if record.written_at else "-"), "",
             "## " + _("Account"), "",
             "- " + _("2-step verification: {state}").format(state=_yes_no(found.two_step))
             + (f" ({cell(say(found.two_step_unknown))})" if found.two_step_unknown else ""),
             "- " + _("password change required at next sign-in: {state}").format(
                 state=_yes_no(health.password_change_required)), "",
             "## " + _("Recent sign-ins"), ""]
    if health.sign_ins:
        lines += ["| " + " | ".join((_("when (UTC)"), _("IP address"), _("country or place"), _("how"))) + " |",
                  "|---|---|---|---|"]
        lines += [f"| {s.at.isoformat()} | {cell(s.ip or '-')} | {cell(s.place or '-')} | {cell(s.how or '-')} |"
                  for s in health.sign_ins]
    elif "sign_ins" in health.unavailable:
        lines.append(_("Not available: {why}").format(why=cell(say(health.unavailable["sign_ins"]))))
    else:
        lines.append(_("None logged."))
    lines += ["", "## " + _("Found in the account"), ""]
    found_all = [*found.accesses, *found.kept]
    lines += ["- " + _("{what} ({planned})").format(what=cell(say(describe(a))),
                                                     planned=_(PLANNED["kept" if a in found.kept else "remove"]))
              for a in found_all] or [_("Nothing: no forwarding, rule, delegate, OAuth token or app password.")]
    unread = {part: why for part, why in health.unavailable.items() if part in ("forwarding", "rules", "delegates")}
    lines += ["- " + _("Not read: {part}: {why}").format(part=part, why=cell(say(why))) for part, why in unread.items()]
    if found.grants is not None and found.grants.unavailable:
        lines.append("- " + _("OAuth tokens and app passwords not listed: {why}").format(
            why=cell(say(found.grants.unavailable))))
    lines += ["", "## " + _("What the freeze did"), ""]
    for o in record.outcomes:
        outcome = _(OUTCOMES.get(o.outcome, o.outcome))
        line = _("{change}: **{outcome}**").format(change=cell(o.said), outcome=cell(outcome))
        if o.what:
            line = _("{what} ({planned})").format(what=line, planned=cell(say(o.what)))
        lines.append("- " + line + (f": {cell(say(o.error))}" if o.error else ""))
    if not record.outcomes:
        lines.append(_("Nothing was applied."))
    notes = record.notes()
    if notes:
        lines += ["", "## " + _("Notes"), "", *(f"- {cell(_(n))}" for n in notes)]
    return "\n".join(lines) + "\n"
