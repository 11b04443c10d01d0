"""What FA-KES is and where it comes from: the collection's constants and its `CollectionSource`."""

from __future__ import annotations

from conflictnews.corpus.hydrate import (
    CollectionSource,
)

COLLECTION = "fa-kes"
COLUMNS = ("unit_id", "article_title", "article_content", "source", "date", "location", "labels")
LABELS = {"0": "fake", "1": "credible"}
DATE_FORMAT = "%m/%d/%Y"  # FA-KES writes dates as M/D/YYYY, e.g. 4/5/2017
LICENCE = "CC BY 4.0"
ATTRIBUTION = (
    "FA-KES (Abu Salem, Al Feel, Elbassuoni, Jaber, Farah; ICWSM 2019), Zenodo record 2607278"
)
PUBLISHED_ROWS = 804
ZENODO_RECORD = "2607278"
ZENODO_FILE = "FA-KES-Dataset.csv"
ZENODO_MD5 = "55d0ec452440a4ed46aac1e330b40e83"  # as listed on the Zenodo record
ZENODO_API = f"https://zenodo.org/api/records/{ZENODO_RECORD}"
ZENODO_PAGE = f"https://zenodo.org/records/{ZENODO_RECORD}"
SOURCE = CollectionSource(
    collection=COLLECTION,
    name="FA-KES",
    url=ZENODO_PAGE,
    licence=LICENCE,
    attribution=ATTRIBUTION,
    hydrate_command=f"conflictnews corpus hydrate fakes --csv {ZENODO_FILE}",
    download_command="conflictnews corpus hydrate fakes --download",
)
SEP = "|"  # separates per-row values in `origin` and `metadata`
MAX_LISTED = 25  # problems shown in an error message (all are on the exception)


