"""The command line: parses options, calls the pipeline, prints, and picks exit codes.

Only this module prints. Exit codes: 0 success, 1 error (invalid input,
refused plan, failed apply), 2 `plan --detailed-exitcode` with changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from reconciler import i18n
from reconciler.errors import ProviderError, UnsafePlan, UserError, ValidationFailed
from reconciler.i18n import N_, _, ngettext, say
from reconciler.model.loader import org_locale
from reconciler.plan.prepare import load_checked, validate_org
from reconciler.render.help import command_of, said_usage_error, speak_help_page
from reconciler.render.limits import GITHUB_COMMENT_LIMIT

# What only some commands use is imported in them: every run, `--version` and `validate`
# included, would otherwise load the mail step (smtplib, ssl, email), the apply and plan
# machinery and Rich's progress bars. tests/test_cli_imports.py keeps it that way.
if TYPE_CHECKING:
    from reconciler.apply import ApplyReport
    from reconciler.changes import ChangeResult, Plan, Violation
    from reconciler.mail.onboarding import DeliveryReport
    from reconciler.model.org import Org


def _show_flags_without_a_type() -> None:
    """Help shows ``--yes`` alone, not ``--yes <bool>``.

    Recent Typer prints a value type after every option, on/off flags included, which reads as
    if ``--yes`` needed a value. Flags take none, so their type column stays empty.
    """
    option_class = getattr(typer.core, "TyperOption", None)
    shown_type = getattr(option_class, "display_type_rich", None)
    if option_class is None or shown_type is None:
        return

    def display_type_rich(self: typer.core.TyperOption, ctx: object) -> str | None:
        if getattr(self, "is_flag", False):
            return None
        return shown_type(self, ctx)

    option_class.display_type_rich = display_type_rich


_show_flags_without_a_type()

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help=N_("GitOps for a company's mail and identity directory."))
# emoji=False: rich would print "org/users/x.yaml:100:3" as "org/users/x.yaml💯3" (":100:" is an emoji code).
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


class PlanFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    comment = "comment"  # markdown for a pull-request comment: marker, commit, cut to --max-chars


class ValidateFormat(StrEnum):
    text = "text"
    github = "github"  # also every problem as a GitHub annotation (::error file=...,line=...::) on stdout


@dataclass(frozen=True)
class CommentOptions:
    """What `plan --format comment` adds to the markdown plan."""

    commit: str | None = None
    artifact_hint: str | None = None
    max_chars: int = GITHUB_COMMENT_LIMIT - 536  # room for the marker a sticky-comment action appends


class Options:
    org_dir: Path = Path("org")
    debug: bool = False


OPTIONS = Options()
ProviderOpt = Annotated[
    str | None,
    typer.Option("--provider", help=N_("local, local:PATH, google, microsoft, exmail or alimail; default: org.yaml.")),
]
TodayOpt = Annotated[dt.datetime | None, typer.Option("--today", hidden=True, formats=["%Y-%m-%d"])]
CommitOpt = Annotated[str | None, typer.Option("--commit", help=N_("The commit this runs at, named in the comment "
                                                                 "or summary."))]
# Set by CI jobs that only read (plan, drift check): `apply` refuses to run there.
READ_ONLY_ENV = "RECONCILER_READ_ONLY"


def _show_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        sys.stdout.write(f"reconciler {version('reconciler')}\n")
        raise typer.Exit(0)


@app.callback()
def main_options(
    org: Annotated[Path, typer.Option("--org", help=N_("The org/ folder."))] = Path("org"),
    lang: Annotated[str | None, typer.Option(
        "--lang", help=N_("The language of messages: en-US or zh-CN. Default: RECONCILER_LANG, then org.yaml's "
                       "defaults.locale, then the system's locale."))] = None,
    debug: Annotated[bool, typer.Option("--debug", help=N_("Show tracebacks of internal errors."))] = False,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_show_version,
                                          help=N_("Print the version and exit."))] = False,
) -> None:
    OPTIONS.org_dir = org
    OPTIONS.debug = debug


@app.command(help=N_("Check org/ offline: schema, references, naming, duplicates. Reports every problem."))
def validate(
    fmt: Annotated[ValidateFormat, typer.Option(
        "--format", help=N_("text, or github: also print each problem as a GitHub annotation on stdout."))
    ] = ValidateFormat.text,
) -> None:
    org, issues = load_checked(OPTIONS.org_dir)
    try:
        resolved = validate_org(org, issues, accounts=False)  # checks and counts only: no accounts built
    except ValidationFailed as failed:
        if fmt is ValidateFormat.github:
            from reconciler.render.github import render_annotations

            sys.stdout.write(render_annotations(failed.issues))
            sys.stdout.flush()
        raise
    err.print(_("[green]org/ is valid[/]: {users} users, {groups} groups, {departments} departments, "
                "{domains} domains, {memberships} memberships.").format(
        users=len(org.users), groups=len(org.groups), departments=len(org.departments), domains=len(org.domains),
        memberships=len(resolved.desired.of("membership"))))


def _print_plan(plan: Plan, fmt: PlanFormat, comment: CommentOptions | None = None) -> None:
    from reconciler.render import render_json, render_markdown, write_text
    from reconciler.render.github import render_comment

    if fmt is PlanFormat.json:
        sys.stdout.write(render_json(plan))
    elif fmt is PlanFormat.comment:
        options = comment or CommentOptions()
        sys.stdout.write(render_comment(plan, commit=options.commit, limit=options.max_chars,
                                        artifact_hint=options.artifact_hint))
    elif fmt is PlanFormat.markdown:
        sys.stdout.write(render_markdown(plan))
    else:
        write_text(plan, sys.stdout, colour=sys.stdout.isatty())
    sys.stdout.flush()


def _today(today: dt.datetime | None) -> dt.date:
    return today.date() if today else dt.date.today()


@app.command(help=N_("Read the provider, diff it against org/, check safety limits and print the plan."))
def plan(
    provider: ProviderOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help=N_("Save the plan (JSON) for `apply FILE`."))] = None,
    fmt: Annotated[PlanFormat, typer.Option(
        "--format", help=N_("text, markdown, json, or comment (markdown for a pull-request comment)."))
    ] = PlanFormat.text,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help=N_("Exit 2 when there are changes."))
    ] = False,
    commit: CommitOpt = None,
    artifact_hint: Annotated[str | None, typer.Option(
        "--artifact-hint", help=N_("With --format comment: where the full plan is when the comment is cut (markdown)."))
    ] = None,
    max_chars: Annotated[int, typer.Option(
        "--max-chars", min=2000, help=N_("With --format comment: cut the comment to this many characters."))
    ] = CommentOptions.max_chars,
    today: TodayOpt = None,
    check_dns: Annotated[bool, typer.Option(
        "--dns", help=N_("Also check DNS; findings become plan warnings."))] = False,
    nameserver: Annotated[str | None, typer.Option("--nameserver", help=N_("HOST[:PORT] for --dns."))] = None,
) -> None:
    from reconciler.plan.build import build_plan
    from reconciler.plan.saved import save_plan
    from reconciler.providers import open_provider
    from reconciler.render.github import render_annotations, render_violations

    org, issues = load_checked(OPTIONS.org_dir)
    with open_provider(provider, org, read_only=True) as handle:
        try:
            result = build_plan(org, issues, handle, _today(today)).plan
        except ValidationFailed as failed:
            if fmt is PlanFormat.comment:  # in CI: annotate the files as `validate --format github` does
                sys.stderr.write(render_annotations(failed.issues))
            raise
        if check_dns:
            from reconciler.dns.run import dns_warnings

            result.warnings.extend(dns_warnings(org, handle.name, nameserver,
                                                records_from_provider=handle.dns_records))
    if out is not None:
        save_plan(result, out)
        err.print(_("Plan saved to {path}.").format(path=escape(str(out))))
    _print_plan(result, fmt, CommentOptions(commit, artifact_hint, max_chars))
    if result.violations:
        if fmt is PlanFormat.comment:
            sys.stderr.write(render_violations(result.violations))
        raise UnsafePlan(_("the plan breaks safety limits:") + "\n  "
                         + "\n  ".join(v.said() for v in result.violations))
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(2)


def _confirm(plan: Plan, count: int) -> None:
    from reconciler.render import write_text

    write_text(plan, sys.stdout, colour=sys.stdout.isatty())
    if not sys.stdin.isatty():
        raise UserError(_("not applying: no terminal to confirm on; pass --yes to apply without asking"))
    # The answer stays the word `yes` in every language: typed on purpose, never a reflex.
    answer = typer.prompt(_("Apply these {count} changes? Only 'yes' will be accepted").format(count=count))
    if answer.strip() != "yes":
        raise UserError(_("apply cancelled"))


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[ChangeResult], None]]:
    """A bar on a terminal; in CI logs, one line per change for small plans, every 10% for large ones."""
    if err.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(_("applying")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task("apply", total=total)
            yield lambda result: bar.advance(task)
        return
    done = 0
    step = max(1, total // 10)

    def log(result: ChangeResult) -> None:
        nonlocal done
        done += 1
        if total <= 200:
            err.print(_("{outcome} {change}").format(outcome=_(OUTCOME_WORDS[result.outcome]),
                                                     change=escape(result.change.said_label())))
        elif done % step == 0 or done == total:
            err.print(_("applied {done}/{total} changes").format(done=done, total=total))

    yield log


# What became of a change, as the progress and failure lines say it.
OUTCOME_WORDS = {"applied": N_("applied"), "failed": N_("failed"), "skipped": N_("skipped"),
                 "not-attempted": N_("not attempted")}


def _report(report: ApplyReport, hand_over: list[str], evidence: Sequence[tuple[str, str]] = ()) -> None:
    counts = report.counts()
    for result in report.failed:
        outcome = _(OUTCOME_WORDS["not-attempted" if result.code == "not-attempted" else result.outcome])
        err.print(_("[red]{outcome}[/]: {change}: {error}").format(
            outcome=outcome, change=escape(result.change.said_label()), error=escape(say(result.error or ""))))
    stopped = report.stopped
    if stopped is not None:
        if stopped.bug and OPTIONS.debug:
            sys.stderr.write("".join(traceback.format_exception(stopped.error)))
        line = _("[red]The apply stopped[/]: {reason}").format(reason=escape(say(stopped.message)))
        if stopped.bug:
            line += "\n" + _("This is a bug in reconciler; run again with --debug for the traceback and report it.")
        err.print(line)
    not_attempted = sum(1 for r in report.results if r.code == "not-attempted")
    numbers = {"applied": counts["applied"], "failed": counts["failed"],
               "skipped": counts["skipped"] - not_attempted, "not_attempted": not_attempted}
    if stopped is not None:
        err.print(_("Applied {applied}, failed {failed}, skipped {skipped}, not attempted {not_attempted}.").format(
            **numbers))
    else:
        err.print(_("Applied {applied}, failed {failed}, skipped {skipped}.").format(**numbers))
    if hand_over:
        # One address per line: a first apply of a whole company lists thousands, to grep or keep.
        err.print(_("[yellow]First passwords to hand over in person[/] ({count}; nothing mailed them: "
                    "reset each at the provider, then hand it over):").format(count=len(hand_over))
                  + "\n  " + escape("\n  ".join(hand_over)))
    for address, path in evidence:
        err.print(escape(_("Incident evidence for {address}: {path}").format(address=address, path=path)))
    if not report.ok:
        raise UserError(_("{count} changes were not applied; fix the cause and run apply again (it converges)").format(
            count=counts["failed"] + counts["skipped"]))


def _print_mail(report: str) -> None:
    if report:
        err.print(escape(report.rstrip()))


@app.command(help=N_("Apply a saved plan (refused if the provider changed since), or plan and apply."))
def apply(
    plan_file: Annotated[Path | None, typer.Argument(
        metavar="[FILE]", help=N_("A plan saved with `plan --out`."))] = None,
    provider: ProviderOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help=N_("Apply without asking."))] = False,
    summary: Annotated[Path | None, typer.Option(
        "--summary", help=N_("Also write what was done as markdown (a CI job summary or pull-request comment)."))
    ] = None,
    commit: CommitOpt = None,
    today: TodayOpt = None,
) -> None:
    from reconciler.apply import ApplyReport, Stopped, apply_changes, changes_to_apply
    from reconciler.evidence import finish_evidence, start_evidence, write_evidence
    from reconciler.mail.step import OnboardingMail
    from reconciler.providers import open_provider, provider_kind
    from reconciler.render import render_text
    from reconciler.render.evidence import render_evidence
    from reconciler.render.github import render_apply_summary

    if os.environ.get(READ_ONLY_ENV) == "1":
        raise UserError(_("not applying: {variable}=1 marks this job as read-only (a plan or drift check); "
                          "changes are applied by the apply workflow").format(variable=READ_ONLY_ENV))

    evidence: list[tuple[str, str]] = []  # (frozen address, its evidence report), once the apply wrote them

    def write_summary(report: ApplyReport, violations: list[Violation] | None = None,
                      delivered: DeliveryReport | None = None, handover: Sequence[str] = ()) -> None:
        if summary is not None:
            summary.write_text(render_apply_summary(report, commit=commit, violations=violations or [],
                                                    mail=delivered, handover=handover, evidence=evidence),
                               encoding="utf-8")

    org, issues = load_checked(OPTIONS.org_dir)
    with OnboardingMail(org, org.settings.onboarding, provider_kind(provider, org)) as mail:
        with open_provider(provider, org) as handle:  # closed (locks, connections) before the mail step
            try:
                the_plan, changes, frozen = changes_to_apply(org, issues, handle, plan_file, _today(today))
            except ProviderError as error:  # the provider cannot be read: nothing was changed
                write_summary(ApplyReport(stopped=Stopped(str(error), False, error)))
                raise
            if the_plan.violations:
                write_summary(ApplyReport(), the_plan.violations)
                sys.stdout.write(render_text(the_plan))
                limits = "\n  ".join(v.said() for v in the_plan.violations)
                raise UnsafePlan(_("refusing to apply: the plan breaks safety limits:") + f"\n  {limits}")
            if not changes:
                err.print(_("No changes to apply. The provider matches org/."))
                mail.settle(changes)
                _print_mail(mail.deliver())  # what an earlier apply could not send
                write_summary(ApplyReport(), delivered=mail.report)
                mail.raise_if_unsent()
                return
            mail.check(changes)  # new people's passwords must be mailable before they are created
            mail.settle(changes)  # what an apply killed mid-wave left: does that account exist now?
            if not yes:
                _confirm(the_plan, len(changes))
            records = start_evidence(frozen, changes, handle.name)  # what the plan read, before any removal
            with _progress(len(changes)) as progress:
                report = apply_changes(changes, handle, progress, on_created=mail.on_created,
                                       on_creating=mail.on_creating)
            finish_evidence(records, report)
            evidence += [(r.address, _shown_path(path, org.root))
                         for r, path in zip(records, write_evidence(records, org.root, render_evidence), strict=True)]
        hand_over = _hand_over(org, report)
        write_summary(report, handover=hand_over)  # first: it must exist even if the mail step fails badly
        _print_mail(mail.deliver())
        write_summary(report, delivered=mail.report, handover=hand_over)
        _report(report, hand_over, evidence)
        mail.raise_if_unsent()


def _shown_path(path: Path, root: Path) -> str:
    """An evidence file as the summary names it: relative to the folder holding org/ where it can be."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _hand_over(org: Org, report: ApplyReport) -> list[str]:
    """New people this apply created whose first password nothing mails: IT hands it over."""
    from reconciler.mail.routes import first_password_routes

    created = [r.change for r in report.results if r.ok]
    return [route.address for route in first_password_routes(org, created) if route.in_person]


