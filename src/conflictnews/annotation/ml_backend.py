"""A Label Studio ML backend serving the saved models: the model in the loop for annotators.

`conflictnews annotate ml-backend serve` runs it (uvicorn, 127.0.0.1:9090 by default);
`conflictnews annotate push --ml-backend URL` connects it to the pass projects. When an annotator
opens a task that has no prediction of the current model version, Label Studio asks `POST
/predict` and shows the answer as the task's prediction.

The protocol, as Label Studio 1.23 speaks it (its `ml/api_connector.py` and `ml/models.py`, and
the endpoints of HumanSignal's label-studio-ml-backend `api.py`):

* ``GET /health`` (and ``GET /``): ``{"status": "UP", "model_class": ...}``; Label Studio gives
  it 1 s, before every batch of predictions;
* ``POST /setup`` ``{"project": "<id>.<created>", "schema": <label config>, ...}``: answers
  ``{"model_version": ...}`` within 3 s; a project whose label config was rendered from another
  scheme version is refused (422), so Label Studio marks the connection as failed;
* ``POST /predict`` ``{"tasks": [...], "project": ..., "label_config": ..., "params": {...}}``:
  answers ``{"results": [one {"result", "score", "model_version"} per task, in task order],
  "model_version": ...}``; Label Studio drops the whole batch when the counts differ, so a task
  we cannot predict (no text, a text that is not the corpus's normalised text, a text whose
  hash is not its `text_sha256`) gets an empty result, never a missing one;
* ``POST /webhook``: Label Studio registers ``<url>/webhook`` for every project event when the
  backend is connected; the models are not retrained from it, so it answers 200 and does nothing;
* ``GET /versions``, ``GET /metrics``: the one model version; ``{}``.

A prediction is the saved models' output converted by `preannotate.labelstudio_prediction`:
`to_annotation_record` (what `predict --format labelstudio` writes) then `record_to_results`
(what `push --predictions` imports), so the three ways predictions reach Label Studio agree on
every label and offset. Its `score` is 1 - the article's uncertainty (`preannotate.uncertainty`).

Why FastAPI and not label-studio-ml. The only label-studio-ml on PyPI is 1.0.9 (January 2023,
the v1 protocol of Label Studio 1.7); the maintained label-studio-ml-backend is installed from
GitHub. 1.0.9 pins Flask 1.1.2, Werkzeug 2.0.2, itsdangerous 2.0.1 and Jinja2 ==3.0.3 (this
project needs jinja2>=3.1) and imports redis and rq without declaring them (tried in a scratch
venv beside label-studio-sdk 2.1.2). The protocol is five small JSON endpoints; FastAPI and
uvicorn are already dependencies, so the backend is written against the protocol directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI  # at module level: the endpoints' string annotations resolve here
from fastapi.responses import JSONResponse

from conflictnews.annotation.preannotate import labelstudio_prediction
from conflictnews.annotation.render import config_scheme_version
from conflictnews.annotation.scheme import SCHEME_VERSION
from conflictnews.corpus.records import Article, normalise_text
from conflictnews.io import ConflictNewsError, sha256_text
from conflictnews.models.predict import Predictor, load_predictor, predict_articles

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9090
MODEL_CLASS = "ConflictNewsSavedModels"
log = logging.getLogger(__name__)


class TaskProblem(ValueError):
    """A task the models cannot predict on (answered with an empty result)."""


def task_article(task: Mapping[str, Any]) -> Article:
    """The article of a pushed task (`ls_client.task_data`): its text must be the corpus's
    normalised text, or the predicted offsets would not be the task's."""
    data = task.get("data") or {}
    text = data.get("text")
    where = f"task {task.get('id')}"
    if not isinstance(text, str) or not text.strip():
        raise TaskProblem(f"{where}: no data.text")
    if normalise_text(text) != text:
        raise TaskProblem(f"{where}: data.text is not normalised (push it with `conflictnews annotate push`)")
    expected = data.get("text_sha256")
    if expected and expected != sha256_text(text):
        raise TaskProblem(f"{where}: data.text does not match its data.text_sha256")
    return Article.create(text=text, title=str(data.get("article_id") or where), source="label-studio",
                          licence="unknown")


