"""The `datasets.Features` of every config, declared once from the annotation scheme.

The build writes with these, the card renders them, the loaders and evaluation read
label names from them (`ClassLabel.names`), never from constants elsewhere.
Every row has a string `id`, unique within its config; predictions are keyed by it.
"""

from __future__ import annotations

from datasets import ClassLabel, Features, List, Value

from conflictnews.annotation import scheme

ENTITY_LABEL = ClassLabel(names=scheme.entity_labels())
SUB_EVENT_LABEL = ClassLabel(names=scheme.sub_event_labels())
EVENT_TYPE_LABEL = ClassLabel(names=scheme.event_type_labels())
STANCE_RELATION_LABEL = ClassLabel(names=scheme.stance_labels())
STANCE_CLASS_LABEL = ClassLabel(names=scheme.stance_classes())
NER_TAG = ClassLabel(names=scheme.bio_tags(scheme.entity_labels()))
TRIGGER_TAG = ClassLabel(names=scheme.bio_tags(scheme.sub_event_labels()))

_SPAN = {"id": Value("string"), "start": Value("int32"), "end": Value("int32"), "text": Value("string")}

DOCUMENTS = Features(
    {
        "id": Value("string"),
        "title": Value("string"),
        "source": Value("string"),
        "url": Value("string"),
        "published": Value("string"),
        "language": Value("string"),
        "licence": Value("string"),
        "text": Value("string"),
        "text_sha256": Value("string"),
        "entities": List({**_SPAN, "label": ENTITY_LABEL}),
        "events": List({**_SPAN, "label": SUB_EVENT_LABEL, "event_type": EVENT_TYPE_LABEL}),
        "stances": List({"holder": Value("string"), "target": Value("string"), "label": STANCE_RELATION_LABEL}),
    }
)

ENTITIES = Features(
    {
        "id": Value("string"),
        "article_id": Value("string"),
        "sentence_index": Value("int32"),
        "tokens": List(Value("string")),
        "ner_tags": List(NER_TAG),
    }
)

EVENTS = Features(
    {
        "id": Value("string"),
        "article_id": Value("string"),
        "sentence_index": Value("int32"),
        "tokens": List(Value("string")),
        "trigger_tags": List(TRIGGER_TAG),
        "event_types": List(SUB_EVENT_LABEL),
    }
)

STANCE = Features(
    {
        "id": Value("string"),
        "article_id": Value("string"),
        "text": Value("string"),  # the context: one sentence, or two adjacent ones
        "holder_start": Value("int32"),  # offsets into `text`
        "holder_end": Value("int32"),
        "holder_text": Value("string"),
        "holder_type": ENTITY_LABEL,
        "target_start": Value("int32"),
        "target_end": Value("int32"),
        "target_text": Value("string"),
        "target_type": ENTITY_LABEL,
        "label": STANCE_CLASS_LABEL,
    }
)

CONFIGS: dict[str, Features] = {
    "documents": DOCUMENTS,
    "entities": ENTITIES,
    "events": EVENTS,
    "stance": STANCE,
}

SPLITS: tuple[str, ...] = ("train", "validation", "test")
