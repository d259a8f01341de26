"""The request and response bodies of the HTTP API (stance.serve.service), with their limits."""

# No `from __future__ import annotations`: the request models are built inside request_models
# (their limits come from the settings), and pydantic resolves string annotations in the
# module's globals, where those local names are not.

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from stance.config_schemas import ServeConfig


class Prediction(BaseModel):
    """The label of one text and its probability per class."""

    target: str | None = None  # as given (absent for a text-only model given none)
    label: str
    unseen_target: bool = False  # a target the model never saw in training: shared weights only
    proba: dict[str, float]


class PredictResponse(BaseModel):
    """``POST /predict``: one prediction per text, in the order of the texts."""

    classes: list[str]
    predictions: list[Prediction]


class Paragraph(BaseModel):
    """One paragraph of an article: its id, index and text, label and probabilities."""

    id: str
    paragraph: int  # 0-based, in the article's order
    text: str
    target: str | None = None
    label: str
    unseen_target: bool = False  # as in Prediction
    furniture: bool = False  # page furniture (a byline, a caption): not in the document stance
    proba: dict[str, float]


class Document(BaseModel):
    """The document stance of an article and the rule that gave it (label_rows)."""

    doc_id: str
    label: str
    proba: dict[str, float]
    paragraphs: int
    paragraphs_used: int
    reason: str = ""  # why the label is "no clear stance"; empty when there is a stance
    rule: str


class ArticleResponse(BaseModel):
    """``POST /articles``: the article's paragraphs, then its document stance."""

    classes: list[str]
    paragraphs: list[Paragraph]
    document: Document


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text is empty or only whitespace")
    return text


def request_models(settings: ServeConfig) -> tuple[type[BaseModel], type[BaseModel]]:
    """The request bodies of ``POST /predict`` and ``POST /articles``, with the settings' limits."""
    # capitalised: a class body cannot see a local of the same name as one of its fields
    Text = Annotated[
        str, StringConstraints(max_length=settings.max_text_chars), AfterValidator(_not_blank)
    ]
    Texts = Annotated[list[Text], Field(min_length=1, max_length=settings.max_texts)]
    Article = Annotated[
        str, StringConstraints(max_length=settings.max_article_chars), AfterValidator(_not_blank)
    ]
    strict = ConfigDict(extra="forbid", strict=True)  # "42" stays a string, 42 is an error

    class PredictRequest(BaseModel):
        """Texts to label and, for a model trained per policy, one target per text."""

        model_config = strict
        texts: Texts
        targets: Texts | None = None

        @model_validator(mode="after")
        def one_target_per_text(self) -> "PredictRequest":
            if self.targets is not None and len(self.targets) != len(self.texts):
                n, m = len(self.targets), len(self.texts)
                raise ValueError(f"{n} targets for {m} texts: give one target per text, or none")
            return self

    class ArticleRequest(BaseModel):
        """One raw article (paragraphs split as predict.py splits a .txt file) and its policy."""

        model_config = strict
        text: Article
        target: Text | None = None
        doc_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "article"

    return PredictRequest, ArticleRequest
