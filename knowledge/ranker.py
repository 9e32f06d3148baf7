"""The learned ranker: a logistic regression over ``knowledge.features`` that turns a (question, text) pair into
the probability that the text's card answers the question, and a second, small one that turns a card's
probability, the best other card's and what the question holds (unknown words, length) into the confidence
that this card is the answer: a card at 0.7 alone is likelier right than one at 0.7 next to another at 0.68.

The model is a small JSON file (``knowledge/ranker.json``) written by ``manage.py train_ranker`` and read once
per process. It also carries the confidence bands fitted with it (answer / clarify / margin), since they only
mean something for the probabilities of that model. Fitting is plain numpy Newton steps on standardised
features with an L2 penalty: no randomness, so the same examples give the same file, bit for bit.
"""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from .features import FEATURES

MODEL_FILE = Path(__file__).with_name("ranker.json")
FORMAT = 2
# Saved numbers are rounded, so that a retrain on another machine (other BLAS, other summation order)
# still writes the same file.
DIGITS = 6


# The card's probability, the best other card's, the lead, then the standardised features of the card's best
# text: whether the best card is the answer depends on what matched (a topic, a question type), not only on how
# much.
CONFIDENCE_INPUTS = ("probability", "best_other", "lead", *FEATURES)


class RankerFileError(ValueError):
    pass


@dataclass(frozen=True)
class Bands:
    """Confidence bands: answer at or above ``answer`` when ``margin`` ahead of the next card (or ``certain``);
    clarify down to ``clarify``; below, fall back, unless the best card's ranker probability is at least
    ``ambiguous`` ("退货": the return address or how to return?), which also asks which card was meant."""

    answer: float = 0.5
    clarify: float = 0.3
    margin: float = 0.1
    certain: float = 0.9
    ambiguous: float = 0.6


@dataclass(frozen=True)
class Ranker:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    # Confidence: weights over CONFIDENCE_INPUTS, then the bias.
    confidence_weights: np.ndarray = field(
        default_factory=lambda: np.concatenate([[1.0], np.zeros(len(CONFIDENCE_INPUTS) - 1)])
    )
    confidence_bias: float = 0.0
    bands: Bands = Bands()
    training: dict | None = None

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def confidences(self, card_probabilities: np.ndarray, card_features: np.ndarray) -> np.ndarray:
        """Each card's confidence, from its probability, the best other card's and the features of its best
        text (cards best first, one feature row each)."""
        inputs = confidence_inputs(card_probabilities, (card_features - self.mean) / self.scale)
        return 1.0 / (1.0 + np.exp(-(inputs @ self.confidence_weights + self.confidence_bias)))

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "features": list(FEATURES),
            "mean": _rounded(self.mean),
            "scale": _rounded(self.scale),
            "weights": _rounded(self.weights),
            "bias": round(float(self.bias), DIGITS),
            "confidence_weights": _rounded(self.confidence_weights),
            "confidence_bias": round(float(self.confidence_bias), DIGITS),
            "bands": {name: round(getattr(self.bands, name), DIGITS) for name in Bands.__dataclass_fields__},
            "training": self.training or {},
        }
        return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Ranker":
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise RankerFileError(f"format {data.get('format')!r}, expected {FORMAT}")
            if tuple(data["features"]) != FEATURES:
                raise RankerFileError("the model's features differ from knowledge.features: run train_ranker")
            return cls(
                np.asarray(data["mean"], dtype=np.float64),
                np.asarray(data["scale"], dtype=np.float64),
                np.asarray(data["weights"], dtype=np.float64),
                float(data["bias"]),
                np.asarray(data["confidence_weights"], dtype=np.float64),
                float(data["confidence_bias"]),
                Bands(**data["bands"]),
                data.get("training") or {},
            )
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise RankerFileError(f"not a ranker model: {error}") from None

    def rounded(self) -> "Ranker":
        """The model as saved (numbers rounded)."""
        return Ranker.from_json(self.to_json())


def confidence_inputs(card_probabilities: np.ndarray, standardised: np.ndarray) -> np.ndarray:
    """Rows of CONFIDENCE_INPUTS for cards whose probabilities are given best first, with their best texts'
    standardised features."""
    p = np.asarray(card_probabilities, dtype=np.float64)
    other = np.full(len(p), p[1] if len(p) > 1 else 0.0)
    other[1:] = p[0]
    return np.column_stack([p, other, p - other, standardised.reshape(len(p), len(FEATURES))])


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), DIGITS) for v in values]


def fit(features: np.ndarray, labels: np.ndarray, *, l2: float = 1.0, steps: int = 30) -> Ranker:
    """Logistic regression by Newton's method on standardised features (deterministic)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale < 1e-9] = 1.0
    weights, bias = logistic((features - mean) / scale, labels, l2=l2, steps=steps)
    return Ranker(mean, scale, weights, bias)


def logistic(x: np.ndarray, labels: np.ndarray, *, l2: float = 1.0, steps: int = 30) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-penalised logistic regression, by Newton's method."""
    x = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - labels) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w[:-1], float(w[-1])


def load_ranker(path: Path = MODEL_FILE) -> Ranker:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RankerFileError(f"{path}: no such file; run manage.py train_ranker") from None
    try:
        return Ranker.from_json(text)
    except RankerFileError as error:
        raise RankerFileError(f"{path}: {error}") from None


@cache
def shipped_ranker() -> Ranker:
    """The committed model, read once per process."""
    return load_ranker(MODEL_FILE)
