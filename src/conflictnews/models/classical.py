"""Classical baselines: a CRF tagger and TF-IDF + logistic regression classifiers.

* `crf` (entities, triggers): linear-chain CRF (sklearn-crfsuite, L-BFGS, elastic-net c1/c2)
  over standard word-shape, affix and context-window features; output repaired to valid IOB2.
* `tfidf_logreg` (event_types): word n-gram TF-IDF of the sentence, one-vs-rest logistic
  regression over a `MultiLabelBinarizer` of the dataset's label names, threshold on P(label).
* `tfidf_logreg_markers` (stance): the context with ``[H] … [/H]`` and ``[T] … [/T]`` inserted
  around holder and target, TF-IDF over it (markers are tokens), plus one-hot entity-type
  features of holder, target and the pair; multinomial logistic regression, balanced class weights.

All are deterministic given the data (the seed is recorded, and passed to the solvers that take one).

Saved models are safe to load from a stranger: scikit-learn objects in skops format, loaded with
an explicit list of trusted types (loading a pickle runs code; skops refuses any other type), and
the CRF as crfsuite's own binary model file (weights only).

Length (about 440 lines): three small model families sharing the skops save/load and TF-IDF helpers of
this file; each family is under 150 lines.
"""

from __future__ import annotations

import functools
import re
import shutil
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import sklearn_crfsuite
from datasets import Dataset
from scipy.sparse import hstack
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from conflictnews.eval.tasks import TaskKind
from conflictnews.io import ConflictNewsError
from conflictnews.models.base import Baseline, Params, column, decode_labels, label_names, repair_iob2
from conflictnews.models.marking import MARKER_TOKEN_PATTERN, MarkedCounter, marked_texts, marked_tfidf

SKOPS_FILE = "model.skops"
CRF_FILE = "model.crfsuite"
# Every type a saved classical model may hold. skops refuses to load any other: a file that
# holds something else is not one of ours.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction._dict_vectorizer.DictVectorizer",
    "sklearn.preprocessing._label.MultiLabelBinarizer",
    "sklearn.multiclass.OneVsRestClassifier",
    "sklearn.multiclass._ConstantPredictor",  # one-vs-rest for a label never (or always) seen
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.dummy.DummyClassifier",
)


def dump_skops(state: dict[str, Any], directory: Path) -> None:
    import skops.io

    skops.io.dump(state, directory / SKOPS_FILE)


def load_skops(directory: Path) -> dict[str, Any]:
    """A state dict saved by `dump_skops`, loading only `TRUSTED_TYPES` (and skops' own safe set).

    skops audits the whole file against the trusted types before it constructs anything; the
    untrusted types are listed only when it refuses (listing them first doubled the load time)."""
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    path = directory / SKOPS_FILE
    if not path.exists():
        raise ConflictNewsError(f"{path}: missing (a saved classical model holds its state here)")
    try:
        return skops.io.load(path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException:
        untrusted = set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        raise ConflictNewsError(
            f"{path}: holds types a conflictnews model never holds, refused: {', '.join(sorted(untrusted))}"
        ) from None


# -- CRF ---------------------------------------------------------------------------------------
class CRFParams(Params):
    c1: float = 0.1  # L1 regularisation
    c2: float = 0.1  # L2 regularisation
    max_iterations: int = 100
    all_possible_transitions: bool = True
    window: int = 2  # context tokens on each side whose features are included


def word_shape(token: str) -> str:
    """Collapsed shape: 'Aleppo' -> 'Xx', 'HTS' -> 'X', '2015' -> 'd', 'al-Assad' -> 'x-Xx'."""
    shape = re.sub(r"[A-Z]+", "X", token)
    shape = re.sub(r"[a-z]+", "x", shape)
    return re.sub(r"[0-9]+", "d", shape)


def _token_features(token: str, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}lower": token.lower(),
        f"{prefix}shape": word_shape(token),
        f"{prefix}istitle": token.istitle(),
        f"{prefix}isupper": token.isupper(),
        f"{prefix}isdigit": token.isdigit(),
    }


