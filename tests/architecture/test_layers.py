"""The layers contract in pyproject.toml catches an import that breaks the shape: a copy of the
code with one deliberate bad import fails `lint-imports`, and the code as it is passes."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The apps the contract names (one list: pyproject.toml's root_packages).
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_of_the_code(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "static", "*.html"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own tool, fixed arguments)
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path):
    return _copy_of_the_code(tmp_path)


def test_the_code_as_it_is_keeps_the_contract(tree):
    result = _lint(tree)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "complaint"),
    [
        # A domain app reaching up into a page app.
        ("referrals/selectors.py", "from leisure import selectors", "referrals is not allowed"),
        # The bottom of the stack importing an app.
        ("clinical/conditions.py", "from referrals import models", "clinical is not allowed"),
        # Two apps of one layer importing each other.
        ("leisure/register.py", "from manage import forms", "leisure is not allowed"),
        # An import for type hints only is an import too.
        (
            "audit/selectors.py",
            "import typing\nif typing.TYPE_CHECKING:\n    from referrals.models import Referral",
            "audit is not allowed",
        ),
        # A scoring instrument importing the database side of its own app.
        ("outcomes/instruments/phq9.py", "from outcomes import models", "outcomes.instruments"),
    ],
)
def test_a_bad_import_breaks_the_contract(tree, module, bad_import, complaint):
    path = tree / module
    path.write_text(path.read_text() + f"\n{bad_import}  # noqa\n")

    result = _lint(tree)

    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout
    assert complaint in result.stdout
