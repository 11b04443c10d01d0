"""The torch side of `minilm_shared`: one MiniLM encoder under four heads, and its joint training.

The joint model reads each sentence once. Its heads: entity tags and trigger tags per first
sub-token (as `minilm_tagger`), event types from the pooled [CLS] (as `minilm_multilabel`), and
stance from the sentences' own encodings: a pair is classified from the mean [CLS] of its context's
sentences, the mean sub-token vectors of holder and target (each in its own sentence), their
product and learned entity-type embeddings (as `minilm_span_pair`, which encodes the one- or
two-sentence context as one sequence instead).

Training batches are runs of consecutive sentences of one article (`chunk_sentences`), so a pair
whose context is two adjacent sentences finds both in its batch: a chunk carries the sentence after
its last one when a pair needs it (its tag and event-type losses are not counted there, the next
chunk counts them). The four losses are summed.

After training the joint model is cut into four standard models that hold the same encoder
(`views`): entities and triggers as `BertForTokenClassification`, event types as
`BertForSequenceClassification` (multi-label), stance as `MiniLMForSentencePairClassification`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conflictnews.models.neural.training import PAD_TO_MULTIPLE


@dataclass(frozen=True)
class PairRef:
    """A stance pair inside a batch of sentences: positions are sub-token indices of a sentence."""

    holder_sentence: int
    holder_span: tuple[int, int]
    target_sentence: int
    target_span: tuple[int, int]
    first_sentence: int  # the context's sentences (equal for a one-sentence context)
    last_sentence: int
    holder_type: int
    target_type: int
    label: int = -100


@dataclass
class SentenceBatch:
    """Encoded sentences, the ones whose tag and event-type labels count, and the pairs among them."""

    input_ids: list[list[int]]
    entity_labels: list[list[int]] = field(default_factory=list)
    trigger_labels: list[list[int]] = field(default_factory=list)
    type_labels: list[list[float]] = field(default_factory=list)
    counted: list[bool] = field(default_factory=list)
    pairs: list[PairRef] = field(default_factory=list)


def model_classes() -> tuple[Any, Any, Any]:
    """(SentencePairHead, MiniLMForSentencePairClassification, MiniLMMultiTask), built lazily."""
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = _build_classes()
    return _CLASSES


_CLASSES: tuple[Any, Any, Any] | None = None


def _build_classes() -> tuple[Any, Any, Any]:
    import torch
    from torch import nn
    from transformers import BertModel, BertPreTrainedModel
    from transformers.modeling_outputs import SequenceClassifierOutput

    class SentencePairHead(nn.Module):
        """Stance logits of pairs from per-sentence encoder states."""

        def __init__(self, hidden: int, num_labels: int, entity_types: int, type_dim: int, dropout: float) -> None:
            super().__init__()
            self.type_embeddings = nn.Embedding(max(entity_types, 1), type_dim) if type_dim else None
            self.dropout = nn.Dropout(dropout)
            self.dense = nn.Linear(4 * hidden + 2 * type_dim, hidden)
            self.classifier = nn.Linear(hidden, num_labels)

        def forward(self, states: torch.Tensor, pairs: dict[str, torch.Tensor]) -> torch.Tensor:
            states = states.float()  # sums over spans in float32, under bfloat16 autocast too
            prefix = torch.cat([states.new_zeros(states.shape[0], 1, states.shape[2]), states.cumsum(1)], 1)
            cls = (states[pairs["first_sentence"], 0] + states[pairs["last_sentence"], 0]) / 2

            def pooled(sentence: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
                start, end = spans[:, 0], spans[:, 1]
                total = prefix[sentence, end] - prefix[sentence, start]
                mean = total / (end - start).clamp(min=1).unsqueeze(1).to(total.dtype)
                return torch.where((end > start).unsqueeze(1), mean, states[sentence, 0])

            holder = pooled(pairs["holder_sentence"], pairs["holder_spans"])
            target = pooled(pairs["target_sentence"], pairs["target_spans"])
            parts = [cls, holder, target, holder * target]
            if self.type_embeddings is not None:
                parts += [self.type_embeddings(pairs["holder_types"]), self.type_embeddings(pairs["target_types"])]
            features = self.dropout(torch.cat(parts, 1))
            return self.classifier(self.dropout(nn.functional.gelu(self.dense(features))))

    def stance_head(config: Any) -> SentencePairHead:
        return SentencePairHead(config.hidden_size, config.num_labels, len(getattr(config, "entity_types", []) or []),
                                int(getattr(config, "type_embedding_dim", 0)), config.hidden_dropout_prob)

    class MiniLMForSentencePairClassification(BertPreTrainedModel):
        """The stance view: the shared encoder reads each sentence; `head` classifies the pairs.

        Inputs: the sentences (`input_ids`, `attention_mask`) and per pair its holder's and target's
        sentence and [first, end) sub-token positions, its context's first and last sentence, and
        the two entity-type ids (`pair_inputs` of `SentenceBatch.pairs`).
        """

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.bert = BertModel(config, add_pooling_layer=False)
            self.head = stance_head(config)
            self.post_init()

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None,
                    **pairs: torch.Tensor) -> SequenceClassifierOutput:
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            logits = self.head(states, pairs)
            loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
            return SequenceClassifierOutput(loss=loss, logits=logits)

    class MiniLMMultiTask(BertPreTrainedModel):
        """The joint model trained by `train_joint`: the encoder (with BERT's pooler) and four heads.

        Config: `num_labels` (stance classes), `entity_tags`, `trigger_tags`, `event_types` (label
        names), `entity_types` and `type_embedding_dim` (the stance head's); optional
        `types_pos_weight` (the event-type BCE's per-label positive weights) and `loss_weights`
        (task -> factor of its loss in the sum).
        """

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            hidden, p = config.hidden_size, config.hidden_dropout_prob
            self.bert = BertModel(config, add_pooling_layer=True)
            self.dropout = nn.Dropout(p)
            self.entity_classifier = nn.Linear(hidden, len(config.entity_tags))
            self.trigger_classifier = nn.Linear(hidden, len(config.trigger_tags))
            self.types_classifier = nn.Linear(hidden, len(config.event_types))
            self.stance = stance_head(config)
            # A plain list, made a tensor per batch: a buffer not in the checkpoint is left uninitialised
            # by from_pretrained (transformers 5 builds the model on the meta device).
            self.types_pos_weight = list(getattr(config, "types_pos_weight", None) or []) or None
            self.loss_weights = dict.fromkeys(("entities", "triggers", "event_types", "stance"), 1.0)
            self.loss_weights.update(getattr(config, "loss_weights", None) or {})
            self.post_init()

        def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            out = self.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            states = self.dropout(out.last_hidden_state)
            ce, w = nn.functional.cross_entropy, self.loss_weights
            loss = w["entities"] * ce(self.entity_classifier(states).flatten(0, 1), batch["entity_labels"].flatten(),
                                      ignore_index=-100)
            loss = loss + w["triggers"] * ce(self.trigger_classifier(states).flatten(0, 1),
                                             batch["trigger_labels"].flatten(), ignore_index=-100)
            counted = batch["counted"]
            if counted.any():
                types = self.types_classifier(self.dropout(out.pooler_output))[counted]
                pos_weight = torch.tensor(self.types_pos_weight) if self.types_pos_weight else None
                loss = loss + w["event_types"] * nn.functional.binary_cross_entropy_with_logits(
                    types, batch["type_labels"][counted], pos_weight=pos_weight)
            if batch["pair_labels"].numel():
                loss = loss + w["stance"] * ce(self.stance(out.last_hidden_state, batch["pairs"]),
                                               batch["pair_labels"])
            return loss

    return SentencePairHead, MiniLMForSentencePairClassification, MiniLMMultiTask


def pair_inputs(pairs: list[PairRef]) -> dict[str, Any]:
    """The stance head's per-pair tensors."""
    import torch

    return {
        "holder_sentence": torch.tensor([p.holder_sentence for p in pairs], dtype=torch.long),
        "holder_spans": torch.tensor([p.holder_span for p in pairs], dtype=torch.long).reshape(-1, 2),
        "target_sentence": torch.tensor([p.target_sentence for p in pairs], dtype=torch.long),
        "target_spans": torch.tensor([p.target_span for p in pairs], dtype=torch.long).reshape(-1, 2),
        "first_sentence": torch.tensor([p.first_sentence for p in pairs], dtype=torch.long),
        "last_sentence": torch.tensor([p.last_sentence for p in pairs], dtype=torch.long),
        "holder_types": torch.tensor([p.holder_type for p in pairs], dtype=torch.long),
        "target_types": torch.tensor([p.target_type for p in pairs], dtype=torch.long),
    }


def pad_sentences(tokenizer: Any, input_ids: list[list[int]]) -> dict[str, Any]:
    return tokenizer.pad({"input_ids": input_ids, "attention_mask": [[1] * len(ids) for ids in input_ids]},
                         return_tensors="pt", pad_to_multiple_of=PAD_TO_MULTIPLE)


def collate(tokenizer: Any, batch: SentenceBatch) -> dict[str, Any]:
    """A training batch's tensors (labels padded with -100)."""
    import torch

    padded = pad_sentences(tokenizer, batch.input_ids)
    width = padded["input_ids"].shape[1]

    def labels(rows: list[list[int]]) -> Any:
        return torch.tensor([row + [-100] * (width - len(row)) for row in rows], dtype=torch.long)

    return {
        "input_ids": padded["input_ids"],
        "attention_mask": padded["attention_mask"],
        "entity_labels": labels(batch.entity_labels),
        "trigger_labels": labels(batch.trigger_labels),
        "type_labels": torch.tensor(np.asarray(batch.type_labels, dtype=np.float32)),
        "counted": torch.tensor(batch.counted, dtype=torch.bool),
        "pairs": pair_inputs(batch.pairs),
        "pair_labels": torch.tensor([p.label for p in batch.pairs], dtype=torch.long),
    }
