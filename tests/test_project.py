"""Project-wide rules: fmcore stays free of streamlit, pages are registered, the README's
test command is what CI runs."""

import re
import subprocess
import sys
from pathlib import Path

from ui.pages import LESSONS, SECTIONS, all_pages, sections

ROOT = Path(__file__).resolve().parents[1]
# Modules in lessons/ that pages import and that are not pages themselves: the packages, a
# section's cached calls, the prompting lesson's table and later sections.
LESSON_HELPERS = {"__init__.py", "cache.py", "sections.py", "table.py"}


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def test_fmcore_never_imports_streamlit():
    out = _fresh(
        "import pkgutil, importlib, sys, fmcore\n"
        "for m in pkgutil.walk_packages(fmcore.__path__, 'fmcore.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('streamlit' in sys.modules, len(sys.modules))"
    )
    assert out.split()[0] == "False"


def test_importing_fmcore_alone_does_not_import_torch():
    """The home page must not pay for torch (the 3 s cold-start goal)."""
    assert _fresh("import sys, fmcore, ui.pages; print('torch' in sys.modules)").strip() == "False"


def test_home_page_does_not_import_torch():
    out = _fresh(
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print('torch' in sys.modules)"
    )
    assert out.strip().splitlines()[-1] == "False"


def test_every_lesson_file_is_registered_and_every_registered_file_exists():
    registered = {p.path for p in all_pages()}
    on_disk = {f.relative_to(ROOT).as_posix() for f in (ROOT / "lessons").rglob("*.py")
               if f.name not in LESSON_HELPERS}
    assert registered == on_disk
    assert all(p.section in SECTIONS for p in LESSONS)
    assert [s for s in SECTIONS if s in sections()] == list(sections())  # course order


def test_no_pages_folder_beside_the_entry_point():
    """Streamlit would treat it as an old-style multipage app and bypass app.py."""
    assert not (ROOT / "pages").exists()


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:bash|sh)\n(.+?)\n```", quick, flags=re.S)


def test_readme_quick_start_has_exactly_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert commands[0].rstrip().endswith("streamlit run app.py")


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _readme_commands()[1] in ci.splitlines()


def test_requirements_pin_torch_to_the_cpu_build_version():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in lines
    assert all("==" in line for line in lines if line and not line.startswith("#"))


def test_browser_tests_skip_locally_but_fail_in_ci_without_chromium(monkeypatch):
    import pytest

    from tests.browser import conftest

    monkeypatch.setattr(conftest, "browser_missing", lambda: "Chromium is not installed")
    monkeypatch.setattr(conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        conftest._need_browser()
    monkeypatch.setattr(conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="cannot run under CI=true"):
        conftest._need_browser()


def test_no_user_text_is_ever_rendered_as_html():
    """Streamlit renders Markdown without raw HTML unless told otherwise: nothing tells it.
    The two st.html calls write fixed CSS (classroom mode) or CSS built from known widget
    keys only (hidden controls of a lesson link)."""
    root = Path(__file__).parents[1]
    sources = [p for d in ("lessons", "ui", "app.py") for p in
               ((root / d).rglob("*.py") if (root / d).is_dir() else [root / d])]
    text = {p.name: p.read_text() for p in sources}
    assert not [n for n, t in text.items() if "unsafe_allow_html" in t]
    assert sorted(n for n, t in text.items() if "st.html(" in t) == ["links.py", "sidebar.py"]
    assert "if k in known]" in text["links.py"]  # a link's hide list is filtered to known keys
