"""The linter is part of the suite: ruff with the configuration in pyproject.toml."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff")
    if ruff is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("ruff is not installed (pip install -r requirements-dev.txt)")
        pytest.skip("ruff is not installed (pip install -r requirements-dev.txt)")
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
