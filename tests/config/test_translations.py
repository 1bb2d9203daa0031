"""Chinese is the source language; the English catalogue must translate every marked string."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PO = Path(__file__).resolve().parents[2] / "config" / "locale" / "en" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="needs gettext's msgfmt")
def test_english_catalogue_has_no_untranslated_or_fuzzy_entries():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        check=True,
    )
    stats = result.stderr
    assert "translated message" in stats
    assert "untranslated" not in stats and "fuzzy" not in stats, stats
