"""The pages' templates and static files work under the strict Content-Security-Policy
(config/security.py) and load nothing from another host.

No inline script, no style attribute or block, no on*= handler and no htmx eval feature (hx-on,
js: values): the policy refuses them, so each would be a broken page, not an exploit. Email
templates are exempt: mail clients need inline styles, and no page renders them.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APPS = ["accounts", "audit", "facilities", "outcomes", "referrals"]


def page_templates() -> list[Path]:
    roots = [REPO / "templates"] + [REPO / app / "templates" for app in APPS]
    found = [p for root in roots for p in root.rglob("*.html")]
    return sorted(p for p in found if "emails" not in p.relative_to(REPO).parts)


COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def template_text(path: Path) -> str:
    """The template without its Django comments (kept as blank lines, so numbers still match)."""
    text = path.read_text(encoding="utf-8")
    return COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def static_files(suffix: str) -> list[Path]:
    roots = [REPO / "static"] + [REPO / app / "static" for app in APPS]
    return sorted(p for root in roots if root.exists() for p in root.rglob(f"*{suffix}"))


def test_there_are_templates_to_check():
    names = {p.name for p in page_templates()}
    assert {"base.html", "detail.html", "progress.html", "discharge_summary.html"} <= names


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
HTMX_EVAL = re.compile(r"\bhx-on\b|hx-on:|hx-on-|\bhx-vals\s*=\s*['\"]\s*js:|javascript:", re.I)
RULES = {
    "inline <script>": INLINE_SCRIPT,
    "style= attribute": STYLE_ATTRIBUTE,
    "<style> block": STYLE_BLOCK,
    "on*= event handler": EVENT_HANDLER,
    "htmx eval feature or javascript: URL": HTMX_EVAL,
}


@pytest.mark.parametrize("rule", RULES)
def test_no_template_has_inline_code_the_policy_refuses(rule):
    pattern = RULES[rule]
    hits = []
    for path in page_templates():
        for number, line in enumerate(template_text(path).splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not hits, f"{rule} in templates:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("<script>alert(1)</script>", "inline <script>"),
        ('<script type="module">import "x";</script>', "inline <script>"),
        ('<div style="color: red">', "style= attribute"),
        ("<style>p {}</style>", "<style> block"),
        ('<button onclick="go()">', "on*= event handler"),
        ('<form hx-on::after-request="x()">', "htmx eval feature or javascript: URL"),
        ('<a href="javascript:void(0)">', "htmx eval feature or javascript: URL"),
    ],
)
def test_the_scan_catches_each_kind(text, rule):
    assert RULES[rule].search(text)


@pytest.mark.parametrize(
    "text",
    [
        '<script src="/static/js/portal.js" defer></script>',
        '<script type="module" src="/static/js/portal.js" data-x="y"></script>',
        '<script type="application/json" id="d">{}</script>',
        '<span class="nhsuk-tag" data-on="x">',
    ],
)
def test_the_scan_allows_what_the_policy_allows(text):
    assert not any(rule.search(text) for rule in RULES.values())


# A resource the page loads: url(...) in CSS, or src/href/action on anything but a link (<a>).
CSS_REMOTE_URL = re.compile(r"url\(\s*['\"]?\s*(?:https?:)?//", re.I)
TEMPLATE_REMOTE_RESOURCE = re.compile(
    r"<(?!a\b)[a-z]+\b[^>]*\s(?:src|href|action|srcset|poster|data)\s*=\s*['\"]\s*(?:https?:)?//",
    re.I,
)


def test_no_stylesheet_loads_anything_from_another_host():
    sheets = static_files(".css")
    assert any(p.name == "nhsuk-frontend.min.css" for p in sheets)
    hits = [
        f"{p.relative_to(REPO)}: {m.group(0)}"
        for p in sheets
        for m in CSS_REMOTE_URL.finditer(p.read_text(encoding="utf-8"))
    ]
    assert not hits, "\n".join(hits)


def test_no_template_loads_anything_from_another_host():
    hits = []
    for path in page_templates():
        found = TEMPLATE_REMOTE_RESOURCE.finditer(template_text(path))
        hits += [f"{path.relative_to(REPO)}: {m.group(0)}" for m in found]
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize(
    ("text", "remote"),
    [
        ('<link rel="stylesheet" href="https://cdn.example/x.css">', True),
        ('<script src="//cdn.example/x.js"></script>', True),
        ('<img src="http://example.org/x.png">', True),
        ('<a href="https://service-manual.nhs.uk/">NHS</a>', False),
        ('<svg xmlns="http://www.w3.org/2000/svg">', False),
        ('<link rel="icon" href="/static/favicon.ico">', False),
    ],
)
def test_the_resource_scan_tells_loads_from_links(text, remote):
    assert bool(TEMPLATE_REMOTE_RESOURCE.search(text)) is remote