_CONTEXT_NAMES = ("lower", "shape", "istitle", "isupper", "isdigit")


@functools.lru_cache(maxsize=8)
def _context_keys(window: int) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """(offset, sign, the five context feature keys) in `token_features`' order."""
    return tuple((offset * (1 if sign == "+" else -1), sign, tuple(f"{sign}{offset}:{n}" for n in _CONTEXT_NAMES))
                 for offset in range(1, window + 1) for sign in ("-", "+"))


@functools.lru_cache(maxsize=200_000)  # a vocabulary, not the input: FA-KES has ~40k word types
def _token_parts(token: str, window: int, zero_weights: bool) -> tuple[dict[str, Any], tuple[Any, ...], str]:
    """A token's own features (shared read-only: callers copy), its context features under each
    neighbour position's keys (in `_context_keys` order), and its lower-cased form."""
    context = (token.lower(), word_shape(token), token.istitle(), token.isupper(), token.isdigit())
    lower, shape, istitle, isupper, isdigit = context
    own = {
        "bias": 1.0, "lower": lower, "shape": shape, "istitle": istitle, "isupper": isupper, "isdigit": isdigit,
        "prefix2": token[:2], "prefix3": token[:3], "suffix2": token[-2:], "suffix3": token[-3:],
        "length": min(len(token), 10), "has_hyphen": "-" in token,
        "has_digit": any(ch.isdigit() for ch in token), "is_punct": not any(ch.isalnum() for ch in token),
    }
    as_neighbour = tuple(
        tuple((key, value) for key, value in zip(names, context, strict=True) if zero_weights or value is not False)
        for _delta, _sign, names in _context_keys(window)
    )
    if not zero_weights:
        own = {key: value for key, value in own.items() if value is not False}
    return own, as_neighbour, lower


def sentence_features(tokens: list[str], window: int, *, zero_weights: bool = True) -> list[dict[str, Any]]:
    """`token_features` of every token of a sentence, equal to them key for key and in the same key order
    (crfsuite sums weights in that order). Each distinct token's features are computed once (cached),
    and a token's context features are its neighbours' values under precomputed keys.

    `zero_weights=False` leaves out the attributes whose value is False. crfsuite reads a bool as the
    attribute's weight, and a weight of 0.0 adds weight x 0.0 = 0 to every score, so tags and marginals
    are unchanged (tests check it on the release); the tagger reads half as many attributes. Training
    keeps them: crfsuite makes features from every attribute it sees in training.
    """
    parts = [_token_parts(t, window, zero_weights) for t in tokens]
    positions = [delta for delta, _sign, _names in _context_keys(window)]
    last = len(tokens) - 1
    out = []
    for i, (own, _neighbour, lower) in enumerate(parts):
        features = dict(own)
        if i == 0:
            features["BOS"] = True
        if i == last:
            features["EOS"] = True
        for slot, delta in enumerate(positions):
            j = i + delta
            if 0 <= j <= last:
                features.update(parts[j][1][slot])
        if i > 0:
            features["bigram-1"] = f"{parts[i - 1][2]}|{lower}"
        out.append(features)
    return out


@functools.lru_cache(maxsize=1024)  # a predict batch (32 articles: ~400 sentences), not the input
def _cached_sentence_features(tokens: tuple[str, ...], window: int, zero_weights: bool) -> list[dict[str, Any]]:
    """`predict` runs the entity CRF and the trigger CRF on the same sentences: their features are made
    once. Read-only by contract (crfsuite copies them into its own item sequences)."""
    return sentence_features(list(tokens), window, zero_weights=zero_weights)


