"""``import fmmi_neuro.io`` and its loaders never pull torch; the package import pulls no nilearn."""

from __future__ import annotations

import subprocess
import sys


def test_io_does_not_import_torch():
    code = (
        "import sys, fmmi_neuro.io as io; light = 'nilearn' not in sys.modules; "
        "import fmmi_neuro.io.cohort, fmmi_neuro.io.parcellation; io.Cohort; io.parcellate; "
        "print(light, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_public_names_resolve():
    import fmmi_neuro as fn
    import fmmi_neuro.io as io

    for name in (
        "RegionTimeSeries",
        "Cohort",
        "Atlas",
        "load_atlas",
        "list_atlases",
        "parcellate",
        "load_region_table",
        "clean_region_signals",
        "scrub_mask",
    ):
        assert getattr(fn, name) is getattr(io, name)
    assert callable(io.parcellate)
