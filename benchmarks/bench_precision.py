"""Benchmark: the saved MiniLM models in bfloat16 against float32 on the release's test split.

`conflictnews predict --precision bfloat16` runs the MiniLM models under torch's CPU autocast. This
prints, per saved MiniLM model, the test-split main score in float32 (the published number) and in
bfloat16, the share of test rows whose prediction is unchanged, and the seconds each took.

    python benchmarks/bench_precision.py                 # every saved MiniLM model
    python benchmarks/bench_precision.py --task entities --task triggers
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=None, help="Saved models (default: models/trained).")
    parser.add_argument("--task", action="append", default=None)
    args = parser.parse_args()

    from datasets import load_dataset

    from conflictnews.eval.scoring import score_predictions
    from conflictnews.eval.tasks import TASKS
    from conflictnews.models.trained import load_trained, saved_models, trained_root
    from conflictnews.paths import ProjectPaths

    paths = ProjectPaths.discover()
    for folder, info in saved_models(args.models or trained_root(paths)):
        if info.family != "neural" or (args.task and info.task not in args.task):
            continue
        model, _info = load_trained(folder)
        task = TASKS.get(info.task)
        test = load_dataset(str(paths.root / info.dataset.source), task.config, split="test")
        runs = {}
        for precision in ("float32", "bfloat16"):
            model.use_precision(precision)
            started = time.perf_counter()
            predictions = model.predict(test)
            seconds = time.perf_counter() - started
            runs[precision] = (predictions, score_predictions(info.task, test, predictions, n_resamples=0), seconds)
        (p32, s32, t32), (p16, s16, t16) = runs["float32"], runs["bfloat16"]
        same = sum(a == b for a, b in zip(p32, p16, strict=True)) / len(test)
        print(f"{info.task}/{info.name} ({len(test)} test rows, {info.dataset.version}): {s32.main_score} "
              f"float32 {s32.main_value:.4f} in {t32:.1f} s, bfloat16 {s16.main_value:.4f} in {t16:.1f} s; "
              f"{same:.2%} of the rows predicted the same")


if __name__ == "__main__":
    main()
