"""The adapter template of docs/adapters.md works as written: extracted from the page, it registers a
numpy-only plugin that passes the full adapter contract with torch blocked, and it names every ModelSpec
field."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from toto_bench.adapters.registry import ModelSpec

DOC = Path(__file__).resolve().parents[1] / "docs" / "adapters.md"
MARKER = "# my_package/toto_bench_plugin.py"


def _template() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    found = [b for b in blocks if b.startswith(MARKER)]
    assert len(found) == 1, f"expected one template block starting with {MARKER!r} in {DOC}"
    return found[0]


def test_template_names_every_model_spec_field() -> None:
    fields = [f.name for f in dataclasses.fields(ModelSpec)]
    template = _template()
    assert [f for f in fields if f"{f}=" not in template] == []
    sentence = re.search(r"registered as `ModelSpec\((.*?)\)`", DOC.read_text(), flags=re.S)
    assert sentence is not None
    assert [s.strip() for s in sentence.group(1).split(",")] == fields


def test_template_plugin_passes_the_contract_without_torch(tmp_path: Path) -> None:
    (tmp_path / "toto_bench_plugin.py").write_text(_template())
    script = textwrap.dedent(
        f"""
        import importlib.abc
        import sys
        from pathlib import Path

        import numpy as np


        class NoTorch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError(f"torch is blocked in this test ({{name}})")
                return None


        sys.meta_path.insert(0, NoTorch())
        sys.path.insert(0, {str(tmp_path)!r})
        import toto_bench_plugin as plugin
        from toto_bench.engine.contract import check_forecaster

        (spec,) = plugin.model_specs()
        folder = spec.test_checkpoint(Path({str(tmp_path / "ckpt")!r}))
        ran = check_forecaster(lambda: spec.factory(str(folder), **spec.test_settings))
        model = spec.factory(str(folder))
        ctx = np.arange(100, dtype=np.float32)[None, :]
        fc = model.predict([ctx], 3, freq="D", seasonality=7)
        print("CHECKS", ",".join(ran))
        print("MEDIAN", float(fc.quantiles[0, 0, 0, 4]), fc.quantiles.shape)
        print("TORCH", "torch" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert {"attributes", "output", "missing_values", "multivariate_routing"} <= set(out["CHECKS"].split(","))
    # the checkpoint's window is 16: the median of 84..99 is 91.5 (hand-computed)
    assert out["MEDIAN"] == "91.5 (1, 1, 3, 9)"
    assert out["TORCH"] == "False"
