"""One install hint everywhere: ``toto-bench list models`` (installed or the command), the adapters' missing-
package errors, the docs and the tests' skip reasons; and ``toto-bench doctor``'s report."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
from pathlib import Path

import pytest

from toto_bench.adapters import common
from toto_bench.adapters.common import MODEL_EXTRAS, MissingExtraError, install_hint, require
from toto_bench.adapters.registry import available_models
from toto_bench.cli import main

ROOT = Path(__file__).resolve().parents[1]
REAL_FIND_SPEC = importlib.util.find_spec


def _really_installed(extra: str) -> bool:
    modules = {"toto2": "toto2", "toto1": "toto", "chronos": "chronos", "moirai": "uni2ts"}
    top = modules.get(extra, {"timesfm": "timesfm", "stats": "statsforecast"}.get(extra, extra))
    return REAL_FIND_SPEC(top) is not None


def test_list_models_names_the_install_command_of_a_missing_family(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def find_spec(name: str, package: str | None = None):  # chronos "uninstalled"
        return None if name.split(".")[0] == "chronos" else REAL_FIND_SPEC(name, package)

    monkeypatch.setattr(common.importlib.util, "find_spec", find_spec)
    assert main(["list", "models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines}
    notes = [line for line in lines if line.startswith("#")]  # one per missing family
    chronos = [n for n, s in available_models().items() if s.family == "chronos"]
    assert sorted(chronos) == ["chronos-2", "chronos-bolt-base", "chronos-bolt-small"]
    for name in chronos:
        assert "missing: bash .ci/install-model-extras.sh chronos" in rows[name]
    assert "installed" in rows["seasonal-naive"] and "installed" in rows["naive"]
    for name in ("toto2-4m", "auto-ets"):
        extra = "toto2" if name.startswith("toto2") else "stats"
        assert ("installed" in rows[name]) == _really_installed(extra)
    hint = 'with pip only (no checkout): pip install torch==2.13.0 "toto-bench[chronos]"'
    assert any(hint in note for note in notes), notes


@pytest.mark.parametrize("extra", MODEL_EXTRAS)
def test_a_missing_package_error_gives_the_one_hint(extra: str) -> None:
    with pytest.raises(MissingExtraError) as err:
        require("toto_bench_no_such_module", extra)
    assert str(err.value).endswith(f"install it with: {install_hint(extra)}")
    assert install_hint(extra).startswith(f"bash .ci/install-model-extras.sh {extra} (in a checkout; ")


def test_docs_tests_and_code_spell_the_install_one_way() -> None:
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "tests").glob("*.py")]
    files += [*(ROOT / "adapters").glob("*.py"), *(ROOT / "bench").rglob("*.py")]
    pip_form = re.compile(r"toto-bench\[(" + "|".join(MODEL_EXTRAS) + r")\]")
    script = re.compile(r"install-model-extras\.sh ([a-zA-Z0-9_]+)")
    bad = []
    for path in files:
        if path.name in ("common.py", "test_install_hints.py") and path.parent.name in ("adapters", "tests"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pip_form.search(line) and "pip only" not in line:
                bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
            for family in script.findall(line):
                if family not in (*MODEL_EXTRAS, "FAMILY"):
                    bad.append(f"{path.relative_to(ROOT)}:{number}: unknown family {family!r}")
    assert bad == []


def test_doctor_reports_python_torch_families_data_roots_and_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GIFT_EVAL", str(tmp_path))
    monkeypatch.delenv("BOOM", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    report = dict(line.split(": ", 1) for line in lines)
    assert report["python"].startswith(platform.python_version())
    if REAL_FIND_SPEC("torch") is not None:
        assert report["torch"].startswith(importlib.metadata.version("torch"))
    for extra in MODEL_EXTRAS:
        expected = (
            "installed" if _really_installed(extra) else "missing; install: bash .ci/install-model-extras"
        )
        assert report[f"family {extra}"].startswith(expected)
    assert report["data gift-eval"] == f"{tmp_path} [$GIFT_EVAL; exists]"
    boom_cache = tmp_path / "home" / ".cache" / "toto-bench" / "boom"
    assert report["data boom"] == f"{boom_cache} [default cache ($BOOM not set); absent]"
    assert {"data time", "data lsf", "cache huggingface", "cache toto-bench", "metadata boom"} <= set(report)
