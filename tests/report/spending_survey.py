"""A small generated survey that is not the Kazakh one: a 6-item "spending" battery in the style
of the US General Social Survey ("Are we spending too much, too little or about the right amount
on ..."), with age (a number without bands), sex, region and state (too many categories to draw).

Three latent classes answer the battery differently; a split ballot leaves some respondents
unasked. Nothing here names a reference typology.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ITEMS = {
    "natenvir": ("the environment", "Improving and protecting the environment"),
    "natheal": ("health", "Improving and protecting the nation's health"),
    "nateduc": ("education", "Improving the nation's education system"),
    "natarms": ("the military", "The military, armaments and defense"),
    "nataid": ("foreign aid", "Foreign aid"),
    "natfare": ("welfare", "Welfare"),
}
#: P(too little, about right, too much) of each class on each item, in ITEMS order.
CLASSES = {
    "expand": [
        *[(0.85, 0.12, 0.03)] * 3,
        *[(0.10, 0.40, 0.50), (0.50, 0.35, 0.15), (0.80, 0.15, 0.05)],
    ],
    "cut": [
        *[(0.10, 0.35, 0.55), (0.15, 0.40, 0.45), (0.20, 0.40, 0.40)],
        *[(0.60, 0.30, 0.10), (0.03, 0.12, 0.85), (0.03, 0.17, 0.80)],
    ],
    "defense": [
        *[(0.50, 0.40, 0.10), (0.80, 0.15, 0.05), (0.75, 0.20, 0.05)],
        *[(0.90, 0.08, 0.02), (0.05, 0.15, 0.80), (0.10, 0.30, 0.60)],
    ],
}
SHARES = (0.45, 0.30, 0.25)
#: (label, phrase for "More ...") of each region and state.
REGIONS = (
    ("Northeast", "Northeasterners"),
    ("Midwest", "Midwesterners"),
    ("South", "Southerners"),
    ("West", "Westerners"),
)
STATES = ("California", "Texas", "Florida", "New York", "Pennsylvania", "Illinois", "Ohio")
STATES += ("Georgia", "North Carolina", "Michigan", "New Jersey", "Virginia")
POPULATION = "adults aged 18 and over in the United States"


def codebook(*, weighted: bool, population: bool = True) -> dict:
    """The survey's codebook (a YAML mapping): domains ``spending`` (segmentation) and
    ``demographics`` (profile); no ``typology:``."""
    doc: dict = {
        "schema": "segment.codebook/1",
        "title": "National spending priorities (generated test survey)",
        "id": "id",
        "weight": "wtssall" if weighted else None,
        "domains": [
            {"name": "spending", "label": "Government spending", "role": "segmentation"},
            {"name": "demographics", "label": "Demographics", "role": "profile"},
        ],
        "scales": {
            "spend3": {
                "type": "ordinal",
                "measures": "spending",
                "higher_means_more": True,
                "levels": {1: "Too little", 2: "About right", 3: "Too much"},
                "dont_know": {8: "Don't know"},
            }
        },
        "items": [
            {
                "column": col,
                "question": f"Are we spending too much, too little, or about the right amount "
                f"on {question.lower()}?",
                "short": short,
                "domain": "spending",
                "scale": "spend3",
            }
            for col, (short, question) in ITEMS.items()
        ]
        + [
            {
                "column": "age",
                "question": "Age of respondent",
                "domain": "demographics",
                "type": "numeric",
                "min": 18,
                "max": 89,
            },
            {
                "column": "sex",
                "question": "Respondent's sex",
                "domain": "demographics",
                "type": "nominal",
                "levels": {
                    1: {"en": "Male", "short": "men"},
                    2: {"en": "Female", "short": "women"},
                },
            },
            {
                "column": "region",
                "question": "Census region of interview",
                "domain": "demographics",
                "type": "nominal",
                "levels": {i + 1: {"en": r, "short": p} for i, (r, p) in enumerate(REGIONS)},
            },
            {
                "column": "state",
                "question": "State of interview",
                "domain": "demographics",
                "type": "nominal",
                "levels": {
                    i + 1: {"en": s, "short": f"{s} residents"} for i, s in enumerate(STATES)
                },
            },
        ],
    }
    if population:
        doc["population"] = POPULATION
    if not weighted:
        del doc["weight"]
    return doc


def frame(n: int = 1500, *, seed: int = 3, not_asked: float = 0.2) -> pd.DataFrame:
    """``n`` generated respondents; a share ``not_asked`` got the other ballot (battery blank)."""
    rng = np.random.default_rng(seed)
    cls = rng.choice(len(SHARES), size=n, p=SHARES)
    out = pd.DataFrame({"id": np.arange(1, n + 1)})
    for j, col in enumerate(ITEMS):
        probs = np.array([CLASSES[c][j] for c in CLASSES])[cls]
        probs = np.hstack([probs * 0.96, np.full((n, 1), 0.04)])  # 4% don't know
        u = rng.random(n)[:, None]
        pick = (u > probs.cumsum(axis=1)).sum(axis=1)
        out[col] = np.array([1, 2, 3, 8])[np.minimum(pick, 3)].astype(float)
    unasked = rng.random(n) < not_asked
    out.loc[unasked, list(ITEMS)] = np.nan
    out["age"] = np.clip(np.round(rng.normal(np.array([40, 55, 50])[cls], 14)), 18, 89)
    out["sex"] = np.where(rng.random(n) < np.array([0.6, 0.42, 0.4])[cls], 2, 1)
    out["region"] = rng.choice(4, size=n) + 1
    out["state"] = rng.choice(len(STATES), size=n) + 1
    out["wtssall"] = np.round(rng.uniform(0.5, 2.0, n), 3)
    return out


def write(
    folder: Path, *, n: int = 1500, weighted: bool = False, population: bool = True
) -> tuple[Path, Path]:
    """Write ``spending.csv`` and ``spending.yaml`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    data, book = folder / "spending.csv", folder / "spending.yaml"
    f = frame(n)
    if not weighted:
        f = f.drop(columns="wtssall")
    f.to_csv(data, index=False)
    book.write_text(
        yaml.safe_dump(codebook(weighted=weighted, population=population), sort_keys=False),
        encoding="utf-8",
    )
    return data, book
