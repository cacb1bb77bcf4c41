"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

The browser is the system's `chromium` (installed by `make test` when missing), never one that
`playwright install` downloads. Without it the tests here skip locally; with `CI` set they fail,
so a CI machine cannot pass by skipping them.

Fixtures and helpers for test modules:
    page                          a fresh browser context and tab per test, at 1280x800, whose
                                  base URL is the live server (so `page.goto("/referrals/")`)
    console                       the page's console errors, Content-Security-Policy violations
                                  and requests to any host but the live server;
                                  `console.allow(pattern)` for one the test expects (the page
                                  fixture fails the test on any other)
    sign_in(page, user)           signs in through the real sign-in form
    assert_accessible(page, name) axe-core, WCAG 2.2 AA: fails on serious or critical violations
    screenshot(page, name)        full-page PNGs at 1280px and 390px wide

Every test here is marked `e2e` and gets a 60 second timeout unless it sets its own.
"""

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

# Playwright's sync API keeps an asyncio event loop running on the main thread, which makes
# Django refuse database access from the test (fixtures, assertions, the transactional flush)
# as if it were async code. The test thread never runs queries concurrently with that loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

E2E_DIR = Path(__file__).resolve().parent
REPO_DIR = E2E_DIR.parent.parent
ARTIFACTS_DIR = REPO_DIR / "test-artifacts"
# Loaded from the live server: the Content-Security-Policy refuses an inline copy.
AXE_SCRIPT_URL = "/static/vendor/axe-core/axe.min.js"

DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
SCREENSHOT_WIDTHS = {1280: 800, 390: 844}  # width: height (a common phone size for the 390)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
DEFAULT_TIMEOUT_SECONDS = 60
# expect() waits 5 s by default; CI shares two cores between two pytest processes.
expect.set_options(timeout=15_000)
NEXT_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"

# Reports each `securitypolicyviolation` event to the test (an exposed binding, which runs
# whatever the page's policy says), so a refused script, style or request fails the test even
# where the browser would log nothing.
CSP_VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__portalCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile || document.location.href}:${event.lineNumber}`
  );
});
"""

