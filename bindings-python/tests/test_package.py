"""The installed package: wheel contents, stubs, docstrings, and the example script."""

import ast
import subprocess
import sys
from pathlib import Path

import scangit

from conftest import ROOT, DictStore

PKG = Path(scangit.__file__).resolve().parent


def test_tests_run_against_the_installed_package():
    assert ROOT / "bindings-python" not in PKG.parents, PKG
    assert (PKG / "py.typed").is_file()
    assert (PKG / "_native.pyi").is_file()
    assert list(PKG.glob("_native*.so")) or list(PKG.glob("_native*.pyd"))
    assert scangit.__version__


def test_every_public_name_has_a_docstring_and_a_stub():
    stub = ast.parse((PKG / "_native.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    for name in scangit.__all__:
        obj = getattr(scangit, name)
        if name in ("__version__", "Event"):
            continue
        assert (obj.__doc__ or "").strip(), name
        assert name in stubbed or name == "Store", name
        if isinstance(obj, type) and not issubclass(obj, BaseException) and name != "Store":
            for attr, member in vars(obj).items():
                if not attr.startswith("_"):
                    assert (member.__doc__ or "").strip(), "%s.%s" % (name, attr)
    assert scangit.scan.__text_signature__ and "reveal_secrets" in scangit.scan.__text_signature__


def test_store_protocol_runtime():
    assert isinstance(DictStore(), scangit.Store)


def test_example_script(corpus, tmp_path):
    example = ROOT / "examples" / "python" / "scan.py"
    out = subprocess.run(
        [sys.executable, str(example), str(corpus)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 1, out.stderr  # findings: 1, like the CLI
    assert "complete" in out.stdout and "finding" not in out.stderr
    db = tmp_path / "ex.db"
    first = subprocess.run(
        [sys.executable, str(example), str(corpus), "--store", str(db)], capture_output=True, text=True
    )
    second = subprocess.run(
        [sys.executable, str(example), str(corpus), "--store", str(db)], capture_output=True, text=True
    )
    assert first.returncode == 1 and second.returncode == 0, (first.stderr, second.stderr)
    store = tmp_path / "ex.json"
    first = subprocess.run(
        [sys.executable, str(example), str(corpus), "--json-store", str(store)], capture_output=True, text=True
    )
    second = subprocess.run(
        [sys.executable, str(example), str(corpus), "--json-store", str(store)], capture_output=True, text=True
    )
    assert first.returncode == 1 and second.returncode == 0, (first.stderr, second.stderr)
