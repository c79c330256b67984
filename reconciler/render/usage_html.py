"""The usage report as one self-contained HTML file: inline CSS, charts as inline SVG, no
script, no font or image from anywhere (it must open offline, from a mail attachment, and
show the same thing in ten years). Every name and address is user data: it goes through
`html.escape` and nowhere else, so a `<script>` in a display name is shown, never run."""

from __future__ import annotations

from html import escape

from reconciler import i18n
from reconciler.audit.model import severity_word
from reconciler.i18n import _, say
from reconciler.render.usage import count, megabytes, not_shown, title
from reconciler.usage.model import DepartmentUsage, PersonUsage, UsageSummary

STORAGE_COLOUR = "#2b6cb0"  # blue: storage used
SENT_COLOUR = "#dd6b20"  # orange: mail sent
RECEIVED_COLOUR = "#38a169"  # green: mail received
QUOTA_COLOUR = "#e2e8f0"  # light grey: the quota behind a bar
SEVERITY_COLOUR = {"high": "#c53030", "medium": "#c05621", "low": "#b7791f", "info": "#4a5568"}
BAR_HEIGHT = 18
LABEL_WIDTH = 220
CHART_WIDTH = 520
TREND_WIDTH = 180
TREND_HEIGHT = 36

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 24px; color: #1a202c; background: #ffffff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.summary { color: #4a5568; margin-bottom: 16px; }
.charts { display: flex; flex-wrap: wrap; gap: 32px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 4px 8px; text-align: left; vertical-align: middle; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.finding { border-left: 4px solid; padding: 4px 10px; margin: 6px 0; }
.action { color: #4a5568; }
.missing { background: #fffbea; border: 1px solid #f6e05e; padding: 8px 12px; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
"""


def render_usage_html(summary: UsageSummary) -> str:
    parts = [
        "<!DOCTYPE html>", f'<html lang="{_html_lang()}">', "<head>", '<meta charset="utf-8">',
        # No script, no remote anything: a browser that honours the policy cannot be made to load one.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
        'img-src data:">',
        f"<title>{escape(title(summary))}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>{escape(title(summary))}</h1>", f'<p class="summary">{escape(summary.summary())}</p>',
        '<div class="charts">',
        _department_chart(_("Storage by department"), summary.departments, "storage"),
        _department_chart(_("Mail sent by department, last 30 days"), summary.departments, "sent"),
        "</div>",
    ]
    parts += _findings(summary)
    parts += _missing(summary)
    parts += _people(summary)
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _html_lang() -> str:
    """The page's language, for the browser's fonts and line breaking: 'en' or 'zh-CN'."""
    return "en" if i18n.language() == i18n.SOURCE_LANGUAGE else i18n.language()


def _department_chart(heading: str, departments: list[DepartmentUsage], figure: str) -> str:
    """Horizontal bars, one per department, scaled to the largest."""
    def value(d: DepartmentUsage) -> int:
        return d.used_mb if figure == "storage" else d.sent.get("30d", 0)

    def label(d: DepartmentUsage) -> str:
        return megabytes(d.used_mb) if figure == "storage" else count(d.sent, "30d")

    colour = STORAGE_COLOUR if figure == "storage" else SENT_COLOUR
    largest = max((value(d) for d in departments), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 90
    height = max(1, len(departments)) * (BAR_HEIGHT + 6) + 6
    rows = []
    for i, d in enumerate(departments):
        y = 6 + i * (BAR_HEIGHT + 6)
        width = round(value(d) * span / largest, 1)
        rows.append(
            f'<g class="bar" data-department="{escape(d.department)}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 5}" text-anchor="end" font-size="12">'
            f"{escape(_clip(d.department, 30))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}" fill="{colour}">'
            f"<title>{escape(d.department)}: {escape(label(d))}</title></rect>"
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + BAR_HEIGHT - 5}" font-size="12">{escape(label(d))}</text>'
            "</g>")
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{figure}" width="{CHART_WIDTH}" '
           f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="{escape(heading)}">'
           + "".join(rows) + "</svg>")
    return f"<section><h2>{escape(heading)}</h2>{svg}</section>"


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _findings(summary: UsageSummary) -> list[str]:
    if not summary.findings:
        return []
    heading = _("Findings")
    out = [f"<h2>{escape(heading)}</h2>"]
    for f in summary.findings:
        to_do = _("To do: {action}").format(action=say(f.action))
        out.append(f'<div class="finding" style="border-color:{SEVERITY_COLOUR[f.severity]}">'
                   f"<strong>{escape(severity_word(f.severity).upper())}</strong> <code>{escape(f.code)}</code> "
                   f"{escape(say(f.message))}<br><span class=\"action\">{escape(to_do)}</span></div>")
    return out


def _missing(summary: UsageSummary) -> list[str]:
    lines = not_shown(summary)
    if not lines:
        return []
    heading = _("Not available from the provider:")
    return [f'<div class="missing"><strong>{escape(heading)}</strong><ul>',
            *(f"<li>{escape(line)}</li>" for line in lines), "</ul></div>"]


def _people(summary: UsageSummary) -> list[str]:
    windows = summary.windows
    person, department, storage, trend = _("person"), _("department"), _("storage"), _("trend (90 days)")
    sent, received = _("sent {window}"), _("received {window}")
    head = (f"<tr><th>{escape(person)}</th><th>{escape(department)}</th><th>{escape(storage)}</th><th></th>"
            + "".join(f'<th class="n">{escape(sent.format(window=w))}</th>' for w in windows)
            + "".join(f'<th class="n">{escape(received.format(window=w))}</th>' for w in windows)
            + f"<th>{escape(trend)}</th></tr>")
    rows = []
    suspended_mark = " <small>" + escape(_("(suspended)")) + "</small>"
    for p in summary.people:
        name = f"<br><small>{escape(p.name)}</small>" if p.name else ""
        suspended = suspended_mark if p.suspended else ""
        rows.append(
            f'<tr data-address="{escape(p.address)}"><td>{escape(p.address)}{suspended}{name}</td>'
            f"<td>{escape(p.department)}</td><td>{_quota_bar(p)}</td>"
            f'<td class="n">{escape(megabytes(p.used_mb))}</td>'
            + "".join(f'<td class="n">{count(p.sent, w)}</td>' for w in windows)
            + "".join(f'<td class="n">{count(p.received, w)}</td>' for w in windows)
            + f"<td>{_trend(p)}</td></tr>")
    words = {"trend": _("Trend:"), "storage": _("storage"), "sent": _("sent a day"), "received": _("received a day")}
    legend = (f'<p class="legend">{escape(words["trend"])} <span style="background:{STORAGE_COLOUR}"></span>'
              f'{escape(words["storage"])} <span style="background:{SENT_COLOUR}"></span>{escape(words["sent"])} '
              f'<span style="background:{RECEIVED_COLOUR}"></span>{escape(words["received"])}</p>')
    return ["<h2>" + escape(_("People")) + "</h2>", legend, "<table>", head, *rows, "</table>"]


def _quota_bar(p: PersonUsage) -> str:
    if p.percent is None:
        return ""
    share = min(p.percent, 100.0)
    colour = SEVERITY_COLOUR["high"] if p.percent >= 100 else STORAGE_COLOUR
    percent = f"{p.percent:g}%"  # the sign in the value: Babel reads "% o" in a template as printf's %o
    label = _("{percent} of quota").format(percent=percent)
    tip = _("{percent} of {quota}").format(percent=percent, quota=megabytes(p.quota_mb))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="quota" width="100" height="12" role="img" '
            f'aria-label="{escape(label)}"><rect width="100" height="12" fill="{QUOTA_COLOUR}"/>'
            f'<rect width="{share:g}" height="12" fill="{colour}"/><title>{escape(tip)}</title></svg>')


def _trend(p: PersonUsage) -> str:
    """Daily history: a storage line over sent and received bars. Without history (Microsoft's
    reports give totals per period): the daily average of each window as bars."""
    if p.history:
        return _daily_trend(p)
    if p.sent or p.received:
        return _period_bars(p)
    return ""


def _daily_trend(p: PersonUsage) -> str:
    """Two bands: storage as a line on top; below, mails sent a day as bars (a heavy sender's
    spike stands out) and mails received a day as a line."""
    days = p.history
    step = TREND_WIDTH / max(1, len(days))
    band = TREND_HEIGHT // 2 - 2  # the height of each band
    low_top = TREND_HEIGHT - band  # where the mail band begins
    peak_mail = max((max(d.sent or 0, d.received or 0) for d in days), default=0) or 1
    used = [d.used_mb for d in days if d.used_mb is not None]
    low, high = (min(used), max(used)) if used else (0, 0)
    bars, storage, received = [], [], []
    for i, d in enumerate(days):
        x = round(i * step, 1)
        middle = round(x + step / 2, 1)
        if d.sent:
            h = round(d.sent * band / peak_mail, 1)
            bars.append(f'<rect x="{x}" y="{round(TREND_HEIGHT - h, 1)}" width="{max(round(step - 0.4, 1), 0.6)}" '
                        f'height="{h}" fill="{SENT_COLOUR}"/>')
        if d.received is not None:
            received.append(f"{middle},{round(TREND_HEIGHT - (d.received * band / peak_mail), 1)}")
        if d.used_mb is not None:
            y = band / 2 + 1 if high == low else 1 + (high - d.used_mb) * band / (high - low)
            storage.append(f"{middle},{round(y, 1)}")
    lines = "".join(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="1.2"/>'
                    for points, colour in ((storage, STORAGE_COLOUR), (received, RECEIVED_COLOUR)) if points)
    span = escape(_("{first} to {last}").format(first=days[0].date.isoformat(), last=days[-1].date.isoformat()))
    separator = f'<line x1="0" y1="{low_top - 1}" x2="{TREND_WIDTH}" y2="{low_top - 1}" stroke="{QUOTA_COLOUR}"/>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="trend daily" width="{TREND_WIDTH}" '
            f'height="{TREND_HEIGHT}" role="img" aria-label="{span}"><title>{span}</title>'
            + separator + "".join(bars) + lines + "</svg>")


def _period_bars(p: PersonUsage) -> str:
    """Average mails a day over each window: a rising rate shows as taller bars on the right
    (7 days) than on the left (90 days)."""
    windows = [w for w in ("90d", "30d", "7d") if w in p.sent or w in p.received]
    rates = {w: (p.sent.get(w, 0) / int(w[:-1]), p.received.get(w, 0) / int(w[:-1])) for w in windows}
    peak = max((max(s, r) for s, r in rates.values()), default=0) or 1
    width = TREND_WIDTH / max(1, len(windows))
    shapes = []
    for i, w in enumerate(windows):
        for j, (rate, colour) in enumerate(zip(rates[w], (SENT_COLOUR, RECEIVED_COLOUR), strict=True)):
            h = round(rate * (TREND_HEIGHT - 12) / peak, 1)
            x = round(i * width + j * width / 3 + 4, 1)
            shapes.append(f'<rect x="{x}" y="{round(TREND_HEIGHT - 12 - h, 1)}" width="{round(width / 3 - 2, 1)}" '
                          f'height="{h}" fill="{colour}"/>')
        shapes.append(f'<text x="{round(i * width + 4, 1)}" y="{TREND_HEIGHT - 1}" font-size="9">{w}</text>')
    label, tip = escape(_("mails a day by period")), escape(_("mails a day over the last 90, 30 and 7 days"))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="trend periods" width="{TREND_WIDTH}" '
            f'height="{TREND_HEIGHT}" role="img" aria-label="{label}"><title>{tip}</title>' + "".join(shapes)
            + "</svg>")
