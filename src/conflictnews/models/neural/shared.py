"""`minilm_shared` (entities, triggers, event_types, stance): one MiniLM encoder for all four layers.

Why: the four task-specific MiniLM models cost four encoder passes per sentence in `predict` (the
stance one over one- and two-sentence contexts): 18 sentences/s on a 2-core AMD EPYC, where the
target is 100. One pass with four heads runs at 144 (`benchmarks/bench_shared_encoder.py`).

Training: one joint fine-tune on the entities, events and stance train splits at once
(`shared_model`), whichever task's config asked for it; the configs of the four tasks hold the same
parameters, so `reproduce` trains once per seed and each task takes its view (kept in memory for the
run, keyed by the data's fingerprints, the parameters and the seed). The event-type threshold and
the stance NONE-logit offset are tuned on the validation splits as `minilm_multilabel` and
`minilm_span_pair` tune them.

Saved per task as a standard model holding the shared encoder: entities and triggers load with
`transformers.pipeline("token-classification", ...)`, event types with
`pipeline("text-classification", ...)`; the stance view needs `MiniLMForSentencePairClassification`.
At prediction time the views of one encoder (the same weights, by fingerprint) share its sentence
encodings (`SharedEncodings`): the first view to read a sentence encodes it, the others reuse it.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from datasets import Dataset
from pydantic import Field, field_validator

from conflictnews.eval.tasks import STANCE_EXCLUDED_CLASS, TaskKind
from conflictnews.io import ConflictNewsError
from conflictnews.models.base import column, label_names
from conflictnews.models.determinism import deterministic_torch
from conflictnews.models.neural.decision import sigmoid, tune_none_offset, tune_threshold
from conflictnews.models.neural.multilabel import MiniLMMultiLabel
from conflictnews.models.neural.pair import MiniLMPair
from conflictnews.models.neural.shared_data import (
    EncodedSentence,
    encode_sentences,
    merge,
    relocated,
    stance_inputs,
    training_chunks,
)
from conflictnews.models.neural.shared_model import collate, model_classes, pad_sentences, pair_inputs
from conflictnews.models.neural.tagger import MiniLMTagger
from conflictnews.models.neural.training import MiniLMBaseline, MiniLMParams, quiet_transformers

# The dataset configs the joint model learns from (their train and validation splits only).
COMPANION_CONFIGS: tuple[str, ...] = ("entities", "events", "stance")

# How each task kind decodes its logits: the decisions of the task-specific MiniLM families.
_DECODERS: dict[TaskKind, type[MiniLMBaseline]] = {
    TaskKind.SEQUENCE: MiniLMTagger,
    TaskKind.MULTILABEL: MiniLMMultiLabel,
    TaskKind.SINGLE_LABEL: MiniLMPair,
}
_DECISIONS: dict[TaskKind, tuple[str, ...]] = {
    TaskKind.SEQUENCE: (),
    TaskKind.MULTILABEL: ("threshold",),
    TaskKind.SINGLE_LABEL: ("none_logit_offset",),
}
# The head of each task in the joint model, and the label column of its config.
_HEADS: dict[str, tuple[str, str, str]] = {  # task -> (config, label column, joint-model head)
    "entities": ("entities", "ner_tags", "entity_classifier"),
    "triggers": ("events", "trigger_tags", "trigger_classifier"),
    "event_types": ("events", "event_types", "types_classifier"),
    "stance": ("stance", "label", "stance"),
}


class MiniLMSharedParams(MiniLMParams):
    """The one parameter set of the four `minilm_shared` configs (they leave [params] empty: the joint
    fit is shared between tasks only when their parameters are equal)."""

    # 3 epochs of batches of 16 sentences (726 steps on 0.3.0, about 7 minutes on 2 cores).
    epochs: float = 3.0
    learning_rate: float = 1e-4
    batch_size: int = 16
    eval_during_training: bool = False
    # Consecutive sentences of one article per training chunk; a batch is batch_size // chunk_sentences chunks.
    chunk_sentences: int = 8
    type_embedding_dim: int = 32
    threshold: float | Literal["validation"] = "validation"  # event types, as minilm_multilabel
    # The event-type BCE's positive weights, as minilm_multilabel's (negatives / positives per label,
    # capped): with plain BCE the head of the joint fine-tune learns only the label priors.
    pos_weight: Literal["balanced", "none"] = "balanced"
    max_pos_weight: float = 10.0
    # The four heads' learning rate (None: learning_rate). The heads start from random weights; at
    # the encoder's rate the stance head learns slowly (validation F_avg after 150 steps: 0.020 at
    # 1e-4, 0.091 at 1e-3; event types 0.273 -> 0.292).
    head_learning_rate: float | None = 1e-3
    # Each task's factor in the summed loss.
    loss_weights: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(_HEADS, 1.0))

    @field_validator("loss_weights")
    @classmethod
    def _known_tasks(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(_HEADS))
        if unknown:
            raise ValueError(f"loss_weights: unknown task(s) {', '.join(unknown)} (the heads: {', '.join(_HEADS)})")
        return {**dict.fromkeys(_HEADS, 1.0), **value}
    none_offset: Literal["none", "validation"] = "validation"  # stance, as minilm_span_pair


@dataclass(frozen=True)
class JointFit:
    model: Any  # MiniLMMultiTask
    tokenizer: Any
    threshold: float
    none_logit_offset: float
    notes: tuple[str, ...]


_JOINT_FITS: OrderedDict[tuple[Any, ...], JointFit] = OrderedDict()
_KEPT_JOINT_FITS = 3  # one per seed of a reproduce run: the four tasks' configs reuse them


class SharedEncodings:
    """Per encoder fingerprint, the last sentences' encoder states (an LRU of `capacity` sentences)."""

    capacity = 1024  # about 60 MB of float32 states: more than the sentences of one `predict` batch

    def __init__(self) -> None:
        self.states: dict[str, OrderedDict[tuple[Any, ...], Any]] = {}
        self.tokenized: dict[tuple[str, int], OrderedDict[tuple[str, ...], EncodedSentence]] = {}
        self.encoded = 0  # sentences run through an encoder (for tests and benchmarks)
        self.reused = 0
        self.tokenizations = 0  # sentences run through a tokenizer

    def tokenize(self, fingerprint: str, tokenizer: Any, token_lists: Sequence[Sequence[str]],
                 max_length: int) -> list[EncodedSentence]:
        """`encode_sentences`, each distinct word list tokenized once for all the views of one encoder
        (they were saved with the joint model's tokenizer): the four views read the same sentences."""
        cache = self.tokenized.setdefault((fingerprint, max_length), OrderedDict())
        keys = [tuple(tokens) for tokens in token_lists]
        missing = list(dict.fromkeys(k for k in keys if k not in cache))
        cache.update(zip(missing, encode_sentences(tokenizer, missing, max_length), strict=True))
        self.tokenizations += len(missing)
        return self._take(cache, keys)

    def get(self, fingerprint: str, bert: Any, tokenizer: Any, sentences: Sequence[Any], precision: str,
            batch_size: int) -> list[Any]:
        """The states ([length, hidden], float32) of each `EncodedSentence`, encoding the missing ones."""

        cache = self.states.setdefault(fingerprint, OrderedDict())
        keys = [(precision, tuple(s.input_ids)) for s in sentences]
        missing = list(dict.fromkeys(k for k in keys if k not in cache))
        self.reused += len(keys) - len(missing)
        missing.sort(key=lambda k: len(k[1]))
        for begin in range(0, len(missing), batch_size):
            batch = missing[begin:begin + batch_size]
            padded = pad_sentences(tokenizer, [list(k[1]) for k in batch])
            states = bert(**padded).last_hidden_state.float()
            for position, key in enumerate(batch):
                cache[key] = states[position, : len(key[1])].clone()
            self.encoded += len(batch)
        return self._take(cache, keys)

    def _take(self, cache: OrderedDict[Any, Any], keys: list[Any]) -> list[Any]:
        """The cached values of `keys`, marked most recently used; then the cache is cut to `capacity`."""
        found = []
        for key in keys:
            cache.move_to_end(key)
            found.append(cache[key])
        while len(cache) > self.capacity:
            cache.popitem(last=False)
        return found

    def clear(self) -> None:
        self.states.clear()
        self.tokenized.clear()


