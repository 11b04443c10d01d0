"""FA-KES as stand-off records: read the CSV, register its articles, hydrate their texts.

One module per step: `source` (what the collection is: constants, its `CollectionSource`),
`reading` (the CSV), `registration` (rows -> stand-off records, import into the store),
`hydration` (texts into the cache, Zenodo download, provenance for selections). This package
re-exports their public names.

FA-KES (Abu Salem, Al Feel, Elbassuoni, Jaber, Farah; ICWSM 2019; Zenodo record 2607278;
CC BY 4.0) is 804 rows of news articles on the Syrian war from 15 outlets, each labelled
0 (fake) or 1 (credible). The repository never holds its texts: `import_fakes` writes one
stand-off `Article` per distinct text (text=None, `text_sha256` pinning the normalised text),
and `hydrate_fakes` fills the git-ignored text cache from a copy of the CSV the user supplies
(or downloads), checking every text against its record's hash.

Rows are numbered from 1 in file order (the header is not a row). `unit_id` is not unique in
FA-KES, so a row is keyed by (row, unit_id). Rows with the same normalised text become one
record; its `origin` lists all of them, `|`-separated and in file order:

    origin   = {"collection": "fa-kes", "unit_id": "u1|u2", "row": "40|351"}
    metadata = {"location": "aleppo|aleppo", "fakes_label": "1|0", "words": "264",
                "fakes_date": "2017-04-02|2017-04-14",   # only when the rows' dates differ
                "replacement_characters": "3"}           # only when the text has U+FFFD

`fakes_label` is the per-row FA-KES credibility label ("0" fake, "1" credible); the record's
`title`, `source` and `published` are those of its first row.

Encoding. The development copy of the CSV has U+FFFD where the published file has other
characters. Import pins the text as read (U+FFFD included, reported per row as encoding damage)
and refuses bytes that are not UTF-8. Hydration decodes invalid bytes as U+FFFD and, for records
that declare `replacement_characters`, also accepts a text whose non-ASCII characters, read as
U+FFFD, give exactly the pinned text (`hydrate.fold_damage`): the published file then hydrates
the same records. Either way the cached text is the pinned one, byte for byte.
"""

from __future__ import annotations

from conflictnews.corpus.fakes.hydration import (
    Download,
    FakesHydrateReport,
    check_source,
    describe_missing,
    download_fakes,
    hydrate_fakes,
    selection_source,
    source_texts,
)
from conflictnews.corpus.fakes.reading import (
    CsvRow,
    FakesCsv,
    FakesError,
    RowProblem,
    article_id_of,
    read_fakes_csv,
)
from conflictnews.corpus.fakes.registration import (
    ImportPlan,
    ImportReport,
    check_against_store,
    existing_records,
    import_fakes,
    is_fakes,
    parse_date,
    plan_import,
    record_for,
    row_keys,
    row_labels,
    row_problems,
)
from conflictnews.corpus.fakes.source import (
    ATTRIBUTION,
    COLLECTION,
    COLUMNS,
    DATE_FORMAT,
    LABELS,
    LICENCE,
    MAX_LISTED,
    PUBLISHED_ROWS,
    SEP,
    SOURCE,
    ZENODO_API,
    ZENODO_FILE,
    ZENODO_MD5,
    ZENODO_PAGE,
    ZENODO_RECORD,
)

__all__ = [
    "ATTRIBUTION",
    "COLLECTION",
    "COLUMNS",
    "DATE_FORMAT",
    "LABELS",
    "LICENCE",
    "MAX_LISTED",
    "PUBLISHED_ROWS",
    "SEP",
    "SOURCE",
    "ZENODO_API",
    "ZENODO_FILE",
    "ZENODO_MD5",
    "ZENODO_PAGE",
    "ZENODO_RECORD",
    "CsvRow",
    "Download",
    "FakesCsv",
    "FakesError",
    "FakesHydrateReport",
    "ImportPlan",
    "ImportReport",
    "RowProblem",
    "article_id_of",
    "check_against_store",
    "check_source",
    "describe_missing",
    "download_fakes",
    "existing_records",
    "hydrate_fakes",
    "import_fakes",
    "is_fakes",
    "parse_date",
    "plan_import",
    "read_fakes_csv",
    "record_for",
    "row_keys",
    "row_labels",
    "row_problems",
    "selection_source",
    "source_texts",
]
