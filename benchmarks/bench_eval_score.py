"""Benchmark: score a 100,000-sentence prediction file of the entities task.

SYNTHETIC data: the split and the predictions are generated here (random valid IOB2 gold over
the real entity tag names, and a perturbed copy as the "system output"); they say nothing about
the corpus. The timed part is what `conflictnews eval score` does after loading the dataset:
read + validate the JSON Lines file, align it with the split, count, and run the 1,000-resample
article bootstrap. Target: < 10 s.

    python benchmarks/bench_eval_score.py [--sentences 100000] [--resamples 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import datasets
import numpy as np
import orjson
import pyarrow as pa

from conflictnews.dataset.features import ENTITIES
from conflictnews.eval.scoring import score_predictions

BUDGET_S = 10.0
SENTENCES_PER_ARTICLE = 25


def synthetic_tags(
    rng: np.random.Generator,
    lengths: np.ndarray,
    n_types: int,
    p_start: float = 0.12,
    p_continue: float = 0.5,
) -> np.ndarray:
    """Flat valid IOB2 tag ids (O=0, B-k=1+2k, I-k=2+2k) for sentences of `lengths` tokens."""
    total = int(lengths.sum())
    first = np.zeros(total, dtype=bool)
    first[np.cumsum(lengths)[:-1]] = True
    first[0] = True
    start = rng.random(total) < p_start
    kinds = rng.integers(0, n_types, size=total)
    cont = rng.random(total) < p_continue
    tags = np.zeros(total, dtype=np.int64)
    current = -1  # type of the span the previous token is in, -1 if none
    for i in range(total):  # sequential by nature (a span continues its predecessor)
        if first[i]:
            current = -1
        if start[i]:
            current = int(kinds[i])
            tags[i] = 1 + 2 * current
        elif current >= 0 and cont[i]:
            tags[i] = 2 + 2 * current
        else:
            current = -1
    return tags


def perturbed(
    rng: np.random.Generator, gold: np.ndarray, lengths: np.ndarray, n_types: int, rate: float = 0.1
) -> np.ndarray:
    """A synthetic system output: some tokens changed to O or to a random B- tag, then repaired to
    valid IOB2 (an I-X whose predecessor is not of type X becomes B-X; one pass suffices, since the
    repair keeps the token's type)."""
    pred = gold.copy()
    change = rng.random(len(pred)) < rate
    pred[change] = np.where(
        rng.random(int(change.sum())) < 0.5, 0, 1 + 2 * rng.integers(0, n_types, int(change.sum()))
    )
    first = np.zeros(len(pred), dtype=bool)
    first[np.cumsum(lengths)[:-1]] = True
    first[0] = True
    inside = (pred > 0) & (pred % 2 == 0)
    typ = np.where(pred > 0, (pred - 1) // 2, -1)
    prev = np.concatenate([[-1], typ[:-1]])
    pred[inside & (first | (prev != typ))] -= 1
    return pred


def build(n_sentences: int, seed: int, folder: Path) -> tuple[datasets.Dataset, Path]:
    rng = np.random.default_rng(seed)
    names = ENTITIES["ner_tags"].feature.names
    n_types = (len(names) - 1) // 2
    lengths = rng.integers(5, 40, size=n_sentences)
    gold = synthetic_tags(rng, lengths, n_types)
    pred = perturbed(rng, gold, lengths, n_types)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    ids = [f"synthetic-{i:06d}" for i in range(n_sentences)]
    tokens = pa.ListArray.from_arrays(
        offsets, pa.array(np.full(int(lengths.sum()), "w", dtype=object), pa.string())
    )
    table = pa.table(
        {
            "id": ids,
            "article_id": [f"article-{i // SENTENCES_PER_ARTICLE:05d}" for i in range(n_sentences)],
            "sentence_index": pa.array(np.arange(n_sentences) % SENTENCES_PER_ARTICLE, pa.int32()),
            "tokens": tokens,
            "ner_tags": pa.ListArray.from_arrays(offsets, pa.array(gold)),
        },
        schema=ENTITIES.arrow_schema,
    )
    split = datasets.Dataset(table, info=datasets.DatasetInfo(features=ENTITIES))
    path = folder / "synthetic-entities.predictions.jsonl"
    name_array = np.array(names, dtype=object)
    with open(path, "wb") as handle:
        for i, row_id in enumerate(ids):
            handle.write(
                orjson.dumps(
                    {"id": row_id, "tags": name_array[pred[offsets[i] : offsets[i + 1]]].tolist()}
                )
            )
            handle.write(b"\n")
    return split, path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        split, path = build(args.sentences, args.seed, Path(tmp))
        print(
            f"SYNTHETIC data: {args.sentences:,} sentences, {sum(len(t) for t in split['ner_tags']):,} tokens, "
            f"{args.sentences // SENTENCES_PER_ARTICLE:,} articles; prediction file "
            f"{path.stat().st_size / 1e6:.1f} MB (generated in {time.perf_counter() - t0:.1f} s, not timed)"
        )
        start = time.perf_counter()
        score = score_predictions(
            "entities", split, path, n_resamples=args.resamples, seed=args.seed
        )
        elapsed = time.perf_counter() - start
    low, high = score.ci["f1"]
    print(
        f"f1 = {score.main_value:.4f}  95% CI [{low:.4f}, {high:.4f}]  ({args.resamples} article resamples)"
    )
    print(
        f"scored in {elapsed:.2f} s (validation + counting + bootstrap): {args.sentences / elapsed:,.0f} sentences/s"
    )
    if args.sentences >= 100_000 and elapsed > BUDGET_S:
        print(f"FAIL: over the {BUDGET_S:.0f} s budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
