"""Stage 3: the versioned Hugging Face dataset (build, card, versions, push, load).

Public API:

* `build.build_release(paths, version, *, out=None, allow_unannotated=False, workers=None, ...)
  -> BuildReport`: committed articles + gold -> `corpus/releases/<version>/` (README.md card,
  DATASHEET.md, MANIFEST.json, `data/<config>/<split>-00000-of-00001.parquet`).
* `build.verify_release(paths, version) -> list[str]`: rebuild and compare with the committed manifest.
* `manifest.diff_manifests(a, b) -> ManifestDiff`, `manifest.load_manifest(path)`.
* `load.load_release(path_or_repo_id, config, revision=None, **kwargs) -> datasets.DatasetDict`.
* `push.push_release(folder, repo_id, version, *, api=None) -> PushResult` (upload + tag `v<version>`).
* `card.splice_block(card_text, name, content)`: fill a `<!-- BEGIN name -->` block of the card.
* `conll.import_conll(files, out, split=None)`: a CoNLL/IOB corpus as a local `entities` dataset.
* `splits`: per-article hash splits, paragraph-block fallback below 10 articles.

Features of every config are declared once in `features.py`; row id formats are in `rows.py`. The
SYNTHETIC gold and corpora of the tests and benchmarks are test code (`tests/support/`), not part of
the package.
"""