def predict_tasks(tasks: list[Mapping[str, Any]], predictor: Predictor) -> list[dict[str, Any]]:
    """One Label Studio prediction per task, in task order (an empty one for a task we cannot predict)."""
    version = predictor.model_version
    articles: list[Article | None] = []
    for task in tasks:
        try:
            articles.append(task_article(task))
        except TaskProblem as exc:
            log.warning("%s; answered with an empty prediction", exc)
            articles.append(None)
    docs = {doc.article.id: doc for doc in predict_articles([a for a in articles if a is not None], predictor)}
    return [labelstudio_prediction(docs[a.id], version) if a is not None
            else {"result": [], "score": None, "model_version": version} for a in articles]


def scheme_problem(label_config: str | None) -> str | None:
    """Why a project's label config is not one this backend's labels mean anything in (None: fine)."""
    if not label_config:
        return None
    version = config_scheme_version(label_config)
    if version == SCHEME_VERSION:
        return None
    found = f"scheme v{version}" if version else "a label config not generated by conflictnews"
    return f"the project uses {found}; these models predict scheme v{SCHEME_VERSION}"


def create_app(predictor: Predictor) -> Any:
    """The FastAPI app of the protocol (see the module docstring) around loaded models."""
    app = FastAPI(title="conflictnews Label Studio ML backend", version=predictor.model_version)
    lock = threading.Lock()  # one prediction at a time: the models are CPU-bound, /health stays free
    version = predictor.model_version
    models = {task: loaded.info.name for task, loaded in predictor.models.items()}

    def refused(problem: str) -> JSONResponse:
        return JSONResponse({"error": problem, "model_version": version}, status_code=422)

    @app.get("/")
    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "UP", "model_class": MODEL_CLASS, "model_version": version, "models": models}

    @app.post("/setup", response_model=None)
    def setup(body: Annotated[dict[str, Any], Body()]) -> Any:
        problem = scheme_problem(body.get("schema"))
        if problem:
            return refused(f"project {body.get('project')}: {problem}")
        return {"model_version": version}

    @app.post("/predict", response_model=None)
    def predict(body: Annotated[dict[str, Any], Body()]) -> Any:
        problem = scheme_problem(body.get("label_config"))
        if problem:
            return refused(f"project {body.get('project')}: {problem}")
        tasks = body.get("tasks") or []
        with lock:
            results = predict_tasks(list(tasks), predictor)
        return {"results": results, "model_version": version}

    @app.post("/webhook")
    def webhook(body: Annotated[dict[str, Any] | None, Body()] = None) -> dict[str, str]:
        return {"status": "ok", "action": str((body or {}).get("action", "")), "note": "no training"}

    @app.get("/versions")
    def versions() -> dict[str, Any]:
        return {"versions": [version], "model_version": version}

    @app.get("/metrics")
    def metrics() -> dict[str, Any]:
        return {}

    return app


def load_models(models: Path) -> Predictor:
    """The best saved model per task under `models`; a missing or incompatible folder is one
    ConflictNewsError naming it."""
    if not Path(models).is_dir():
        raise ConflictNewsError(f"{models}: no such folder of saved models (<DIR>/<task>/<name>/model.json); "
                                "`conflictnews train` or `reproduce` saves them in models/trained/")
    return load_predictor(models)


def serve(predictor: Predictor, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log_level: str = "info") -> None:
    """Serve the loaded models until stopped (Ctrl+C, SIGTERM)."""
    import uvicorn

    uvicorn.run(create_app(predictor), host=host, port=port, log_level=log_level)


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "create_app",
    "load_models",
    "predict_tasks",
    "scheme_problem",
    "serve",
    "task_article",
]