SHARED_ENCODINGS = SharedEncodings()
_LOADED_ENCODERS: dict[str, Any] = {}  # fingerprint -> the first loaded view's encoder


def encoder_fingerprint(bert: Any) -> str:
    """sha256 of the encoder's weights (the pooler left out: only the event-type view has one)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(bert.state_dict().items()):
        if not name.startswith("pooler."):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def padded(states: list[Any]) -> Any:
    import torch

    return torch.nn.utils.rnn.pad_sequence(states, batch_first=True)


class MiniLMShared(MiniLMBaseline):
    name = "minilm_shared"
    kinds = frozenset(_DECODERS)
    summary = ("MiniLM (all-MiniLM-L6-v2) fine-tuned once on all four layers: one shared encoder reads each "
               "sentence, with a head per task (stance from the sentences' pooled holder/target vectors).")
    params_model = MiniLMSharedParams
    companion_configs = COMPANION_CONFIGS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.task.name not in _HEADS:
            raise ConflictNewsError(f"baseline {self.name!r} has no head for task {self.task.name!r}")
        self.threshold = 0.5
        self.none_logit_offset = 0.0
        self.fingerprint = ""

    @property
    def decision_fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return _DECISIONS[self.task.kind]

    def _auto_class(self) -> Any:
        from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

        return {
            TaskKind.SEQUENCE: AutoModelForTokenClassification,
            TaskKind.MULTILABEL: AutoModelForSequenceClassification,
            TaskKind.SINGLE_LABEL: model_classes()[1],
        }[self.task.kind]

    def _view_class(self) -> Any:
        from transformers import BertForSequenceClassification, BertForTokenClassification

        return {
            TaskKind.SEQUENCE: BertForTokenClassification,
            TaskKind.MULTILABEL: BertForSequenceClassification,
            TaskKind.SINGLE_LABEL: model_classes()[1],
        }[self.task.kind]

    # -- training -------------------------------------------------------------------------------
    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        missing = [c for c in COMPANION_CONFIGS if c not in self.companions]
        if missing:
            raise ConflictNewsError(
                f"{self.name} learns from every layer: it needs the {', '.join(missing)} config(s) of the release "
                "besides its task's (`conflictnews train` and `reproduce` give them)"
            )
        joint = self._joint_fit()
        self.tokenizer = joint.tokenizer
        self.model = self._view(joint.model)
        self.fingerprint = encoder_fingerprint(self.model.bert)
        self.threshold, self.none_logit_offset = joint.threshold, joint.none_logit_offset
        self.notes.extend(joint.notes)

    def _key(self) -> tuple[Any, ...]:
        splits = tuple(self.companions[c][s]._fingerprint for c in COMPANION_CONFIGS for s in ("train", "validation"))
        return (splits, self.params.model_dump_json(exclude={"progress"}), self.seed)

    def _joint_fit(self) -> JointFit:
        key = self._key()
        if key in _JOINT_FITS:
            _JOINT_FITS.move_to_end(key)
            return _JOINT_FITS[key]
        with deterministic_torch(self.params.torch_threads):
            fit = self._train_joint()
        _JOINT_FITS[key] = fit
        while len(_JOINT_FITS) > _KEPT_JOINT_FITS:
            _JOINT_FITS.popitem(last=False)
        return fit

    def _label_names(self) -> dict[str, list[str]]:
        return {task: label_names(self.companions[config]["train"], label_column)
                for task, (config, label_column, _) in _HEADS.items()}

    def _train_joint(self) -> JointFit:
        import transformers
        from transformers import AutoConfig, AutoTokenizer

        p = self.params
        names = self._label_names()
        stance_train = self.companions["stance"]["train"]
        entity_types = label_names(stance_train, "holder_type")
        transformers.set_seed(self.seed)
        source = self._source()
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source)
            config = AutoConfig.from_pretrained(
                source, num_labels=len(names["stance"]), id2label=dict(enumerate(names["stance"])),
                label2id={label: i for i, label in enumerate(names["stance"])},
            )
            config.entity_tags, config.trigger_tags = names["entities"], names["triggers"]
            config.event_types, config.entity_types = names["event_types"], entity_types
            config.type_embedding_dim = p.type_embedding_dim
            train = {c: self.companions[c]["train"] for c in COMPANION_CONFIGS}
            if p.max_train_rows is not None:  # small CI runs: the first articles' sentences, at most N
                train = _first_articles(train, p.max_train_rows)
            if p.pos_weight == "balanced":
                config.types_pos_weight = _pos_weight(column(train["events"], "event_types"),
                                                      len(names["event_types"]), p.max_pos_weight)
            config.loss_weights = dict(p.loss_weights)
            model = model_classes()[2].from_pretrained(source, config=config)
        chunks = training_chunks(train["entities"], train["events"], train["stance"], tokenizer, p.max_length,
                                 entity_types, names["event_types"], p.chunk_sentences)
        _run_training(model, tokenizer, chunks, p, self.seed, f"{self.name} (all four layers, seed {self.seed})")
        model.eval()
        notes = [(f"one joint fine-tune on {len(column(train['entities'], 'id'))} training sentences and "
                 f"{len(train['stance'])} stance pairs, {len(chunks)} chunks of up to {p.chunk_sentences} sentences")]
        threshold, offset = self._tune(model, tokenizer, notes)
        return JointFit(model, tokenizer, threshold, offset, tuple(notes))

    def _tune(self, model: Any, tokenizer: Any, notes: list[str]) -> tuple[float, float]:
        """The event-type threshold and the stance NONE offset on the validation splits."""
        p = self.params
        threshold = p.threshold if isinstance(p.threshold, float) else 0.5
        offset = 0.0
        views = {task: self._sibling(task, model, tokenizer) for task in ("event_types", "stance")}
        events = self.companions["events"]["validation"]
        if p.threshold == "validation" and len(events):
            view = views["event_types"]
            logits, _ = view._logits(events)
            truth = view._multi_hot(events["event_types"])
            threshold, score = tune_threshold(sigmoid(logits), truth)
            notes.append(f"event types: threshold {threshold:.2f} tuned on validation (micro-F1 {score:.3f} there)")
        stance = self.companions["stance"]["validation"]
        if p.none_offset == "validation" and len(stance):
            view = views["stance"]
            logits, _ = view._logits(stance)
            truth = [view.labels[i] for i in stance["label"]]
            offset, score = tune_none_offset(np.asarray(logits, dtype=np.float64), truth, view.labels, 0.0)
            notes.append(f"stance: {STANCE_EXCLUDED_CLASS} logit + {offset:.3f} at prediction time, tuned on "
                         f"validation (F_avg {score:.3f} there)")
        return threshold, offset

    def _sibling(self, task: str, joint: Any, tokenizer: Any) -> MiniLMShared:
        view = MiniLMShared(task, self.params, self.seed)
        view.labels = self._label_names()[task]
        view.tokenizer, view.model = tokenizer, view._view(joint)
        view.fingerprint = encoder_fingerprint(view.model.bert)
        return view

    def _view(self, joint: Any) -> Any:
        """This task's standard model: the joint model's encoder under this task's head."""
        from transformers import AutoConfig

        _, _, head = _HEADS[self.task.name]
        labels = list(self.labels)
        config = AutoConfig.from_pretrained(self._source(), num_labels=len(labels), id2label=dict(enumerate(labels)),
                                            label2id={label: i for i, label in enumerate(labels)})
        if self.task.kind == TaskKind.MULTILABEL:
            config.problem_type = "multi_label_classification"
        if self.task.kind == TaskKind.SINGLE_LABEL:
            config.entity_types = list(joint.config.entity_types)
            config.type_embedding_dim = joint.config.type_embedding_dim
        with quiet_transformers():
            view = self._view_class()(config)
        encoder = {k: v for k, v in joint.bert.state_dict().items()
                   if self.task.kind == TaskKind.MULTILABEL or not k.startswith("pooler.")}
        view.bert.load_state_dict(encoder)
        target = view.head if self.task.kind == TaskKind.SINGLE_LABEL else view.classifier
        target.load_state_dict(getattr(joint, head).state_dict())
        return view.eval()

    # -- prediction -----------------------------------------------------------------------------
    def _load_state(self, directory: Any) -> None:
        super()._load_state(directory)
        assert self.model is not None
        self.fingerprint = encoder_fingerprint(self.model.bert)
        # Views of one encoder hold one copy of it (the event-type view keeps its own pooler).
        shared = _LOADED_ENCODERS.setdefault(self.fingerprint, self.model.bert)
        if shared is not self.model.bert:
            self.model.bert.embeddings, self.model.bert.encoder = shared.embeddings, shared.encoder

    def _states(self, sentences: Sequence[Any]) -> list[Any]:
        assert self.model is not None
        return SHARED_ENCODINGS.get(self.fingerprint, self.model.bert, self.tokenizer, sentences, self.precision,
                                    self.params.eval_batch_size)

    def _tokenize(self, token_lists: Sequence[Sequence[str]]) -> list[EncodedSentence]:
        return SHARED_ENCODINGS.tokenize(self.fingerprint, self.tokenizer, token_lists, self.params.max_length)

    def _logits(self, split: Dataset) -> tuple[list[np.ndarray], list[Any]]:
        assert self.model is not None and self.tokenizer is not None
        with self._inference():
            if self.task.kind == TaskKind.SINGLE_LABEL:
                return self._pair_logits(split), [None] * len(split)
            sentences = self._tokenize(column(split, "tokens"))
            logits: list[np.ndarray] = []
            # All of the split's sentences go to the encoder at once (as many as the cache keeps), so
            # they are batched by length: 64 sentences in document order pad to their longest, 3x the work.
            size = SHARED_ENCODINGS.capacity
            for begin in range(0, len(sentences), size):
                states = self._states(sentences[begin:begin + size])
                if self.task.kind == TaskKind.SEQUENCE:
                    logits += [self.model.classifier(s).float().numpy() for s in states]
                else:
                    cls = padded([s[:1] for s in states])
                    logits += list(self.model.classifier(self.model.bert.pooler(cls)).float().numpy())
        return logits, [s.word_ids for s in sentences]

    def _pair_logits(self, split: Dataset) -> list[np.ndarray]:
        assert self.model is not None
        inputs = stance_inputs(split, self._tokenize, list(self.model.config.entity_types), with_labels=False)
        encoded = self._tokenize(inputs.sentences)
        states = self._states(encoded)
        logits: list[np.ndarray] = [np.empty(0)] * len(split)
        by_first: dict[int, list[int]] = {}
        for row, pair in enumerate(inputs.pairs):
            by_first.setdefault(pair.first_sentence, []).append(row)
        groups = sorted(by_first)
        step = max(1, self.params.eval_batch_size // 2)
        for begin in range(0, len(groups), step):
            rows = [r for g in groups[begin:begin + step] for r in by_first[g]]
            pairs = [inputs.pairs[r] for r in rows]
            used = sorted({s for p in pairs for s in (p.holder_sentence, p.target_sentence,
                                                       p.first_sentence, p.last_sentence)})
            local = {s: i for i, s in enumerate(used)}
            out = self.model.head(padded([states[s] for s in used]),
                                  pair_inputs([relocated(p, local) for p in pairs])).float().numpy()
            for position, row in enumerate(rows):
                logits[row] = out[position]
        return logits

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        return _DECODERS[self.task.kind]._decode(self, split, logits, encodings)  # type: ignore[arg-type]

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        return _DECODERS[self.task.kind]._scores(self, split, logits, encodings)  # type: ignore[arg-type]

    def _multi_hot(self, label_lists: list[list[int]]) -> np.ndarray:
        return MiniLMMultiLabel._multi_hot(self, label_lists)  # type: ignore[arg-type]


def _pos_weight(label_lists: list[list[int]], size: int, cap: float) -> list[float]:
    """negatives / positives per label, clipped to [1, cap] (1 for a label never seen)."""
    positives = np.zeros(size)
    for labels in label_lists:
        positives[list(labels)] += 1
    weights = np.ones(size)
    seen = positives > 0
    weights[seen] = (len(label_lists) - positives[seen]) / positives[seen]
    return np.clip(weights, 1.0, cap).round(6).tolist()


def _first_articles(train: dict[str, Dataset], rows: int) -> dict[str, Dataset]:
    """The train splits cut to the first articles whose sentences add up to at most `rows` (at least one)."""
    kept: list[str] = []
    counts: dict[str, int] = {}
    for article in column(train["entities"], "article_id"):
        counts[article] = counts.get(article, 0) + 1
    total = 0
    for article, count in counts.items():
        if kept and total + count > rows:
            break
        kept.append(article)
        total += count
    chosen = set(kept)
    return {config: split.filter(lambda r: r["article_id"] in chosen) for config, split in train.items()}


def _run_training(model: Any, tokenizer: Any, chunks: list[Any], p: MiniLMSharedParams, seed: int,
                  description: str) -> None:
    """AdamW with linear warm-up and decay (as the transformers Trainer), seeded chunk order, a rich bar."""
    import torch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from transformers import get_linear_schedule_with_warmup

    per_batch = max(1, p.batch_size // p.chunk_sentences)
    steps_per_epoch = math.ceil(len(chunks) / per_batch)
    total = p.max_steps if p.max_steps > 0 else math.ceil(p.epochs * steps_per_epoch)
    no_decay = ("bias", "LayerNorm.weight")
    head_rate = p.head_learning_rate or p.learning_rate
    groups = [
        {"params": [w for n, w in model.named_parameters() if (not any(k in n for k in no_decay)) == decay
                    and n.startswith("bert.") == encoder],
         "weight_decay": p.weight_decay if decay else 0.0, "lr": p.learning_rate if encoder else head_rate}
        for decay in (True, False) for encoder in (True, False)
    ]
    optimizer = torch.optim.AdamW(groups, lr=p.learning_rate)
    schedule = get_linear_schedule_with_warmup(optimizer, int(p.warmup_ratio * total), total)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model.train()
    order: list[int] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, disable=not p.progress) as progress:
        bar = progress.add_task(description, total=total)
        for _step in range(total):
            if len(order) < per_batch:
                order += rng.permutation(len(chunks)).tolist()
            picked, order = order[:per_batch], order[per_batch:]
            loss = model(collate(tokenizer, merge([chunks[i] for i in picked])))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            progress.update(bar, advance=1, description=f"{description} loss {loss.item():.3f}")
