"""An HTTP API over a loaded model: ``create_app(predictor, settings)`` and ``serve(cfg)``."""

# No `from __future__ import annotations`: the endpoints are built inside create_app, and FastAPI
# resolves string annotations in the module's globals, where their request models are not.

import ipaddress
import secrets
import sys
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.security import APIKeyHeader
from omegaconf import OmegaConf
from starlette.exceptions import HTTPException

from stance.config_schemas import DocumentConfig, ServeConfig
from stance.data.paragraphs import paragraph_id, split_paragraphs
from stance.errors import StanceError, problem
from stance.predict.documents import WHERE, describe, label_rows
from stance.predict.loading import Predictor, load_model
from stance.serve.guards import BodyLimit, ConcurrencyLimit, error_handlers
from stance.serve.schemas import ArticleResponse, PredictResponse, request_models

KEY_HEADER = "X-API-Key"


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # another host name: it may resolve to any address
        return False


def check_exposure(settings: ServeConfig) -> None:
    """Refuse a non-loopback host without an API key, unless ``allow_unauthenticated``."""
    if is_loopback(settings.host) or settings.api_key or settings.allow_unauthenticated:
        return
    what = "listening beyond this machine without an API key lets anyone who reaches it in"
    fix = (
        "set STANCE_API_KEY (clients send it as the X-API-Key header), keep host=127.0.0.1, or "
        "allow_unauthenticated=true when something in front of the service does the guarding"
    )
    raise StanceError(problem(f"host={settings.host}", what, fix))


def body_limit(settings: ServeConfig) -> int:
    """The largest request body, in bytes, that a request within the limits can need."""
    chars = max(
        2 * settings.max_texts * settings.max_text_chars,  # texts and targets
        settings.max_article_chars + 2 * settings.max_text_chars,
    )
    return 6 * chars + 65536  # 6 bytes: a \uXXXX escape; 64 KiB: keys, quotes and commas


def create_app(predictor: Predictor, settings: ServeConfig) -> FastAPI:
    """The FastAPI app: ``POST /predict``, ``POST /articles``, ``GET /model``, ``GET /health``."""
    rule = settings.document
    predict_request, article_request = request_models(settings)
    app = FastAPI(
        title="stance",
        summary=f"stance labels from {predictor.path.name}",
        docs_url=None,  # off unless settings.docs, then behind the key (_docs)
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrent)
    app.add_middleware(BodyLimit, limit=body_limit(settings))  # the outer one: added last
    error_handlers(app)
    key_header = APIKeyHeader(name=KEY_HEADER, auto_error=False)

    def require_key(given: Annotated[str | None, Depends(key_header)]) -> None:
        key = settings.api_key or ""
        if given is None or not secrets.compare_digest(given.encode(), key.encode()):
            raise HTTPException(401, f"missing or wrong {KEY_HEADER} header")

    guard = [Depends(require_key)] if settings.api_key else []
    keys = ("max_texts", "max_text_chars", "max_article_chars", "max_concurrent")
    limits = {k: getattr(settings, k) for k in keys}
    if settings.docs:
        _docs(app, guard)

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness: answers without an API key, so probes need none."""
        return {"status": "ok"}

    @app.get("/model", dependencies=guard)
    def model_info() -> dict[str, Any]:
        """The model's classes, no-stance label, whether it needs targets, and the limits."""
        return {
            "model_path": str(predictor.path.resolve()),
            "classes": predictor.classes_,
            "neutral_label": predictor.neutral_label,
            "uses_target": predictor.uses_target,
            "requires_target": predictor.requires_target,
            "seen_targets": predictor.seen_targets,  # others are flagged unseen_target
            "document": {**vars(rule), "rule": describe(rule)},
            "limits": limits,
        }

    # plain `def` endpoints: FastAPI runs them in its threadpool, off the event loop
    labelled: dict[str, Any] = {"response_model_exclude_none": True, "dependencies": guard}

    @app.post("/predict", response_model=PredictResponse, **labelled)
    def predict(request: predict_request) -> dict[str, Any]:  # type: ignore[valid-type]
        """Label each text (``targets``: one policy per text, for a model trained per policy)."""
        rows = [{"text": text, WHERE: f"texts[{i}]"} for i, text in enumerate(request.texts)]
        for row, target in zip(rows, request.targets or [], strict=False):
            row["target"] = target
        out = label_rows(predictor, rows, None, settings.batch_size, rule)
        return {"classes": predictor.classes_, "predictions": out}

    @app.post("/articles", response_model=ArticleResponse, **labelled)
    def articles(request: article_request) -> dict[str, Any]:  # type: ignore[valid-type]
        """Split one article into paragraphs, label them, and give the document stance."""
        doc, given = request.doc_id, {"target": request.target} if request.target else {}
        paragraphs = split_paragraphs(request.text)
        if len(paragraphs) > settings.max_texts:  # the cap /predict's texts have, per request
            what = f"{len(paragraphs)} paragraphs, over the limit of {settings.max_texts} per "
            fix = "request (max_texts): send the article in parts"
            raise RequestValidationError([{"type": "too_long", "loc": ("body", "text"),
                                           "msg": what + fix}])  # fmt: skip
        rows = [
            {"id": paragraph_id(doc, i), "doc_id": doc, "paragraph": i, "text": text,
             WHERE: f"paragraph {i}"} | given
            for i, text in enumerate(paragraphs)
        ]  # fmt: skip
        out = label_rows(predictor, rows, None, settings.batch_size, rule)
        return {"classes": predictor.classes_, "paragraphs": out[:-1], "document": out[-1]}

    return app


def _docs(app: FastAPI, guard: list[Any]) -> None:
    """``/openapi.json``, ``/docs`` and ``/redoc``, behind the key like every route but /health
    (the pages fetch /openapi.json themselves: with a key, the browser must send it too)."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="stance")

    @app.get("/redoc", include_in_schema=False, dependencies=guard)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="stance")


def settings_from(cfg: Any) -> ServeConfig:
    """A composed serve config as a ``ServeConfig`` (an empty api_key counts as none)."""
    values = OmegaConf.to_container(cfg, resolve=True)
    values["document"] = DocumentConfig(**values["document"])
    values["api_key"] = values.get("api_key") or None
    return ServeConfig(**values)


def serve(cfg: Any) -> None:
    """``scripts/serve.py``: check the host, load ``cfg.model_path``, run uvicorn until stopped."""
    import uvicorn

    settings = settings_from(cfg)
    check_exposure(settings)  # before loading: a refusal should not wait for the model
    predictor = load_model(settings.model_path)
    app = create_app(predictor, settings)
    key = f"{KEY_HEADER} required" if settings.api_key else "no API key"
    print(f"serving {predictor.path} on http://{settings.host}:{settings.port} ({key})",
          file=sys.stderr, flush=True)  # fmt: skip
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
