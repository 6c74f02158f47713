"""The three source folders install as one namespace, ``toto_bench``, and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("toto_bench-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_wheel_installs_only_the_toto_bench_namespace(wheel_names: list[str]) -> None:
    top_levels = {name.split("/")[0] for name in wheel_names}
    assert {t for t in top_levels if not t.endswith(".dist-info")} == {"toto_bench"}


@pytest.mark.parametrize(
    ("folder", "package"),
    [("bench", "toto_bench"), ("adapters", "toto_bench/adapters"), ("metrics", "toto_bench/metrics")],
)
def test_every_source_module_lands_in_its_namespace_package(
    wheel_names: list[str], folder: str, package: str
) -> None:
    for source in (ROOT / folder).glob("*.py"):
        assert f"{package}/{source.name}" in wheel_names


def test_wheel_declares_the_toto_bench_console_script(wheel: Path, wheel_names: list[str]) -> None:
    entry = next(n for n in wheel_names if n.endswith("entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(entry).decode()
    assert "[console_scripts]" in text
    assert "toto-bench = toto_bench.cli:main" in text


def test_installed_package_resolves_subpackages_from_their_folders() -> None:
    import toto_bench
    import toto_bench.adapters
    import toto_bench.metrics

    # editable installs map onto the source folders, wheel installs onto toto_bench/...
    assert Path(toto_bench.__file__).parent.name in {"bench", "toto_bench"}
    assert Path(toto_bench.adapters.__file__).parent.name == "adapters"
    assert Path(toto_bench.metrics.__file__).parent.name == "metrics"


def test_wheel_holds_the_demo_suite_data_and_its_sources(wheel_names: list[str]) -> None:
    root = ROOT / "bench" / "demo_data"
    shipped = sorted(str(p.relative_to(ROOT / "bench")) for p in root.rglob("*") if p.is_file())
    assert len(shipped) == 6 * 3 + 1  # six save_to_disk folders of three files, and SOURCES.md
    for name in shipped:
        assert f"toto_bench/{name}" in wheel_names
