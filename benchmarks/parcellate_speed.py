"""Time ``fmmi_neuro.parcellate`` against nilearn's ``NiftiLabelsMasker``: 91x109x91x300 image, Schaefer-200.

The image has the MNI152 2 mm grid of the Schaefer atlas and 300 volumes of seeded Gaussian noise plus a
per-parcel signal (timing only; values do not matter). Both paths get the same file path (uncompressed
.nii) and the same in-memory image; the atlas is loaded once beforehand for both. Prints the median of
``--repeats`` interleaved runs of each and their ratio, in wall-clock and in process CPU time (less
sensitive to other jobs on a shared machine).

    python benchmarks/parcellate_speed.py --data-dir ../shared/data/nilearn_data
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np


def build_image(labels_img: nib.Nifti1Image, n_volumes: int, seed: int) -> nib.Nifti1Image:
    rng = np.random.default_rng(seed)
    lab = np.asarray(labels_img.dataobj).astype(np.int64)
    parcel_signal = rng.standard_normal((n_volumes, lab.max() + 1)).astype(np.float32)
    data = np.empty(lab.shape + (n_volumes,), dtype=np.float32)
    for t in range(n_volumes):
        data[..., t] = parcel_signal[t][lab] + rng.standard_normal(lab.shape, dtype=np.float32)
    data[lab == 0] = 0.0
    return nib.Nifti1Image(data, labels_img.affine)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared/data/nilearn_data")
    )
    parser.add_argument("--n-volumes", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from nilearn.maskers import NiftiLabelsMasker

    from fmmi_neuro.io import load_atlas, parcellate

    atlas = load_atlas("schaefer_2018", data_dir=args.data_dir, n_rois=200, resolution_mm=2)
    img = build_image(atlas.labels_img, args.n_volumes, args.seed)
    print(f"image {img.shape}, {np.asarray(img.dataobj).nbytes / 2**30:.2f} GiB float32; atlas {atlas!r}")

    def ours(source):
        return parcellate(source, atlas, t_r=2.0).data

    def nilearn_direct(source):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return NiftiLabelsMasker(labels_img=atlas.labels_img, standardize=None).fit_transform(source)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sub-bench_task-rest_bold.nii"
        nib.save(img, path)
        sources = (("file", path), ("in-memory", nib.Nifti1Image(np.asarray(img.dataobj), img.affine)))
        for label, source in sources:
            wall: dict[str, list[float]] = {"parcellate": [], "NiftiLabelsMasker": []}
            cpu: dict[str, list[float]] = {"parcellate": [], "NiftiLabelsMasker": []}
            for _ in range(args.repeats):
                for name, fn in (("NiftiLabelsMasker", nilearn_direct), ("parcellate", ours)):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    out = fn(source)
                    wall[name].append(time.perf_counter() - start)
                    cpu[name].append(time.process_time() - start_cpu)
            assert out.shape == (args.n_volumes, 200)
            for kind, times in (("wall", wall), ("cpu", cpu)):
                med = {k: statistics.median(v) for k, v in times.items()}
                print(
                    f"[{label}, {kind}] median of {args.repeats}: parcellate {med['parcellate']:.2f} s, "
                    f"NiftiLabelsMasker {med['NiftiLabelsMasker']:.2f} s, ratio "
                    f"{med['parcellate'] / med['NiftiLabelsMasker']:.2f}x (min ratio "
                    f"{min(times['parcellate']) / min(times['NiftiLabelsMasker']):.2f}x; all: "
                    + ", ".join(f"{k}={[round(x, 2) for x in v]}" for k, v in times.items())
                    + ")"
                )


if __name__ == "__main__":
    main()