def token_features(tokens: list[str], i: int, window: int) -> dict[str, Any]:
    """Features of token i: identity, shape, affixes, and the same for a context window."""
    token = tokens[i]
    features: dict[str, Any] = {
        "bias": 1.0,
        **_token_features(token, ""),
        "prefix2": token[:2],
        "prefix3": token[:3],
        "suffix2": token[-2:],
        "suffix3": token[-3:],
        "length": min(len(token), 10),
        "has_hyphen": "-" in token,
        "has_digit": any(ch.isdigit() for ch in token),
        "is_punct": not any(ch.isalnum() for ch in token),
    }
    if i == 0:
        features["BOS"] = True
    if i == len(tokens) - 1:
        features["EOS"] = True
    for offset in range(1, window + 1):
        if i - offset >= 0:
            features.update(_token_features(tokens[i - offset], f"-{offset}:"))
        if i + offset < len(tokens):
            features.update(_token_features(tokens[i + offset], f"+{offset}:"))
    if i > 0:
        features["bigram-1"] = f"{tokens[i - 1].lower()}|{token.lower()}"
    return features


class CRFTagger(Baseline):
    name = "crf"
    family = "classical"
    kinds = frozenset({TaskKind.SEQUENCE})
    summary = "Linear-chain CRF (L-BFGS, c1/c2) over word-shape, affix and context features."
    params_model = CRFParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crf: sklearn_crfsuite.CRF | None = None

    def _features(self, split: Dataset, *, training: bool = False) -> list[list[dict[str, Any]]]:
        """Training sees every attribute; prediction leaves out the weight-0 ones (`sentence_features`)."""
        window = self.params.window
        return [_cached_sentence_features(tuple(tokens), window, training) for tokens in column(split, "tokens")]

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        p = self.params
        self.crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs",
            c1=p.c1,
            c2=p.c2,
            max_iterations=p.max_iterations,
            all_possible_transitions=p.all_possible_transitions,
        )
        self.crf.fit(self._features(train, training=True), decode_labels(train, self.task.label_column))

    def _predict(self, split: Dataset) -> list[Any]:
        return self._tags(self._features(split)) if len(split) else []

    def _tags(self, features: list[list[dict[str, Any]]]) -> list[list[str]]:
        assert self.crf is not None
        known = set(self.labels)
        return [repair_iob2([tag if tag in known else "O" for tag in tags]) for tags in self.crf.predict(features)]

    def _predict_scored(self, split: Dataset) -> tuple[list[Any], list[Any]]:
        """Viterbi tags (as `_predict`) and each chosen tag's marginal probability. The tagger is set once
        per sentence and asked only for the chosen tags' marginals: `CRF.predict_marginals` builds a dict
        of every label's marginal at every token (51 trigger tags), most of the predict time."""
        assert self.crf is not None
        tagger, known = self.crf.tagger_, set(self.labels)
        model_labels = set(tagger.labels())
        tags, scores = [], []
        for xseq in self._features(split):
            row = repair_iob2([tag if tag in known else "O" for tag in tagger.tag(xseq)])
            tags.append(row)
            scores.append([round(float(tagger.marginal(tag, i)), 6) if tag in model_labels else 0.0
                           for i, tag in enumerate(row)])
        return tags, scores

    def _save_state(self, directory: Path) -> None:
        assert self.crf is not None and self.crf.modelfile.name is not None
        shutil.copyfile(self.crf.modelfile.name, directory / CRF_FILE)

    def _load_state(self, directory: Path) -> None:
        path = directory / CRF_FILE
        if not path.exists():
            raise ConflictNewsError(f"{path}: missing (a saved CRF holds its weights here)")
        self.crf = sklearn_crfsuite.CRF(model_filename=str(path))


# -- TF-IDF + logistic regression, multi-label ---------------------------------------------------
class TfidfLogRegParams(Params):
    ngram_max: int = 2
    min_df: int = 1
    sublinear_tf: bool = True
    c: float = 1.0  # inverse regularisation strength of each logistic regression
    max_iter: int = 1000
    # "balanced": weight each class by 1/frequency; "none": unweighted (TOML has no null).
    class_weight: Literal["balanced", "none"] = "none"
    threshold: float = 0.5  # predict a label when P(label) >= threshold


def _class_weight(p: Any) -> str | None:
    return None if p.class_weight == "none" else p.class_weight