@app.command(help=N_("Check MX, SPF, DKIM, DMARC and verification records of every domain against what the "
                     "provider needs."))
def dns(
    provider: ProviderOpt = None,
    nameserver: Annotated[str | None, typer.Option(
        "--nameserver", help=N_("HOST[:PORT] to ask (a resolver, or the domain's own server); "
        "default: this machine's resolvers."))] = None,
    fmt: Annotated[Format, typer.Option("--format", help=N_("text, markdown or json."))] = Format.text,
    timeout: Annotated[float, typer.Option("--timeout", help=N_("Seconds to wait for each answer."))] = 2.0,
    retries: Annotated[int, typer.Option("--retries", help=N_("Tries after the first on a timeout or SERVFAIL."))] = 1,
) -> None:
    from reconciler.dns.run import check_domains
    from reconciler.providers import open_provider, provider_kind
    from reconciler.providers.facts import facts_of
    from reconciler.render.dns import render_dns

    org, issues = load_checked(OPTIONS.org_dir)
    validate_org(org, issues, accounts=False)  # checked only: the desired accounts are not used
    kind = provider_kind(provider, org)
    with contextlib.ExitStack() as stack:
        source = None
        if facts_of(kind).tells_dns_records:  # the tenant knows the exact records each domain needs
            source = stack.enter_context(open_provider(provider, org, read_only=True)).dns_records
        report = check_domains(org, kind, nameserver, timeout, retries, source)
    sys.stdout.write(render_dns(report, fmt.value, colour=sys.stdout.isatty()))
    sys.stdout.flush()
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command(help=N_("Before the first plan: sign in as plan and apply would and check, with harmless reads, that "
                     "this identity\nhas every scope, permission and role org/ needs (and that the onboarding SMTP "
                     "server takes the sign-in)."))
