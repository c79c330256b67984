"""`reconciler validate` and `--version` import nothing they do not use.

Every run pays for what `reconciler.cli` imports: a pull request's `validate`, and each of the
hundreds of CLI processes of this suite. The provider SDKs, the mail step (smtplib, ssl), the
apply and plan machinery and Rich's help-page and progress parts belong to the commands that use
them. The installed command runs under `python -X importtime`, which names every module the
process imports; the test is an exact list of modules, not a timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_ORG

RECONCILER = Path(sys.executable).parent / "reconciler"

# Imported by a command that talks to a provider, sends mail, plans, applies or draws a help page.
HEAVY = {
    # the provider SDKs and their HTTP stacks
    "googleapiclient", "google", "google_auth_httplib2", "httplib2", "msgraph", "msgraph_core", "kiota_abstractions",
    "kiota_http", "kiota_authentication_azure", "azure", "msal", "httpx", "httpcore", "h2", "anyio", "aiohttp",
    "requests", "urllib3", "opentelemetry", "dns",
    # the mail step and raw HTTP
    "smtplib", "ssl", "http.client",
    # Rich's help page (Markdown, syntax highlighting) and progress bars; Typer's page that loads them
    "typer.rich_utils", "rich.markdown", "rich.syntax", "rich.traceback", "rich.progress", "markdown_it", "pygments",
    # tools of the developers, never of a run
    "babel", "deepdiff", "jsonschema",
    # our own parts that only plan, apply, mail, doctor, audit, usage, import and dns use
    "reconciler.apply", "reconciler.mail", "reconciler.plan.build", "reconciler.plan.diff", "reconciler.plan.saved",
    "reconciler.providers", "reconciler.dns", "reconciler.doctor",
    "reconciler.audit", "reconciler.usage", "reconciler.importer", "reconciler.access",
    # changes and the renderers of plans, annotations and comments: `validate` reports problems only
    "reconciler.changes", "reconciler.render.github", "reconciler.render.markdown", "reconciler.render.text",
    "reconciler.render.json", "reconciler.render.common",
}


def imported_by(*args: str, cwd: Path, lang: str = "en-US") -> set[str]:
    """Every module the installed command imports for `args`, as -X importtime lists them."""
    environ = {**os.environ, "RECONCILER_LANG": lang, "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-X", "importtime", str(RECONCILER), *args], cwd=cwd, env=environ,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert lines, result.stderr[-2000:]
    return {line.rpartition("|")[2].strip() for line in lines[1:]}  # the first line is the table's heading


def heavy_in(modules: set[str]) -> list[str]:
    """The modules of HEAVY (or inside one of them) among `modules`."""
    return sorted(name for name in modules if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY))


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_validate_imports_nothing_heavy(lang: str) -> None:
    modules = imported_by("validate", cwd=EXAMPLE_ORG.parent, lang=lang)
    assert "reconciler.plan.prepare" in modules  # the run did validate (a command that fails early imports little)
    assert heavy_in(modules) == []


def test_version_imports_nothing_heavy() -> None:
    modules = imported_by("--version", cwd=EXAMPLE_ORG.parent)
    assert "reconciler.cli" in modules
    assert heavy_in(modules) == []


def test_the_check_sees_heavy_imports(tmp_path: Path) -> None:
    """The check sees a heavy import where there is one: a plan loads the local provider and the plan machinery,
    and a help page in Chinese loads Typer's help-page module."""
    planned = imported_by("plan", "--provider", f"local:{tmp_path / 'directory.json'}", cwd=EXAMPLE_ORG.parent)
    assert {"reconciler.plan.build", "reconciler.providers.local"} <= set(heavy_in(planned))
    helped = imported_by("--help", cwd=EXAMPLE_ORG.parent, lang="zh-CN")
    assert "typer.rich_utils" in heavy_in(helped)


@pytest.mark.parametrize(("given", "seen", "searched"), [(None, "__all__", "False"),
                                                        ("some_plugin", "some_plugin", "True")])
def test_pydantic_plugins_are_off_unless_asked_for(given: str | None, seen: str, searched: str) -> None:
    """No installed pydantic plugin sees org/ values, and pydantic does not read every installed
    distribution's entry points to find one; a setting the user made is kept."""
    environ = {key: value for key, value in os.environ.items() if key != "PYDANTIC_DISABLE_PLUGINS"}
    if given is not None:
        environ["PYDANTIC_DISABLE_PLUGINS"] = given
    script = ("import reconciler.model.files, pydantic.plugin._loader as loader, os;"
              "print(os.environ['PYDANTIC_DISABLE_PLUGINS'], loader._plugins is not None)")
    result = subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True, text=True,
                            timeout=120, check=True)
    # pydantic's _plugins stays None where the entry points were never read.
    assert result.stdout.split() == [seen, searched]