def _tfidf(p: Any, token_pattern: str = r"(?u)\b\w\w+\b") -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, p.ngram_max),
        min_df=p.min_df,
        sublinear_tf=p.sublinear_tf,
        lowercase=True,
        token_pattern=token_pattern,
    )


class TfidfLogReg(Baseline):
    name = "tfidf_logreg"
    family = "classical"
    kinds = frozenset({TaskKind.MULTILABEL})
    summary = "TF-IDF word n-grams + one-vs-rest logistic regression (multi-label, threshold on P)."
    params_model = TfidfLogRegParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vectorizer: TfidfVectorizer | None = None
        self.binarizer: MultiLabelBinarizer | None = None
        self.classifier: OneVsRestClassifier | None = None

    @staticmethod
    def _texts(split: Dataset) -> list[str]:
        return [" ".join(tokens) for tokens in column(split, "tokens")]

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        p = self.params
        self.vectorizer = _tfidf(p)
        x = self.vectorizer.fit_transform(self._texts(train))
        self.binarizer = MultiLabelBinarizer(classes=self.labels)
        y = self.binarizer.fit_transform(decode_labels(train, self.task.label_column))
        base = LogisticRegression(
            C=p.c, max_iter=p.max_iter, class_weight=_class_weight(p), random_state=self.seed
        )
        # A label never (or always) present in training gets a constant predictor (sklearn warns; we expect it
        # on a small corpus where most of the 25 sub-event types never occur).
        self.classifier = OneVsRestClassifier(base)
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Label .* is present in all training examples"
            )
            warnings.filterwarnings(
                "ignore", message="Label not .* is present in all training examples"
            )
            self.classifier.fit(x, y)

    def _predict(self, split: Dataset) -> list[Any]:
        assert (
            self.vectorizer is not None
            and self.binarizer is not None
            and self.classifier is not None
        )
        if len(split) == 0:
            return []
        return self._predict_scored(split)[0]

    def _predict_scored(self, split: Dataset) -> tuple[list[Any], list[Any]]:
        assert self.vectorizer is not None and self.classifier is not None
        probabilities = np.asarray(
            self.classifier.predict_proba(self.vectorizer.transform(self._texts(split)))
        )
        chosen = probabilities >= self.params.threshold
        values = [[self.labels[j] for j in np.flatnonzero(row)] for row in chosen]
        scores = [
            {label: round(float(p), 6) for label, p in zip(self.labels, row, strict=True)}
            for row in probabilities
        ]
        return values, scores

    def decision_rules(self) -> dict[str, Any]:
        return {"threshold": self.params.threshold}

    def _save_state(self, directory: Path) -> None:
        dump_skops(
            {
                "vectorizer": self.vectorizer,
                "binarizer": self.binarizer,
                "classifier": self.classifier,
            },
            directory,
        )

    def _load_state(self, directory: Path) -> None:
        state = load_skops(directory)
        self.vectorizer, self.binarizer, self.classifier = (
            state["vectorizer"],
            state["binarizer"],
            state["classifier"],
        )


# -- TF-IDF + markers + logistic regression, stance ----------------------------------------------
class TfidfMarkersParams(TfidfLogRegParams):
    class_weight: Literal["balanced", "none"] = "balanced"
    entity_type_features: bool = True  # one-hot holder type, target type and the pair


