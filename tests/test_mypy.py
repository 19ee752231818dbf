"""The tree is the import path: mypy resolves every `edgekit.*` import from the folders alone.

mypy reads pyproject.toml ([tool.mypy]: the three folders of the namespace package), not the
editable install's runtime finder, so this fails when a module is moved where its import path does
not say. Type errors are not asserted here (the code is only partly annotated); import resolution is.
"""
import re
import subprocess
import sys

from edgekit.paths import REPO

IMPORT_CODES = {"import", "import-not-found", "import-untyped", "name-defined"}


def test_every_import_resolves_from_the_tree():
    proc = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", "/dev/null",
                           "host/edgekit", "models/edgekit", "quantize/edgekit", "tests"],
                          cwd=REPO, capture_output=True, text=True)
    assert "error: " in proc.stdout or proc.returncode == 0, proc.stderr  # mypy itself ran
    bad = [line for line in proc.stdout.splitlines()
           if (m := re.search(r"\[([a-z-]+)\]$", line)) and (m.group(1) in IMPORT_CODES
                                                          or (m.group(1) == "attr-defined" and 'Module "' in line))]
    assert not bad, "\n".join(bad)
