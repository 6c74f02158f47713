"""The run record (``toto_bench.engine.record``): environment, model description, weights hash, resources.

Oracles are independent of the code under test: ``hashlib``/``sha256sum`` over the weight files concatenated
by hand, the Hugging Face cache layout written by ``layouts.write_hf_cache``, ``importlib.metadata``,
``/proc/cpuinfo`` and ``.git`` read directly, the size of an allocated array, the tensors stored in a
safetensors file, and hand-built fake CUDA counters.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap
import time
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import layouts
import numpy as np
import pandas as pd
import pytest

from toto_bench.adapters.common import install_hint
from toto_bench.adapters.registry import build_model
from toto_bench.adapters.statistical import AutoStatsForecaster
from toto_bench.cli import main
from toto_bench.engine import environment as environment_module
from toto_bench.engine import record
from toto_bench.engine.record import (
    MODEL_KEYS,
    ResourceMonitor,
    build_run_record,
    checkpoint_revision,
    describe_model,
    device_name,
    environment,
    fallback_summary,
    git_state,
    weights_sha256,
)

REPO = Path(__file__).resolve().parents[1]
REVISION = "0123456789abcdef0123456789abcdef01234567"


def _cpuinfo_model() -> str:
    path = Path("/proc/cpuinfo")
    if not path.is_file():
        pytest.skip("no /proc/cpuinfo on this platform")
    match = re.search(r"^model name\s*:\s*(.+)$", path.read_text(), flags=re.MULTILINE)
    if match is None:
        pytest.skip("/proc/cpuinfo has no 'model name' line (e.g. ARM)")
    return match.group(1).strip()


@pytest.fixture(autouse=True)
def _fresh_hash_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "_HASHES", {})


# ----------------------------------------------------------------------------------------------------------
# Weights hash


def _write_checkpoint(folder: Path, seed: int = 0) -> dict[str, bytes]:
    """Fake weight files (one crossing the 1 MiB read chunk, one in a sub-folder) plus non-weight files."""
    rng = np.random.default_rng(seed)
    files = {
        "model-00002-of-00002.safetensors": rng.bytes(2_500_000),
        "model-00001-of-00002.safetensors": rng.bytes(1_048_576),
        "sub/extra.bin": rng.bytes(777),
        "optimizer.pt": rng.bytes(1),
        "last.ckpt": b"",
    }
    others = {
        "config.json": b'{"d_model": 8}',
        "README.md": b"# not weights",
        "model.safetensors.json": b"{}",
    }
    for name, data in {**files, **others}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return files


#: The hash order, written out: relative POSIX paths sorted as strings.
HASH_ORDER = [
    "last.ckpt",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "optimizer.pt",
    "sub/extra.bin",
]


def test_weights_hash_is_sha256_of_the_weight_files_concatenated_in_path_order(tmp_path: Path) -> None:
    files = _write_checkpoint(tmp_path)
    digest, names = weights_sha256(tmp_path)
    assert names == HASH_ORDER
    assert digest == hashlib.sha256(b"".join(files[name] for name in HASH_ORDER)).hexdigest()
    if shutil.which("sha256sum") and shutil.which("cat"):
        cat = subprocess.run(["cat", *HASH_ORDER], cwd=tmp_path, capture_output=True, check=True).stdout
        summed = subprocess.run(["sha256sum"], input=cat, capture_output=True, check=True).stdout
        assert digest == summed.split()[0].decode()


def test_weights_hash_follows_hf_cache_symlinks_and_is_computed_once_per_folder(tmp_path: Path) -> None:
    blob = tmp_path / "blobs" / "abc"
    blob.parent.mkdir()
    blob.write_bytes(b"weights bytes")
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    (snapshot / "model.safetensors").symlink_to(blob)
    first = weights_sha256(snapshot)
    assert first == (hashlib.sha256(b"weights bytes").hexdigest(), ["model.safetensors"])
    blob.write_bytes(b"changed")  # the run's weights were read once; the record keeps their first hash
    assert weights_sha256(snapshot) == first


def test_a_folder_without_weight_files_has_no_hash(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert weights_sha256(tmp_path) == (None, [])


# ----------------------------------------------------------------------------------------------------------
# Checkpoint revision


@pytest.mark.parametrize(
    ("where", "explicit", "expected"),
    [
        ("snapshot", None, REVISION),  # the HF cache commit
        ("snapshot", "main", REVISION),  # a branch resolves to the snapshot's commit
        ("snapshot_sub", None, REVISION),  # a sub-folder of a snapshot
        ("local", None, None),  # a plain folder has no revision
        ("local", "v1.0", "v1.0"),  # ... unless one was given
        ("none", "abc", "abc"),
    ],
)
def test_revision_is_the_hf_snapshot_commit_else_the_explicit_one(
    tmp_path: Path, where: str, explicit: str | None, expected: str | None
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    _write_checkpoint(source)
    snapshot = layouts.write_hf_cache(tmp_path / "hf", "Datadog/Toto-2.0-4m", source, REVISION)
    folder = {"snapshot": snapshot, "snapshot_sub": snapshot / "sub", "local": source, "none": None}[where]
    assert checkpoint_revision(folder, explicit) == expected


class _HubModel:
    """An adapter that only knows the hub id it loaded (like toto1, chronos, moirai, timesfm)."""

    def __init__(self, checkpoint: str) -> None:
        self.checkpoint = checkpoint

    def describe(self) -> dict[str, Any]:
        return {"name": "hub-model", "model_id": "Datadog/Toto-2.0-4m", "checkpoint": self.checkpoint}


def test_a_hub_id_resolves_to_its_cached_snapshot_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    source = tmp_path / "src"
    source.mkdir()
    files = _write_checkpoint(source)
    (source / "model.safetensors").write_bytes(b"main weights")
    files["model.safetensors"] = b"main weights"
    files = {name: data for name, data in files.items() if "/" not in name}  # write_hf_cache: top level
    snapshot = layouts.write_hf_cache(tmp_path / "hf", "Datadog/Toto-2.0-4m", source, REVISION)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    described = describe_model(_HubModel("Datadog/Toto-2.0-4m"))
    assert described["checkpoint_dir"] == str(snapshot)
    assert described["checkpoint_revision"] == REVISION
    order = sorted(files)
    assert described["weights_files"] == order
    assert described["weights_sha256"] == hashlib.sha256(b"".join(files[n] for n in order)).hexdigest()

    missing = describe_model(_HubModel("Datadog/not-cached"))  # not in the cache: nothing to hash
    assert (missing["checkpoint_dir"], missing["weights_sha256"], missing["checkpoint_revision"]) == (
        None,
        None,
        None,
    )


# ----------------------------------------------------------------------------------------------------------
# Environment


def test_package_versions_are_the_installed_distributions() -> None:
    env = environment()
    versions = env["versions"]
    for package in record.PACKAGES:
        try:
            expected = metadata.version(package)
        except metadata.PackageNotFoundError:
            assert package not in versions
        else:
            assert versions[package] == expected
    assert versions["toto-bench"] == metadata.version("toto-bench") == env["toto_bench_version"]
    assert versions["python"] == env["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    assert env["python_implementation"] == sys.implementation.name.replace("cpython", "CPython")
    assert env["hostname"] == platform.node()
    assert "numpy" in versions and "pandas" in versions  # core dependencies are always there


def test_torch_cuda_version_is_read_without_importing_torch() -> None:
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    script = textwrap.dedent(
        """
        import json, sys
        from toto_bench.engine.record import environment
        env = environment()
        imported = "torch" in sys.modules
        import torch
        print(json.dumps([env["torch_cuda"], torch.version.cuda, imported]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    recorded, actual, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert recorded == actual and not imported


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "__version__ = '2.13.0+cu128'\ndebug = False\ncuda: Optional[str] = '12.8'\n",
            "12.8",
        ),
        ("__version__ = '2.13.0+cpu'\ncuda: Optional[str] = None\nhip: Optional[str] = None\n", None),
        ('cuda = "11.8"\n', "11.8"),
    ],
)
def test_torch_cuda_version_is_parsed_from_torch_version_py(text: str, expected: str | None) -> None:
    assert environment_module._cuda_from_version_file(text) == expected