class TfidfLogRegMarkers(Baseline):
    name = "tfidf_logreg_markers"
    family = "classical"
    kinds = frozenset({TaskKind.SINGLE_LABEL})
    summary = (
        "TF-IDF of the context with [H]/[T] holder and target markers + entity-type features, "
        "logistic regression with balanced class weights."
    )
    params_model = TfidfMarkersParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vectorizer: TfidfVectorizer | None = None
        self.types: DictVectorizer | None = None
        self.classifier: LogisticRegression | DummyClassifier | None = None
        self._counter: MarkedCounter | None = None  # the fitted vectorizer's, made on first use

    def _pair_types(self, holder: str, target: str) -> dict[str, float]:
        if not self.params.entity_type_features:
            return {}
        return {f"holder={holder}": 1.0, f"target={target}": 1.0, f"pair={holder}>{target}": 1.0}

    def _type_features(self, split: Dataset) -> list[dict[str, float]]:
        holder = decode_labels(split, "holder_type")
        target = decode_labels(split, "target_type")
        return [self._pair_types(h, t) for h, t in zip(holder, target, strict=True)]

    def _type_matrix(self, split: Dataset) -> Any:
        """`types.transform(_type_features(split))`: each (holder type, target type) row made once and
        gathered (a dozen distinct rows for 241k pairs); row gathering keeps each row as made."""
        assert self.types is not None
        pairs = list(zip(decode_labels(split, "holder_type"), decode_labels(split, "target_type"), strict=True))
        distinct = list(dict.fromkeys(pairs))
        table = self.types.transform([self._pair_types(h, t) for h, t in distinct])
        index = {pair: i for i, pair in enumerate(distinct)}
        return table[[index[pair] for pair in pairs]]

    def _matrix(self, split: Dataset, fit: bool) -> Any:
        assert self.vectorizer is not None and self.types is not None
        if fit:
            self._counter = None
            return hstack([self.vectorizer.fit_transform(marked_texts(split)),
                           self.types.fit_transform(self._type_features(split))]).tocsr()
        if self._counter is None or self._counter.vectorizer is not self.vectorizer:
            self._counter = MarkedCounter(self.vectorizer)
        # = vectorizer.transform(marked_texts(split)), counted once per context (models/marking.py)
        return hstack([marked_tfidf(self.vectorizer, split, self._counter), self._type_matrix(split)]).tocsr()

    def _fit(self, train: Dataset, validation: Dataset | None) -> None:
        p = self.params
        self.vectorizer = _tfidf(p, MARKER_TOKEN_PATTERN)
        self.types = DictVectorizer()
        x = self._matrix(train, fit=True)
        y = np.asarray(column(train, self.task.label_column))
        if len(set(y.tolist())) < 2:
            # Logistic regression needs two classes; a one-class training split can only yield that class.
            self.notes.append(
                f"training split has a single class ({self.labels[int(y[0])]}): constant predictor"
            )
            self.classifier = DummyClassifier(strategy="most_frequent")
        else:
            self.classifier = LogisticRegression(
                C=p.c, max_iter=p.max_iter, class_weight=_class_weight(p), random_state=self.seed
            )
        self.classifier.fit(x, y)

    def _predict(self, split: Dataset) -> list[Any]:
        assert self.classifier is not None
        if len(split) == 0:
            return []
        return [
            self.labels[int(i)] for i in self.classifier.predict(self._matrix(split, fit=False))
        ]

    def _predict_scored(self, split: Dataset) -> tuple[list[Any], list[Any]]:
        assert self.classifier is not None
        if len(split) == 0:
            return [], []
        x = self._matrix(split, fit=False)  # once for the decisions and the probabilities
        probabilities = np.asarray(self.classifier.predict_proba(x))
        decided = [self.labels[int(i)] for i in self.classifier.predict(x)]
        classes = [self.labels[int(i)] for i in self.classifier.classes_]
        absent = dict.fromkeys(self.labels, 0.0)  # a class absent from training: 0
        scores = [{**absent, **{c: round(p, 6) for c, p in zip(classes, row, strict=True)}}
                  for row in probabilities.tolist()]
        return decided, scores

    def _save_state(self, directory: Path) -> None:
        dump_skops(
            {"vectorizer": self.vectorizer, "types": self.types, "classifier": self.classifier},
            directory,
        )

    def _load_state(self, directory: Path) -> None:
        state = load_skops(directory)
        self.vectorizer, self.types, self.classifier = (
            state["vectorizer"],
            state["types"],
            state["classifier"],
        )


__all__ = [
    "CRFTagger",
    "TfidfLogReg",
    "TfidfLogRegMarkers",
    "label_names",
    "word_shape",
]