def access(
    provider: ProviderOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help=N_("text, markdown or json."))] = Format.text,
) -> None:
    from reconciler.access import check_access_of
    from reconciler.providers import open_provider
    from reconciler.render.access import render_access

    org, issues = load_checked(OPTIONS.org_dir)
    validate_org(org, issues, accounts=False)  # checked only: the desired accounts are not used
    with open_provider(provider, org) as handle:
        report = check_access_of(org, handle)
    sys.stdout.write(render_access(report, fmt.value, colour=sys.stdout.isatty()))
    sys.stdout.flush()
    if report.exit_code:
        raise typer.Exit(report.exit_code)


class DoctorFormat(StrEnum):
    text = "text"
    json = "json"


@app.command(help=N_("Why can't ADDRESS send or receive? Existence (did you mean), account state, mail service, "
                     "storage, the\ndomain's DNS, forwarding and rules, delegates, sign-ins; for a group, its members. "
                     "Exit 1 on a problem."))
def doctor(
    address: Annotated[str, typer.Argument(
        help=N_("A person's, alias's or group's address, like li.lei@example.com."))],
    provider: ProviderOpt = None,
    fmt: Annotated[DoctorFormat, typer.Option("--format", help=N_("text or json."))] = DoctorFormat.text,
    nameserver: Annotated[str | None, typer.Option(
        "--nameserver", help=N_("HOST[:PORT] to ask about the address's domain; default: this machine's resolvers."))
    ] = None,
    no_dns: Annotated[bool, typer.Option("--no-dns", help=N_("Do not check the domain's DNS."))] = False,
    today: TodayOpt = None,
) -> None:
    from reconciler.dns.run import check_org, make_client
    from reconciler.doctor import check_address, diagnose
    from reconciler.providers import open_provider, provider_kind
    from reconciler.providers.facts import facts_of
    from reconciler.render.doctor import render_doctor

    org, issues = load_checked(OPTIONS.org_dir)
    try:
        check_address(address, org)
    except UserError as error:  # a usage error: nothing was read
        raise typer.BadParameter(str(error).removeprefix("doctor: "), param_hint="ADDRESS") from None
    kind = provider_kind(provider, org)
    with open_provider(provider, org, read_only=True) as handle:
        source = handle.dns_records if facts_of(kind).tells_dns_records else None
        client = None if no_dns else make_client(nameserver, 2.0, 1)
        check = None if client is None else (lambda narrowed: check_org(narrowed, kind, client, source))
        report = diagnose(org, issues, handle, address, _today(today), check)
    sys.stdout.write(render_doctor(report, fmt.value, colour=sys.stdout.isatty()))
    sys.stdout.flush()
    if report.exit_code:
        raise typer.Exit(report.exit_code)