def _head_from_dot_git(repo: Path) -> str:
    """HEAD's commit read from the ``.git`` folder itself (no git binary).

    In a linked worktree ``.git`` is a file ``gitdir: <dir>``: HEAD lives in that dir, the refs in its
    ``commondir``.
    """
    git = repo / ".git"
    if git.is_file():
        git = (repo / git.read_text().strip().removeprefix("gitdir: ")).resolve()
    common = git / (git / "commondir").read_text().strip() if (git / "commondir").is_file() else git
    head = (git / "HEAD").read_text().strip()
    if not head.startswith("ref: "):
        return head
    ref = head[5:]
    if (common / ref).is_file():
        return (common / ref).read_text().strip()
    for line in (common / "packed-refs").read_text().splitlines():
        if line.endswith(" " + ref):
            return line.split()[0]
    raise AssertionError(f"ref {ref} not found")


def test_git_sha_and_dirty_flag_of_the_source_checkout() -> None:
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not running from a git checkout of toto-bench")
    state = git_state()
    assert state["git_sha"] == _head_from_dot_git(REPO)
    clean = subprocess.run(["git", "-C", str(REPO), "diff", "--quiet", "HEAD"], check=False).returncode == 0
    assert state["git_dirty"] is (not clean)


def test_git_sha_is_none_outside_a_toto_bench_checkout(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    package = tmp_path / "site-packages" / "toto_bench"
    package.mkdir(parents=True)
    assert git_state(package) == {"git_sha": None, "git_dirty": None}  # not a repository at all
    # a venv inside some other project's repository: that repository's commit is not toto-bench's
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "someone-else"\n')
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    for args in (["init", "-q"], ["add", "pyproject.toml"], ["commit", "-q", "-m", "x"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, env=env, capture_output=True)
    assert git_state(package) == {"git_sha": None, "git_dirty": None}


def test_cpu_device_name_is_the_proc_cpuinfo_model() -> None:
    expected = _cpuinfo_model()
    assert record.cpu_model() == expected == device_name("cpu") == environment()["cpu"]


# ----------------------------------------------------------------------------------------------------------
# Resources


def _rss_mb() -> float:
    """Current resident set size in MiB from /proc/self/statm."""
    statm = Path("/proc/self/statm")
    if not statm.is_file():
        pytest.skip("no /proc/self/statm on this platform")
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_peak_rss_grows_by_at_least_an_allocated_array() -> None:
    before_now = _rss_mb()
    with ResourceMonitor() as monitor:
        before_peak = record.peak_rss_mb()
        # enough to lift the lifetime peak: (old peak - current) + 200 MiB, every page touched
        size_mb = max(0.0, before_peak - before_now) + 200
        block = np.ones(int(size_mb * 2**20) // 8, dtype=np.float64)
        assert block[-1] == 1.0
    usage = monitor.usage()
    assert usage["peak_rss_mb"] >= before_now + 0.95 * block.nbytes / 2**20
    assert usage["peak_rss_mb"] >= before_peak + 150
    del block


def test_wall_time_covers_the_monitored_block() -> None:
    monitor = ResourceMonitor().start()
    time.sleep(0.2)
    usage = monitor.stop()
    assert 0.2 <= usage["wall_seconds"] < 5.0
    time.sleep(0.05)
    assert monitor.stop()["wall_seconds"] == usage["wall_seconds"]  # stopping twice keeps the first stop
    with pytest.raises(RuntimeError, match="before start"):
        ResourceMonitor().stop()


class _FakeCuda:
    """Two devices with known peaks (3 MiB and 5 MiB), counting resets."""

    def __init__(self, peaks: list[int]) -> None:
        self.peaks = peaks
        self.resets: list[int] = []

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return True

    def device_count(self) -> int:
        return len(self.peaks)

    def max_memory_allocated(self, device: int) -> int:
        return self.peaks[device]

    def reset_peak_memory_stats(self, device: int) -> None:
        self.resets.append(device)

    def get_device_name(self, device: int) -> str:
        return f"Fake GPU {device}"

    def current_device(self) -> int:
        return 1


def test_gpu_peak_is_the_largest_device_peak_in_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    cuda = _FakeCuda([3 * 2**20, 5 * 2**20 + 2**19])
    monkeypatch.setitem(
        sys.modules, "torch", SimpleNamespace(cuda=cuda, version=SimpleNamespace(cuda="12.4"))
    )
    monitor = ResourceMonitor().start()
    assert cuda.resets == [0, 1]  # this run's peak, not an earlier one's
    usage = monitor.stop()
    assert usage["peak_gpu_memory_mb"] == 5.5
    assert usage["peak_gpu_memory_mb_by_device"] == [3.0, 5.5]
    assert device_name("cuda:0") == "Fake GPU 0" and device_name("cuda") == "Fake GPU 1"


def test_no_gpu_figures_and_no_torch_import_for_a_statistical_run() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from toto_bench.adapters.statistical import SeasonalNaiveForecaster
        from toto_bench.engine.record import ResourceMonitor, build_run_record
        monitor = ResourceMonitor().start()
        out = build_run_record(base={}, model=SeasonalNaiveForecaster(), monitor=monitor, windows=3)
        gpu = [out["peak_gpu_memory_mb"], out["peak_gpu_memory_mb_by_device"]]
        print(json.dumps([*gpu, "torch" in sys.modules]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [None, None, False]


# ----------------------------------------------------------------------------------------------------------
# Model descriptions


@pytest.mark.parametrize(
    ("name", "suite", "context_length", "setting"),
    [
        ("seasonal-naive", "gift-eval", None, ("all_nan", "zero")),
        ("seasonal-naive", "boom", 2048, ("all_nan", "zero")),
        ("naive", None, None, ("all_nan", "zero")),
        ("auto-ets", None, 1000, ("model_params", {"model": "ZZN"})),
        ("auto-arima", None, 512, ("time_limit", None)),
        ("auto-theta", "gift-eval", None, ("upstream", "gift-eval")),
        ("auto-arima", "boom", 512, ("time_limit", 45.0)),
    ],
)
def test_statistical_models_describe_their_settings(
    name: str, suite: str | None, context_length: int | None, setting: tuple[str, Any]
) -> None:
    if name.startswith("auto-"):
        pytest.importorskip("statsforecast")
    described = describe_model(build_model(name, suite=suite))
    assert list(described) == list(MODEL_KEYS)
    assert described["name"] == name and described["context_length"] == context_length
    assert (described["device"], described["dtype"]) == ("cpu", "float32")
    assert described["device_name"] == record.cpu_model()
    for key in (
        "checkpoint",
        "checkpoint_dir",
        "checkpoint_revision",
        "weights_sha256",
        "seed",
        "parameters",
    ):
        assert described[key] is None, key
    assert described["weights_files"] == []
    assert described["settings"][setting[0]] == setting[1]
    json.dumps(described)


class _Plugin:
    """A third-party adapter without ``describe()``."""

    name = "my-model"
    device = "cpu"
    context_length = 96
    batch_size = 4


class _Broken(_Plugin):
    def describe(self) -> dict[str, Any]:
        raise KeyError("oops")


def test_adapters_without_a_working_describe_are_read_from_their_attributes() -> None:
    described = describe_model(_Plugin())
    assert list(described) == list(MODEL_KEYS)
    assert (described["name"], described["model_id"], described["context_length"]) == ("my-model",) * 2 + (
        96,
    )
    assert (described["batch_size"], described["device"], described["parameters"]) == (4, "cpu", None)
    broken = describe_model(_Broken())  # the run is over: its record must still be written
    assert broken["name"] == "my-model" and broken["settings"] == {"describe_error": "KeyError: 'oops'"}


def test_fallbacks_name_the_configs_they_happened_in() -> None:
    pytest.importorskip("statsforecast")
    model = AutoStatsForecaster("auto-ets", n_jobs=1, time_limit=None)
    tiny = [np.array([[1.0, 2.0]], np.float32), np.array([[1.0, 2.0, 4.0]], np.float32)]
    t = np.arange(80)
    seasonal = [
        np.vstack([10 + np.sin(2 * np.pi * t / 12), 5 + np.cos(2 * np.pi * t / 12)]).astype(np.float32)
    ]

    # the engine announces each config before its calls (forecasting.score_task)
    model.begin_task(SimpleNamespace(config="tiny/D/short"), first_context_length=2)
    model.predict(tiny, 3, freq="D", seasonality=1)  # ETS refuses 2- and 3-point series
    model.begin_task(SimpleNamespace(config="fine/M/short"), first_context_length=80)
    model.predict(seasonal, 6, freq="M", seasonality=12)  # fits: no fallback
    model.time_limit = 0  # a call over its time limit: the whole config becomes seasonal naive
    model.begin_task(SimpleNamespace(config="slow/M/short"), first_context_length=80)
    model.predict(seasonal, 6, freq="M", seasonality=12)

    summary = fallback_summary(model)
    assert [(f["config"], f["reason"], f["series"], f["call"]) for f in summary] == [
        ("tiny/D/short", "exception", 2, 0),
        ("slow/M/short", "time_limit", 2, 2),
    ]
    assert model.fallback_configs == ["slow/M/short", "tiny/D/short"]
    assert describe_model(model)["settings"]["fallback_configs"] == ["slow/M/short", "tiny/D/short"]
    monitor = ResourceMonitor().start()
    out = build_run_record(base={"fallbacks": model.fallbacks}, model=model, monitor=monitor, windows=0)
    assert out["fallback_configs"] == ["slow/M/short", "tiny/D/short"]
    assert out["fallbacks"] == summary and out["windows_per_second"] is None
    json.dumps(out)


def _safetensors_numel(path: Path, skip: set[str]) -> int:
    """Values stored in a safetensors file (the product of each tensor's shape, read from its header),
    leaving out the tensors named in ``skip`` (persistent buffers, which are no parameters)."""
    raw = path.read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    return sum(int(np.prod(v["shape"])) for k, v in header.items() if k != "__metadata__" and k not in skip)


@pytest.mark.parametrize(("block", "mode"), [(None, "single pass"), (64, "block decoding (64 steps)")])
def test_toto2_checkpoint_from_the_hf_cache_is_fully_described(
    tmp_path: Path, block: int | None, mode: str
) -> None:
    pytest.importorskip("torch", reason=f"torch is not installed: {install_hint('toto2')}")
    pytest.importorskip("toto2", reason=f"toto-2 is not installed: {install_hint('toto2')}")
    from toto_bench.adapters.toto2 import TINY_TEST_CONFIG, Toto2Forecaster, build_test_checkpoint

    source = build_test_checkpoint(tmp_path / "ckpt")
    snapshot = layouts.write_hf_cache(tmp_path / "hf", "Datadog/Toto-2.0-4m", source, REVISION)
    model = Toto2Forecaster(snapshot, context_length=512, batch_size=8, decode_block_size=block, device="cpu")
    described = describe_model(model)
    assert list(described) == list(MODEL_KEYS)
    weights = snapshot / "model.safetensors"
    buffers = {name for name, _ in model.model.named_buffers()}
    assert described["parameters"] == _safetensors_numel(weights, buffers)
    assert described["parameters"] == sum(p.numel() for p in model.model.parameters())
    assert described["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert described["weights_files"] == ["model.safetensors"]
    assert described["checkpoint_revision"] == REVISION and described["checkpoint_dir"] == str(snapshot)
    assert described["checkpoint"] == str(snapshot)  # loaded as a folder (--checkpoint DIR)
    assert described["model_id"] == "Datadog/Toto-2.0-4m" and described["name"] == "toto2-4m"
    assert (described["device"], described["dtype"]) == ("cpu", "float32")
    assert described["device_name"] == _cpuinfo_model()
    assert (described["context_length"], described["batch_size"], described["seed"]) == (512, 8, None)
    assert described["decode_mode"] == mode
    assert described["settings"]["patch_size"] == TINY_TEST_CONFIG["patch_size"]
    json.dumps(described)


#: Other families: registered name → (the torch module holding the weights, seed, decode mode prefix).
FAMILIES: dict[str, tuple[Any, int | None, str]] = {
    "toto1": (lambda m: m.model, 42, "256 sample paths"),
    "chronos-bolt-small": (lambda m: m.pipeline.model, None, "quantile head"),
    "chronos-2": (lambda m: m.pipeline.model, None, "quantile head"),
    "moirai-1.1-small": (lambda m: m.model, 0, "100 sample paths"),
    "moirai-2-small": (lambda m: m.model, None, "quantile head"),
    "timesfm-2.5-200m": (lambda m: m.model.model, None, "continuous quantile head"),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_describes_its_local_test_checkpoint(tmp_path: Path, name: str) -> None:
    from toto_bench.adapters.common import MissingExtraError
    from toto_bench.adapters.registry import available_models

    spec = available_models()[name]
    assert spec.test_checkpoint is not None
    try:
        folder = spec.test_checkpoint(tmp_path / "ckpt")
        model = build_model(name, checkpoint=folder, device="cpu")
    except (MissingExtraError, ImportError) as exc:  # the family's packages are not installed
        pytest.skip(f"{name}: {exc}")
    module, seed, mode = FAMILIES[name]
    described = describe_model(model)
    assert list(described) == list(MODEL_KEYS)
    assert described["name"] == name and described["model_id"] == spec.checkpoint
    assert described["checkpoint_dir"] == str(Path(folder).absolute())
    assert described["checkpoint_revision"] is None  # a plain folder, no revision asked for
    weights = sorted(f for f in os.listdir(folder) if f.endswith((".safetensors", ".bin", ".pt", ".ckpt")))
    assert described["weights_files"] == weights
    concatenated = b"".join((Path(folder) / f).read_bytes() for f in weights)
    assert described["weights_sha256"] == hashlib.sha256(concatenated).hexdigest()
    expected = sum(p.numel() for p in module(model).parameters())
    stored = sum(_safetensors_numel(Path(folder) / f, set()) for f in weights if f.endswith(".safetensors"))
    assert described["parameters"] == expected and 0 < expected <= stored
    assert (described["device"], described["device_name"]) == ("cpu", _cpuinfo_model())
    assert described["dtype"] == "float32" and described["seed"] == seed
    assert described["decode_mode"].startswith(mode)
    assert described["context_length"] == model.context_length
    json.dumps(described)


# ----------------------------------------------------------------------------------------------------------
# End to end


def _documented_fields() -> set[str]:
    text = (REPO / "docs" / "running.md").read_text()
    section = text.split("## The run record", 1)
    assert len(section) == 2, "docs/running.md lacks its 'The run record' section"
    body = section[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\|([^|\n]*)\|", body, flags=re.MULTILINE)
    return {name for cell in first_cells for name in re.findall(r"`([a-z_0-9]+)`", cell)}


def test_a_seasonal_naive_run_gives_a_json_record_with_every_field_documented(tmp_path: Path) -> None:
    root = tmp_path / "data"
    rng = np.random.default_rng(3)
    t = np.arange(400)
    target = (20 + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, (3, t.size))).astype(np.float32)
    layouts.write_dataset(root / "ett1" / "D", [target], freq="D", start=pd.Timestamp("2020-01-01"))
    out = tmp_path / "results"
    argv = ["run", "--suite", "gift-eval", "--model", "seasonal-naive", "--data-dir", str(root)]
    argv += ["--datasets", "ett1/D", "--output-dir", str(out), "--no-progress"]

    assert main(argv) == 0
    folder = out / "gift-eval" / "seasonal-naive"
    text = (folder / "config.json").read_text()
    run = json.loads(text)  # the engine's own record
    windows = int(pd.read_csv(folder / "all_results.csv")["dataset_size"].sum())
    assert windows == 2 * 3  # ceil(0.1 * 400 / 30) = 2 windows of H = 30, 3 variates (univariate model)
    assert run["windows"] == windows
    assert run["suite"] == "gift-eval" and run["settings"]["model"] == "seasonal-naive"
    assert run["windows_per_second"] == round(windows / run["wall_seconds"], 1)
    assert run["fallbacks"] == [] and run["fallback_configs"] == []
    assert run["model_details"]["name"] == "seasonal-naive"
    assert run["model_type"] == "statistical"  # the GIFT-Eval card field the board filters on
    assert run["model_details"]["context_length"] is None  # GIFT-Eval: the full history
    assert run["versions"]["numpy"] == metadata.version("numpy")
    assert run["peak_gpu_memory_mb"] is None  # no CUDA here
    documented = _documented_fields()
    assert set(run) - documented == set()
    assert set(run["model_details"]) - documented == set()


@pytest.mark.parametrize(
    ("name", "model_type"),
    [
        ("seasonal-naive", "statistical"),
        ("auto-ets", "statistical"),
        ("toto2-313m", "pretrained"),
        ("chronos-bolt-small", "pretrained"),
        ("moirai-1.1-small", "pretrained"),
    ],
)
def test_registered_models_carry_the_gift_eval_model_type(name: str, model_type: str) -> None:
    from toto_bench.adapters.registry import get_model_spec

    assert get_model_spec(name).card_model_type == model_type
