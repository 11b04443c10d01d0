"""`minilm_span_pair` (stance): MiniLM reads each context once; a head classifies all its actor pairs.

`minilm_pair` marks one pair per input, so a context with 25 candidate pairs is encoded 25 times:
11 sentences/s in `predict` on CPU. Here a context is encoded once. Each pair is classified from
the context's [CLS] vector, the mean of the holder's and the target's sub-token vectors (and their
product), and learned embeddings of the two entity types. This is the mention-pooling model of
relation extraction (Baldini Soares et al. 2019, "Matching the Blanks", variant without markers).
Training sees every candidate pair, NONE ones included, at the cost of one forward per context.

The head is a transformers model class (`MiniLMForSpanPairClassification`, a BERT encoder plus the
pair head), saved with `save_pretrained` as safetensors. It needs this class to load:
`transformers.pipeline` has no task for classifying spans given as offsets.

A span whose sub-tokens all lie past `max_length` pools to the context's [CLS] vector (counted in
the notes); the NONE-logit offset is tuned on the validation split as `minilm_pair` does.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasets import Dataset

from conflictnews.io import ConflictNewsError
from conflictnews.models.base import column, label_names
from conflictnews.models.neural.pair import MiniLMPair, MiniLMPairParams
from conflictnews.models.neural.training import PAD_TO_MULTIPLE

# The columns one encoded context carries besides the tokenizer's: its pairs, per pair.
PAIR_COLUMNS = ("holder_spans", "target_spans", "holder_types", "target_types")


class MiniLMSpanPairParams(MiniLMPairParams):
    # Width of the learned holder/target entity-type embeddings (0: no type features).
    type_embedding_dim: int = 32
    # Contexts longer than max_length tokens are cut; a stance context is one or two sentences.
    max_length: int = 192


@dataclass(frozen=True)
class EncodedContexts:
    """The distinct contexts of a split, tokenized once, and which rows (pairs) each one holds."""

    features: dict[str, list[Any]]  # input_ids, attention_mask and PAIR_COLUMNS, per context
    rows: list[list[int]]  # per context, its rows in the split, in row order
    cut_spans: int  # spans with no sub-token inside max_length


def token_span(offsets: list[tuple[int, int]], ends: list[int], start: int, end: int) -> tuple[int, int]:
    """The [first, last + 1) sub-token positions overlapping characters [start, end), or (0, 0).

    `offsets` are the tokenizer's character offsets ((0, 0) for special tokens); `ends` their end
    offsets made non-decreasing (a special token takes its predecessor's), so a bisection finds the
    first sub-token ending after `start`.
    """
    positions = _overlapping(offsets, bisect.bisect_right(ends, start), start, end)
    return (positions[0], positions[-1] + 1) if positions else (0, 0)


def _overlapping(offsets: list[tuple[int, int]], first: int, start: int, end: int) -> list[int]:
    end = max(end, start + 1)  # an empty span takes the sub-token at its offset
    found = []
    for i in range(first, len(offsets)):
        token_start, token_end = offsets[i]
        if token_end <= token_start:  # special or padding token
            continue
        if token_start >= end:
            break
        if token_end > start:
            found.append(i)
    return found


def span_pair_model_class() -> Any:
    """The transformers model class (built lazily: torch is an optional dependency)."""
    global _MODEL_CLASS
    if _MODEL_CLASS is None:
        _MODEL_CLASS = _build_model_class()
    return _MODEL_CLASS


_MODEL_CLASS: Any = None


def _build_model_class() -> Any:
    import torch
    from torch import nn
    from transformers import BertModel, BertPreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    class MiniLMForSpanPairClassification(BertPreTrainedModel):
        """A BERT encoder and a pair head over pooled holder/target sub-token vectors.

        Inputs: the contexts (`input_ids`, `attention_mask`) and, per pair, the index of its context
        and its holder's and target's [first, end) sub-token positions and entity-type ids.
        Config: `num_labels`, `entity_types` (names, their order gives the ids), `type_embedding_dim`.
        """

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            hidden = config.hidden_size
            self.bert = BertModel(config, add_pooling_layer=False)
            dim = int(getattr(config, "type_embedding_dim", 0))
            types = len(getattr(config, "entity_types", []) or [])
            self.type_embeddings = nn.Embedding(max(types, 1), dim) if dim else None
            self.dropout = nn.Dropout(config.hidden_dropout_prob)
            self.dense = nn.Linear(4 * hidden + 2 * dim, hidden)
            self.classifier = nn.Linear(hidden, config.num_labels)
            self.post_init()

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            pair_context: torch.Tensor,
            holder_spans: torch.Tensor,
            target_spans: torch.Tensor,
            holder_types: torch.Tensor,
            target_types: torch.Tensor,
            labels: torch.Tensor | None = None,
            **_: Any,
        ) -> SequenceClassifierOutput:
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            # Sums over spans from prefix sums, in float32 (under bfloat16 autocast too).
            states = states.float()
            prefix = torch.cat([states.new_zeros(states.shape[0], 1, states.shape[2]), states.cumsum(1)], 1)
            cls = states[pair_context, 0]

            def pooled(spans: torch.Tensor) -> torch.Tensor:
                start, end = spans[:, 0], spans[:, 1]
                total = prefix[pair_context, end] - prefix[pair_context, start]
                mean = total / (end - start).clamp(min=1).unsqueeze(1).to(total.dtype)
                return torch.where((end > start).unsqueeze(1), mean, cls)

            holder, target = pooled(holder_spans), pooled(target_spans)
            parts = [cls, holder, target, holder * target]
            if self.type_embeddings is not None:
                parts += [self.type_embeddings(holder_types), self.type_embeddings(target_types)]
            features = self.dropout(torch.cat(parts, 1))
            logits = self.classifier(self.dropout(nn.functional.gelu(self.dense(features))))
            loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
            return SequenceClassifierOutput(loss=loss, logits=logits)

    return MiniLMForSpanPairClassification


class PairCollator:
    """Pads a batch of contexts and concatenates their pairs (with each pair's context index)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, contexts: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        batch = self.tokenizer.pad(
            {k: [c[k] for c in contexts] for k in ("input_ids", "attention_mask")},
            return_tensors="pt", pad_to_multiple_of=PAD_TO_MULTIPLE,
        )
        batch["pair_context"] = torch.tensor(
            [i for i, c in enumerate(contexts) for _ in c["holder_types"]], dtype=torch.long
        )
        for name in PAIR_COLUMNS:
            batch[name] = torch.tensor([v for c in contexts for v in c[name]], dtype=torch.long)
        if "labels" in contexts[0]:
            batch["labels"] = torch.tensor([v for c in contexts for v in c["labels"]], dtype=torch.long)
        return batch


class MiniLMSpanPair(MiniLMPair):
    name = "minilm_span_pair"
    summary = (
        "MiniLM (all-MiniLM-L6-v2) fine-tuned to encode each context once and classify every actor pair "
        "in it from pooled holder/target vectors and entity types."
    )
    special_tokens = ()
    params_model = MiniLMSpanPairParams
    trainer_removes_unused_columns = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._entity_types: list[str] = []  # set by _fit; a loaded model's come from its config

    def _auto_class(self) -> Any:
        return span_pair_model_class()

    def _pretrained(self, source: Any) -> Any:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(
            source,
            num_labels=len(self.labels),
            id2label=dict(enumerate(self.labels)),
            label2id={label: i for i, label in enumerate(self.labels)},
        )
        config.entity_types = self.entity_types
        config.type_embedding_dim = self.params.type_embedding_dim
        return span_pair_model_class().from_pretrained(source, config=config)

    @property
    def entity_types(self) -> list[str]:
        if self.model is not None and getattr(self.model.config, "entity_types", None):
            return list(self.model.config.entity_types)
        return self._entity_types

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        self._entity_types = label_names(train, "holder_type")
        super()._fit(train, validation)

    def _collator(self) -> Any:
        return PairCollator(self.tokenizer)

    def encode_contexts(self, split: Dataset, with_labels: bool) -> EncodedContexts:
        """Each distinct context of `split` tokenized once, with its pairs' sub-token spans."""
        assert self.tokenizer is not None
        texts = column(split, "text")
        rows_of: dict[str, list[int]] = {}
        for row, text in enumerate(texts):
            rows_of.setdefault(text, []).append(row)
        contexts = list(rows_of)
        encoded = self.tokenizer(
            contexts, truncation=True, max_length=self.params.max_length, return_offsets_mapping=True
        )
        cols = {name: column(split, name) for name in (
            "holder_start", "holder_end", "target_start", "target_end", "holder_type", "target_type")}
        type_ids = _type_ids(split, self.entity_types)
        labels = column(split, self.task.label_column) if with_labels else None
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
            **{name: [] for name in PAIR_COLUMNS},
        }
        if labels is not None:
            features["labels"] = []
        cut = 0
        for index, text in enumerate(contexts):
            offsets = [tuple(o) for o in encoded["offset_mapping"][index]]
            ends = np.maximum.accumulate([o[1] for o in offsets]).tolist() if offsets else []
            rows = rows_of[text]
            holders = [token_span(offsets, ends, cols["holder_start"][r], cols["holder_end"][r]) for r in rows]
            targets = [token_span(offsets, ends, cols["target_start"][r], cols["target_end"][r]) for r in rows]
            cut += sum(span == (0, 0) for span in (*holders, *targets))
            features["holder_spans"].append(holders)
            features["target_spans"].append(targets)
            features["holder_types"].append([type_ids[cols["holder_type"][r]] for r in rows])
            features["target_types"].append([type_ids[cols["target_type"][r]] for r in rows])
            if labels is not None:
                features["labels"].append([labels[r] for r in rows])
        return EncodedContexts(features, [rows_of[text] for text in contexts], cut)

    def _encode(self, split: Dataset, with_labels: bool) -> dict[str, list[Any]]:
        encoded = self.encode_contexts(split, with_labels)
        if with_labels and encoded.cut_spans:
            self.notes.append(f"{encoded.cut_spans} training spans lie past max_length "
                              f"({self.params.max_length}): pooled as [CLS]")
        return encoded.features

    def _logits(self, split: Dataset) -> tuple[list[np.ndarray], list[Any]]:
        """Per row (pair), the model's logits; contexts batched by length, each encoded once."""
        assert self.model is not None and self.tokenizer is not None
        encoded = self.encode_contexts(split, with_labels=False)
        features, collate = encoded.features, self._collator()
        count = len(encoded.rows)
        order = sorted(range(count), key=lambda i: len(features["input_ids"][i]))
        logits: list[np.ndarray] = [np.empty(0)] * len(split)
        size = self.params.eval_batch_size
        with self._inference():
            for begin in range(0, count, size):
                batch = order[begin:begin + size]
                inputs = collate([{k: features[k][i] for k in features} for i in batch])
                output = self.model(**inputs).logits.float().cpu().numpy()
                position = 0
                for i in batch:
                    for row in encoded.rows[i]:
                        logits[row] = output[position]
                        position += 1
        return logits, [None] * len(split)


def _type_ids(split: Dataset, entity_types: list[str]) -> dict[int, int]:
    """The split's entity-type class ids -> the model's type ids (by name: the split's label order may differ)."""
    names = label_names(split, "holder_type")
    index = {name: i for i, name in enumerate(entity_types)}
    unknown = [name for name in names if name not in index]
    if unknown:
        raise ConflictNewsError(
            f"entity type(s) {', '.join(unknown)} unknown to this model (it knows {', '.join(entity_types)})"
        )
    return {i: index[name] for i, name in enumerate(names)}