class FailOn(StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"


@app.command(help=N_("Review the accounts: unused, unmanaged, suspended too long, without 2-step verification, near "
                     "their\nstorage quota, groups with external members, licences that do not match the profile."))
def audit(
    provider: ProviderOpt = None,
    fmt: Annotated[Format, typer.Option(
        "--format", help=N_("text, markdown (the body of the monthly review issue) or json."))] = Format.text,
    fail_on: Annotated[FailOn | None, typer.Option(
        "--fail-on", help=N_("Exit 1 when a finding is at or above this severity: info, low, medium or high."))
    ] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help=N_("Write the report to FILE instead of printing it."))] = None,
    today: TodayOpt = None,
) -> None:
    from reconciler.audit import audit_provider, exit_code
    from reconciler.providers import open_provider
    from reconciler.render.audit import render_audit

    org, issues = load_checked(OPTIONS.org_dir)
    with open_provider(provider, org, read_only=True) as handle:
        report = audit_provider(org, issues, handle, _today(today))
    _print_or_save(lambda colour: render_audit(report, fmt.value, colour=colour), out,
                   _("Audit saved to {path}: {summary}").format(path=escape(str(out)),
                                                                 summary=escape(say(report.summary()))))
    code = exit_code(report, fail_on.value if fail_on is not None else None)
    if code:
        raise typer.Exit(code)