CHROMIUM_ARGS = [
    "--no-sandbox",  # containers and root CI have no user namespaces for the sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


NO_CHROMIUM = (
    "Browser tests need Debian's chromium (`apt-get install chromium fonts-liberation`, "
    "which `make test` runs as root); never `playwright install`."
)


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: browser test (Playwright + Debian's chromium)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/e2e, and skip them here when no chromium exists outside CI.

    tryfirst, so that `-m e2e` / `-m "not e2e"` see the marker.
    """
    skip = None
    if find_chromium() is None and not running_in_ci():
        skip = pytest.mark.skip(reason=f"no chromium on this machine. {NO_CHROMIUM}")
    for item in items:
        if E2E_DIR not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_SECONDS))
        if skip is not None:
            item.add_marker(skip)


# --- Browser and page ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if executable is None:
        # Only reachable with CI set: outside CI these tests were skipped at collection.
        pytest.fail(f"CI is set but chromium is missing. {NO_CHROMIUM}", pytrace=False)

    from django.db import connections
    from playwright.sync_api import sync_playwright

    # While Playwright's loop counts as running, Django keeps this thread's connections in
    # context-local storage: the tests and their flushes use new connections from here on.
    # Close the ones from before, so that none can sit on locks the flush (TRUNCATE) waits for.
    connections.close_all()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class ConsoleErrors:
    """Console errors and uncaught exceptions seen by one test's page."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect errors matching this regular expression (e.g. the 404 of a not-found page)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


CONSOLE_ERRORS = pytest.StashKey[ConsoleErrors]()


@pytest.fixture
def console(request) -> ConsoleErrors:
    errors = ConsoleErrors()
    request.node.stash[CONSOLE_ERRORS] = errors
    return errors


def off_the_live_server(url: str, server_netloc: str) -> bool:
    """A request the page makes to any other host (data: and blob: URLs stay in the page)."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc != server_netloc


@pytest.fixture
def page(browser, live_server, console):
    """A new context (no cookies) per test, failing the test (see pytest_runtest_call) on a
    console error, an uncaught exception, a Content-Security-Policy violation, or any request to
    a host other than the live server (which is refused, so nothing leaves the machine).
    """
    server = urlsplit(live_server.url)
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP_VIEWPORT)
    # Generous: CI runs these beside another pytest process on two cores, with coverage on.
    context.set_default_timeout(20_000)
    context.set_default_navigation_timeout(30_000)
    blocked: set[str] = set()

    def on_request(request):
        if off_the_live_server(request.url, server.netloc):
            blocked.add(request.url)
            console.errors.append(f"request off the live server: {request.url}")

    def only_the_live_server(route):
        if off_the_live_server(route.request.url, server.netloc):
            route.abort("blockedbyclient")
        else:
            route.continue_()

    context.on("request", on_request)
    context.route("**/*", only_the_live_server)
    context.expose_function(
        "__portalCspViolation",
        lambda report: console.errors.append(f"Content-Security-Policy violation: {report}"),
    )
    context.add_init_script(CSP_VIOLATION_LISTENER)
    page = context.new_page()

    def on_console(message):
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if source in blocked or "net::ERR_BLOCKED_BY_CLIENT" in message.text:
            return
        console.errors.append(f"console.error at {source or page.url}: {message.text}")

    page.on("console", on_console)

    def on_page_error(error):
        console.errors.append(f"uncaught error on {page.url}: {error}")

    page.on("pageerror", on_page_error)
    yield page
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a test whose page logged a console error or threw, even if its assertions passed."""
    result = yield
    errors = item.stash.get(CONSOLE_ERRORS, None)
    if errors is not None and (unexpected := errors.unexpected()):
        pytest.fail("The page reported errors:\n  " + "\n  ".join(unexpected), pytrace=False)
    return result


# --- Helpers ------------------------------------------------------------------------------------


def sign_in(page, user, password: str = TEST_PASSWORD) -> None:
    """Sign in through the real form and wait until the browser has left the sign-in page."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def answer_clinical_questions(page, *, medication: str = "No", risk: str = "Low") -> None:
    """The details step's questions with no preselected answer: the GP must choose each."""
    page.get_by_role(
        "group", name="Does the patient take medication that affects heart"
    ).get_by_label(medication, exact=True).check()
    page.get_by_role("group", name="Risk level").get_by_label(risk, exact=True).check()


def _artifact(folder: str, filename: str) -> Path:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", filename):
        raise ValueError(f"Artifact names are letters, digits, '.', '_' and '-': {filename!r}")
    path = ARTIFACTS_DIR / folder / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def assert_accessible(page, name: str) -> dict:
    """Run axe-core (WCAG 2.0-2.2 A and AA rules) on the page as it is now.

    Writes the full result to test-artifacts/axe/<name>.json and fails on any serious or
    critical violation, listing each rule, its help text and the elements it flagged.
    Returns the axe result for tests that want to look further.
    """
    page.wait_for_load_state()  # a click may have started a navigation: check the page it loads
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE_SCRIPT_URL)
    results = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    _artifact("axe", f"{name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe: {len(blocking)} serious/critical violation(s) on {name} ({page.url}):"]
        for violation in blocking:
            lines.append(
                f"- {violation['id']} [{violation['impact']}]: {violation['help']} "
                f"({violation['helpUrl']})"
            )
            for node in violation["nodes"]:
                summary = str(node.get("failureSummary", "")).replace("\n", "\n        ")
                lines.append(f"    {node['target']}: {summary}")
        pytest.fail("\n".join(lines), pytrace=False)
    return results


def screenshot(page, name: str) -> list[Path]:
    """Save full-page PNGs of the page at 1280px and 390px wide, then restore the viewport."""
    original = page.viewport_size
    paths = []
    for width, height in SCREENSHOT_WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        # Let the layout (and nhsuk-frontend's resize handlers) settle at the new width.
        page.evaluate(NEXT_FRAME)
        path = _artifact("screenshots", f"{name}-{width}.png")
        page.screenshot(path=path, full_page=True, animations="disabled")
        paths.append(path)
    if original:
        page.set_viewport_size(original)
    return paths