def _print_or_save(render: Callable[[bool], str], out: Path | None, saved: str) -> None:
    """A report to `out` (plain, written whole or not at all, and `saved` said), else to stdout
    (in colour on a terminal)."""
    from reconciler.atomicfile import atomic_write

    if out is None:
        sys.stdout.write(render(sys.stdout.isatty()))
        sys.stdout.flush()
        return
    with atomic_write(out) as file:
        file.write(render(False))
    err.print(saved)


class UsageFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    html = "html"


@app.command(help=N_("Storage and mail sent and received (7/30/90 days) per person and per department: the biggest "
                     "and\nfastest-growing mailboxes, heavy senders, mailboxes near their quota, licences paid for but "
                     "unused."))
def usage(
    provider: ProviderOpt = None,
    fmt: Annotated[UsageFormat, typer.Option(
        "--format", help=N_("text, markdown (a section of the monthly review issue), json or html."))
    ] = UsageFormat.text,
    html: Annotated[Path | None, typer.Option(
        "--html", help=N_("Also write the HTML report (one self-contained file, charts included) to FILE."))] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help=N_("Write the report to FILE instead of printing it."))] = None,
    days: Annotated[int, typer.Option("--days", min=7, max=180,
                                      help=N_("Days of daily history to read, where the provider keeps it."))] = 90,
    fail_on: Annotated[FailOn | None, typer.Option(
        "--fail-on", help=N_("Exit 1 when a finding is at or above this severity: info, low, medium or high."))
    ] = None,
    today: TodayOpt = None,
) -> None:
    from reconciler.atomicfile import atomic_write
    from reconciler.audit import exit_code
    from reconciler.providers import open_provider
    from reconciler.render.usage import render_usage
    from reconciler.usage import usage_of_provider

    org, issues = load_checked(OPTIONS.org_dir)
    with open_provider(provider, org, read_only=True) as handle:
        summary = usage_of_provider(org, issues, handle, _today(today), days)
    if html is not None:
        with atomic_write(html) as file:
            file.write(render_usage(summary, "html"))
        err.print(_("HTML report saved to {path}").format(path=escape(str(html))))
    _print_or_save(lambda colour: render_usage(summary, fmt.value, colour=colour), out,
                   _("Usage saved to {path}: {summary}").format(path=escape(str(out)),
                                                                 summary=escape(say(summary.summary()))))
    if exit_code(summary, fail_on.value if fail_on is not None else None):
        raise typer.Exit(1)


@contextlib.contextmanager
def _import_progress() -> Iterator[Callable[[int, int], None]]:
    """A bar on a terminal; in CI logs, a line every 10% of an import of 500 files or more."""
    if err.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(_("writing org/")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task("import", total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)
        return
    shown = 0

    def log(done: int, total: int) -> None:
        nonlocal shown
        if total >= 500 and done * 10 // total > shown:
            shown = done * 10 // total
            err.print(_("wrote {done}/{total} files").format(done=done, total=total))

    yield log


@app.command("import", help=N_("Write an org/ tree that describes an existing tenant, so that a plan right after "
                               "shows no changes."))
def import_command(
    provider: Annotated[str, typer.Option(
        "--provider", help=N_("local, local:PATH, google, microsoft, exmail or alimail (with --provider-config)."))],
    into: Annotated[Path, typer.Option("--into", help=N_("The folder to write org/ into: new or empty."))],
    force: Annotated[bool, typer.Option(
        "--force", help=N_("Write into a folder that is not empty (its users/ and groups/ are emptied first)."))
    ] = False,
    domains: Annotated[list[str] | None, typer.Option(
        "--domain", help=N_("A domain to import (repeat it for more; its aliases come along); default: every "
        "domain of the tenant but Microsoft's *.onmicrosoft.com."))] = None,
    admin: Annotated[str | None, typer.Option(
        "--admin", help=N_("google: the admin the service account acts as."))] = None,
    customer: Annotated[str, typer.Option("--customer", help=N_("google: the customer id."))] = "my_customer",
    tenant: Annotated[str | None, typer.Option(
        "--tenant", help=N_("microsoft: the tenant id or primary domain."))] = None,
    client_id: Annotated[str | None, typer.Option(
        "--client-id", help=N_("microsoft: the app registration's client id."))] = None,
    provider_config: Annotated[Path | None, typer.Option(
        "--provider-config", help=N_("A YAML file holding the provider block (an org.yaml will do), for the "
        "settings these options do not cover (service_groups, rate_limit, usage_location)."))] = None,
    name: Annotated[str | None, typer.Option(
        "--name", help=N_("The organisation's name in org.yaml; default: the primary domain."))] = None,
) -> None:
    from reconciler.importer import check_target
    from reconciler.importer.tenant import adopt_tenant, bare_org, provider_block
    from reconciler.providers import open_provider
    from reconciler.render import render_text

    check_target(into, force)
    config = provider_block(provider, into, admin=admin, customer=customer, tenant=tenant, client_id=client_id,
                            config_file=provider_config)
    with open_provider(provider, bare_org(into, config), read_only=True) as handle, _import_progress() as progress:
        __, after = adopt_tenant(handle, into, config, wanted=domains, force=force, name=name, progress=progress,
                                say=lambda line: err.print(escape(say(line).rstrip("\n"))))
    if after.changes:
        err.print(_("A plan now shows {count} changes (review them; `reconciler apply` makes them):").format(
            count=len(after.changes)))
        sys.stderr.write(render_text(after, colour=err.is_terminal))
    else:
        err.print(_("[green]A plan now shows no changes.[/] Review {folder}, then commit it.").format(
            folder=escape(str(into))))


class ConfigFormat(StrEnum):
    text = "text"  # a string, number or boolean plain, null as an empty line, a mapping or list as JSON
    json = "json"


config_app = typer.Typer(no_args_is_help=True, help=N_("Read org.yaml's settings, for scripts and CI workflows."))
app.add_typer(config_app, name="config")


@config_app.command("get", help=N_("Print one setting of org.yaml with the schema's defaults applied. Only org.yaml "
                                   "has to be valid."))
def config_get(
    key: Annotated[str, typer.Argument(help=N_("A dotted key of org.yaml, like provider.kind or safety.max_deletes."))],
    fmt: Annotated[ConfigFormat, typer.Option(
        "--format", help=N_("text: a value plain (null: an empty line), a mapping or list as JSON; json: all JSON."))
    ] = ConfigFormat.text,
) -> None:
    from reconciler.config_query import lookup, render
    from reconciler.model.loader import load_settings

    sys.stdout.write(render(lookup(load_settings(OPTIONS.org_dir), key), fmt.value))
    sys.stdout.flush()


@app.command(hidden=True, help=N_("Write the JSON Schemas of the org/ files (editors use them for completion)."))
def schemas(
    write: Annotated[Path, typer.Option("--write", help=N_("Folder to write *.schema.json into."))] = Path("schemas"),
) -> None:
    from reconciler.model.schemas import write_schemas

    for path in write_schemas(write):
        err.print(_("wrote {path}").format(path=path))


# A run builds one large graph of objects that lives until exit (every person's file, their
# positions, the desired and actual state) and makes almost no reference cycles. With the default
# thresholds the collector walks that graph again and again as it grows: 40 % of validating
# 100,000 people. Collecting young objects 70 times less often keeps cycles collected, cheaply.
GC_THRESHOLDS = (50_000, 20, 100)


def main() -> None:
    """Entry point: user errors are one clear message and exit 1, never a traceback."""
    thresholds = gc.get_threshold()
    language = i18n.language()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        _run()
    finally:  # for one run only: a process that calls main() (tests) keeps its own collector and language
        gc.set_threshold(*thresholds)
        i18n.use(language)
        speak_help_page()


def _choose_language(args: Sequence[str]) -> None:
    """Speak the language of this run before anything is said, `--help` included: the root
    options (`--lang`, `--org`) are read here, ahead of Typer, which parses them again."""
    asked: str | None = None
    org_dir = Path("org")
    words = iter(args)
    for word in words:
        name, has_value, value = word.partition("=")
        if name in ("--lang", "--org"):
            value = value if has_value else next(words, "")
            if name == "--lang":
                asked = value
            else:
                org_dir = Path(value)
        elif not word.startswith("-"):
            break  # the command: what follows is its own
    try:
        i18n.use(i18n.choose(asked, org_locale(org_dir)))
    except ValueError:
        source = "--lang" if asked else i18n.LANG_ENV
        wrong = asked or os.environ.get(i18n.LANG_ENV, "")
        raise UserError(_("{source} {wrong!r} is not a language reconciler speaks; use one of {languages}").format(
            source=source, wrong=wrong, languages=", ".join(i18n.LANGUAGES))) from None


def _run() -> None:
    try:
        _choose_language(sys.argv[1:])
        code = command_of(app)(standalone_mode=False)  # Typer's app() is this, untranslated
        sys.exit(code if isinstance(code, int) else 0)
    except ValidationFailed as failed:
        for issue in failed.issues:
            err.print(escape(str(issue)), style="red")
        count = len(failed.issues)
        err.print(ngettext("{count} problem in {folder}/", "{count} problems in {folder}/", count).format(
            count=count, folder=OPTIONS.org_dir))
        sys.exit(1)
    except UserError as error:
        err.print(_("[red]error:[/] {message}").format(message=escape(str(error))))
        sys.exit(1)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        err.print(_("aborted"))
        sys.exit(1)
    except TyperException as usage:  # bad options; 2 is taken by --detailed-exitcode
        # One shape for every error: "error: ..." (Click would print "Error:" under a usage block).
        message = usage.format_message() if hasattr(usage, "format_message") else str(usage)
        if not message.strip():  # a group asked for no command (`reconciler config`): its help is shown above
            message = "Missing command."  # Click's own words for the top level, said by said_usage_error
        command = getattr(getattr(usage, "ctx", None), "command_path", "reconciler")
        err.print(_("[red]error:[/] {message} (see {command} --help)").format(
            message=escape(said_usage_error(message)), command=escape(command)))
        sys.exit(1)
    except KeyboardInterrupt:
        err.print(_("interrupted"))
        sys.exit(130)
    except Exception as bug:
        if OPTIONS.debug:
            raise
        err.print(_("[red]internal error:[/] {kind}: {message}\n"
                    "This is a bug in reconciler; run again with --debug for the traceback and report it.").format(
            kind=escape(type(bug).__name__), message=escape(str(bug))))
        sys.exit(1)
