"""Answer scales of a drafted codebook: what the cells of one column say.

Used by :mod:`segment.survey.draft`. For one column it reads the codes or texts seen, the
file's value labels (SPSS / Stata) or categories (a pandas ``Categorical``), and drafts its
answer scale:

- **special answers** by their label or text, in English, Russian and Kazakh ("Don't know",
  "DK", "Can't choose", "No opinion", "Not sure", "Затрудняюсь ответить" -> don't know;
  "Refused", "No answer", "NA", "Отказ" -> refused; "IAP", "Inapplicable", "Not asked" ->
  missing), and, for codes without a label, by the conventions of the big surveys: 7/8/9 after
  a gap on short scales, 77/88/99 and 97/98/99 on longer ones (ESS, GSS, Central Asia
  Barometer: 8 / 88 / 98 don't know, 7 / 77 / 97 refused, 9 / 99 no answer), negative codes
  (-1 .. -9 of WVS/EVS and ESS exports, -97 .. -100 of GSS exports: missing) unless the
  negative codes mirror the positive ones (a -1/0/1 or -2..2 scale);
- **text answers** ("Female", region names, "Strongly agree") become levels 1..n, labelled by
  their text (with ``value:`` when the label is tidied, as "StronglyAgree" -> "Strongly agree"),
  ordered when they form a known ordinal scale (:func:`ordinal_ranks`: agree/disagree and other
  bipolar scales, too little/about right/too much, not at all .. very / a great deal,
  poor .. excellent, never .. always) or when the file orders them (an ordered pandas
  ``Categorical``); yes/no is a nominal pair;
- **numbers**: integer codes with at most :data:`MAX_CATEGORIES` answers within
  :data:`CODE_RANGE` are categorical; other numbers are numeric (min and max from the data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from segment._util import plain_number

from .cells import as_float

__all__ = [
    "CODE_RANGE",
    "MAX_CATEGORIES",
    "Answer",
    "Answers",
    "is_special_text",
    "merge_answers",
    "ordinal_ranks",
    "read_answers",
    "special_kind",
]

#: Most substantive answers a categorical item may have (more: numeric or text).
MAX_CATEGORIES = 15
#: Codes of an unlabelled categorical item lie in this range; larger numbers are amounts
#: (income, population), years or ids, and the column is numeric.
CODE_RANGE = (-20, 20)
#: A text column with more different answers than this share of its answered rows (and more
#: than MAX_CATEGORIES) is free text, a date or an id: ignored.
NEAR_UNIQUE = 0.5

_DK = re.compile(
    r"\b(don'?t|dont|do not|does not|doesn'?t) know\b|\bdk\b|\bd/k\b|can'?t choose|"
    r"cannot choose|can'?t say|cannot say|no opinion|not sure|hard to say|difficult to say|"
    r"\bunsure\b|undecided|затрудня|не знаю|трудно сказать|білмеймін|қиналамын",
    re.I,
)
_REFUSED = re.compile(
    r"refus|\bno answer\b|^\s*n\.?a\.?\s*$|prefer not|declined? to|did not answer|"
    r"отказ|нет ответа|бас тарт",
    re.I,
)
_MISSING = re.compile(
    r"^\s*iap\s*$|inapplicable|not applicable|not asked|^\s*n/a\s*$|skipped|"
    r"^\s*(system )?missing\s*$|no data|not available|not eligible|ineligible|"
    r"blank ballot|spoilt ballot|spoiled ballot|would(n'?t| not) vote|"
    r"не применимо|нет данных|не задавался",
    re.I,
)


def special_kind(text: str) -> str | None:
    """``"dont_know"``, ``"refused"`` or ``"missing"`` when a label or answer text says so."""
    if _MISSING.search(text):
        return "missing"
    if _DK.search(text):
        return "dont_know"
    if _REFUSED.search(text):
        return "refused"
    return None


def is_special_text(text: str) -> bool:
    return special_kind(text) is not None


# ----------------------------------------------------------------------------- ordinal texts
def _tokens(text: str) -> list[str]:
    """Lower-case words of a label; camelCase split ("StronglyAgree" -> strongly, agree)."""
    spaced = re.sub(r"(?<=[a-zа-яё])(?=[A-ZА-ЯЁ])", " ", text)
    return [t for t in re.split(r"[^0-9a-zа-яёәғқңөұүһі]+", spaced.lower()) if t]


#: Bipolar scales: (negative pole word, positive pole word, what the positive end measures).
_POLES = (
    ("disagree", "agree", "agreement"),
    ("dissatisfied", "satisfied", "satisfaction"),
    ("disapprove", "approve", "approval"),
    ("oppose", "support", "support"),
    ("oppose", "favor", "support"),
    ("oppose", "favour", "support"),
    ("unfavorable", "favorable", "favourability"),
    ("unfavourable", "favourable", "favourability"),
    ("unlikely", "likely", "likelihood"),
    ("worse", "better", "improvement"),
    ("bad", "good", "evaluation"),
    ("distrust", "trust", "trust"),
    ("unimportant", "important", "importance"),
    ("unhappy", "happy", "happiness"),
    ("unfair", "fair", "fairness"),
)
_STRONG = {
    "strongly", "strong", "very", "completely", "totally", "extremely", "definitely", "much",
    "fully", "entirely", "absolutely", "highly", "lot", "great", "far",
}  # fmt: skip
_WEAK = {
    "somewhat", "tend", "slightly", "fairly", "mostly", "rather", "probably", "mildly",
    "moderately", "little", "bit", "partly", "partially", "quite",
}  # fmt: skip
_NEUTRAL = {"neither", "neutral", "mixed", "same", "between", "depends", "middle", "nor"}


def _bipolar_score(tokens: list[str], neg: str, pos: str) -> float | None:
    has_neg, has_pos = neg in tokens, pos in tokens
    if (has_neg and has_pos) or (_NEUTRAL & set(tokens) and "not" not in tokens):
        return 0.0
    if not (has_neg or has_pos):
        return None
    pole = -1.0 if has_neg else 1.0
    words = set(tokens)
    if "not" in words:
        pole = -pole
        if {"at", "all"} <= words:
            return 3 * pole
        return (1.0 if words & (_STRONG | _WEAK) else 2.0) * pole
    if words & _STRONG:
        return 3 * pole
    if words & _WEAK:
        return 1 * pole
    return 2 * pole


#: Unipolar scales: (what they measure, {answer with spaces removed: rank}).
_UNIPOLAR: tuple[tuple[str, dict[str, float]], ...] = (
    (
        "amount",
        {
            "muchtoolittle": -1, "fartoolittle": -1, "toolittle": 0, "toolow": 0,
            "notenough": 0, "toofew": 0, "aboutright": 1, "right": 1, "rightamount": 1,
            "aboutrightamount": 1, "therightamount": 1, "justright": 1, "toomuch": 2,
            "toohigh": 2, "toomany": 2, "muchtoomuch": 3, "fartoomuch": 3,
        },
    ),
    (
        "evaluation",
        {
            "verypoor": 0, "verybad": 0, "terrible": 0, "awful": 0, "poor": 1, "bad": 1,
            "fair": 2, "average": 2, "ok": 2, "okay": 2, "neithergoodnorbad": 2, "soso": 2,
            "good": 3, "verygood": 4, "excellent": 5,
        },
    ),
    (
        "frequency",
        {
            "never": 0, "almostnever": 1, "rarely": 1, "seldom": 1, "hardlyever": 1,
            "sometimes": 2, "occasionally": 2, "often": 3, "frequently": 3, "usually": 3,
            "fairlyoften": 3, "mostofthetime": 3, "veryoften": 4, "almostalways": 4,
            "always": 5,
        },
    ),
    (
        "degree",
        {
            "notatall": 0, "none": 0, "noneatall": 0, "not": 0, "notvery": 1,
            "notverymuch": 1, "notmuch": 1, "nottoomuch": 1, "hardly": 1, "hardlyany": 1,
            "hardlyatall": 1, "rathernot": 1, "notreally": 1, "verylittle": 1, "little": 1,
            "alittle": 1, "slightly": 1, "onlyalittle": 1, "notso": 1, "somewhat": 2,
            "some": 2, "onlysome": 2, "fairly": 2, "afairamount": 2, "fairamount": 2,
            "moderately": 2, "rather": 2, "quite": 2, "partly": 2, "partially": 2, "very": 3,
            "alot": 3, "quitealot": 3, "agreatdeal": 3, "greatdeal": 3, "verymuch": 3,
            "highly": 3, "much": 3, "extremely": 4, "completely": 4, "fully": 4,
            "totally": 4, "absolutely": 4, "entirely": 4, "complete": 4, "full": 4,
        },
    ),
)  # fmt: skip
_DEGREE_WORDS = {
    "not", "at", "all", "very", "much", "too", "a", "little", "bit", "lot", "great", "deal",
    "some", "somewhat", "fairly", "fair", "amount", "quite", "rather", "extremely",
    "completely", "fully", "totally", "hardly", "any", "slightly", "none", "moderately",
    "only", "highly", "so", "really", "partly", "partially", "absolutely", "entirely",
    "complete", "full",
}  # fmt: skip
#: What a degree scale measures, by the topic word its answers share.
_TOPICS = {
    "important": "importance", "trust": "trust", "interested": "interest",
    "confident": "confidence", "confidence": "confidence", "satisfied": "satisfaction",
    "worried": "worry", "concerned": "concern", "proud": "pride", "happy": "happiness",
    "religious": "religiosity", "likely": "likelihood", "serious": "seriousness",
}  # fmt: skip
_YES_NO = ({"yes", "no"}, {"true", "false"}, {"да", "нет"}, {"иә", "жоқ"})


def ordinal_ranks(texts: Sequence[str]) -> tuple[dict[str, float], str] | None:
    """Rank of each answer text on a known ordinal scale, and what its high end measures.

    ``None`` unless every text is an answer of one known scale and no two share a rank: a
    bipolar scale (strongly disagree .. strongly agree, very dissatisfied .. very satisfied,
    oppose .. support, much worse .. much better, ...), too little / about right / too much,
    very poor .. excellent, never .. always, or a degree (not at all / not very / somewhat /
    very, none at all .. a great deal, "Do not trust at all" .. "Fully trust").
    """
    texts = list(dict.fromkeys(texts))
    if len(texts) < 2:
        return None
    toks = {t: _tokens(t) for t in texts}
    for neg, pos, measure in _POLES:
        scores = {t: _bipolar_score(toks[t], neg, pos) for t in texts}
        if all(s is not None for s in scores.values()):
            ranks = {t: float(s) for t, s in scores.items() if s is not None}
            has_pole = any(s != 0 for s in ranks.values())
            if has_pole and len(set(ranks.values())) == len(ranks):
                return ranks, measure
    # words shared by two or more answers that are no degree word name the topic ("important")
    counts: dict[str, int] = {}
    for words in toks.values():
        for w in set(words):
            counts[w] = counts.get(w, 0) + 1
    topic = {w for w, n in counts.items() if n >= 2 and w not in _DEGREE_WORDS}
    for measure, table in _UNIPOLAR:
        strip = measure == "degree"
        keys = {
            t: "".join(w for w in toks[t] if not (strip and w in topic) and w != "do")
            for t in texts
        }
        if all(k in table for k in keys.values()):
            ranks = {t: float(table[k]) for t, k in keys.items()}
            if len(set(ranks.values())) == len(ranks):
                if strip:
                    measure = next((_TOPICS[w] for w in sorted(topic) if w in _TOPICS), measure)
                return ranks, measure
    return None


def _is_yes_no(texts: Sequence[str]) -> bool:
    words = {" ".join(_tokens(t)) for t in texts}
    return any(words == pair for pair in _YES_NO)


def tidy_label(text: str) -> str:
    """The label of an answer text: camelCase split, first letter upper case."""
    text = text.strip()
    if " " not in text and re.search(r"[a-z][A-Z]", text):
        text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
        text = text[:1] + text[1:].lower()
    return text[:1].upper() + text[1:] if text[:1].islower() else text


# ----------------------------------------------------------------------------- the scale
@dataclass(frozen=True)
class Answer:
    """One answer of a drafted scale.

    ``code`` is the code in the file (numbers), or None for a text answer until codes are
    assigned; ``text`` the cell text of a text answer; ``rank`` its position on a known scale.
    """

    label: str
    code: int | None = None
    text: str | None = None
    rank: float | None = None

    @property
    def key(self) -> str:
        return (self.text or "").strip().casefold()

    def to_yaml(self) -> str | dict[str, str]:
        if self.text is not None and self.label.casefold() != self.text.strip().casefold():
            return {"en": self.label, "value": self.text.strip()}
        return self.label


@dataclass(frozen=True)
class Answers:
    """The drafted answer scale of one column.

    ``kind`` is ``categorical`` (coded or text answers), ``numeric``, ``text`` (free text,
    dates, ids: not an item to use) or ``empty``; ``source`` how the levels were found
    (``labels``, ``codes``, ``texts``, ``categories``), ``why`` the reasons in words.
    """

    kind: str
    source: str = "codes"
    type: str = "numeric"
    levels: tuple[Answer, ...] = ()
    dont_know: tuple[Answer, ...] = ()
    refused: tuple[Answer, ...] = ()
    missing: tuple[int, ...] = ()
    #: Answer texts that mean not asked / not applicable (blank: the codebook's missing_text).
    missing_texts: tuple[str, ...] = ()
    higher_means_more: bool = True
    measures: str | None = None
    min: float | None = None
    max: float | None = None
    n_distinct: int = 0
    n_answered: int = 0
    why: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"

    @property
    def observed_levels(self) -> int:
        return len(self.levels)

    def format_key(self) -> tuple:
        """What items of one format share: their answers (codes, labels or ranked texts)."""
        if not self.is_categorical:
            return (self.kind,)
        if self.source == "texts" and all(a.rank is not None for a in self.levels):
            return ("ranked", self.measures, self.type)
        if self.source in ("texts", "categories"):
            return ("texts", self.type, tuple(sorted(a.key for a in self.levels)))
        if self.source == "codes":
            return ("codes", tuple(sorted(a.code for a in self.levels if a.code is not None)))
        return (
            "labels",
            self.type,
            tuple((a.code, a.label) for a in self.levels),
            tuple((a.code, a.label) for a in (*self.dont_know, *self.refused)),
            self.missing,
        )

    def scale_fields(self) -> dict:
        """The scale fields of the codebook YAML (type, measures, levels, special codes)."""
        out: dict = {"type": self.type}
        if self.kind == "text":
            return out
        if self.measures is not None:
            out["measures"] = self.measures
        if self.type == "ordinal":
            out["higher_means_more"] = self.higher_means_more
        if self.levels:
            out["levels"] = {a.code: a.to_yaml() for a in self.levels}
        if self.dont_know:
            out["dont_know"] = {a.code: a.to_yaml() for a in self.dont_know}
        if self.refused:
            out["refused"] = {a.code: a.to_yaml() for a in self.refused}
        if self.missing:
            out["missing"] = list(self.missing)
        if self.type == "numeric":
            if self.min is not None:
                out["min"] = plain_number(self.min)
            if self.max is not None:
                out["max"] = plain_number(self.max)
        return out


# ----------------------------------------------------------------------------- numbers
#: Unlabelled special codes after a gap above the answers (ESS, GSS, CAB conventions):
#: (code, kind, label, highest substantive code it may follow).
_CONVENTION = {
    7: ("refused", "Refused", 5),
    8: ("dont_know", "Don't know", 6),
    9: ("refused", "No answer", 6),
    77: ("refused", "Refused", 20),
    88: ("dont_know", "Don't know", 20),
    99: ("refused", "No answer", 20),
    97: ("refused", "Refused", 20),
    98: ("dont_know", "Don't know", 20),
    997: ("refused", "Refused", 200),
    998: ("dont_know", "Don't know", 200),
    999: ("refused", "No answer", 200),
}


def conventional_specials(codes: Sequence[float], cap: int | None = None) -> dict[int, str]:
    """Unlabelled codes that are special by survey convention: ``{code: kind}``.

    Codes in ``_CONVENTION`` above a gap of at least one unused code over the highest other
    code (``1..5, 8, 9``; ``0..10, 77, 88, 99``), and negative codes unless they mirror the
    positive ones (``-1, 0, 1`` is a scale; ``-2, -1, 1..4`` holds missing codes).
    """
    u = sorted({int(c) for c in codes if float(c).is_integer()})
    out: dict[int, str] = {}
    neg = [c for c in u if c < 0]
    nonneg = [c for c in u if c >= 0]
    if neg and len(nonneg) >= 2 and not {-c for c in neg} <= set(nonneg):
        out.update(dict.fromkeys(neg, "missing"))
    rest = [c for c in u if c not in out]
    while len(rest) > 2 and rest[-1] in _CONVENTION:
        # the run of conventional codes at the top, and the answers below its gap
        top = len(rest) - 1
        while (
            top > 0
            and rest[top - 1] in _CONVENTION
            and len(str(rest[top - 1])) == len(str(rest[top]))
            and rest[top] - rest[top - 1] in (1, 2, 11, 22)
        ):
            top -= 1
        run, core = rest[top:], rest[:top]
        if len(core) < 2 or run[0] - core[-1] < 2:
            break
        limit = min(_CONVENTION[c][2] for c in run) if cap is None else cap
        if core[-1] > limit or any(c > 100 and core[-1] > 100 for c in run):
            break
        out.update({c: _CONVENTION[c][0] for c in run})
        rest = core
        break
    return out


def _special_label(code: int, kind: str) -> str:
    if kind == "missing":
        return "Missing"
    return _CONVENTION.get(code, (kind, "Don't know" if kind == "dont_know" else "Refused"))[1]


def _numeric(values: np.ndarray, n_answered: int, why: list[str]) -> Answers:
    observed = np.unique(values[~np.isnan(values)])
    specials = conventional_specials(observed.tolist(), cap=200) if len(observed) else {}
    specials = {c: k for c, k in specials.items() if c < 0 or c >= 97}
    core = observed[~np.isin(observed, list(specials))]
    if specials:
        why.append(
            f"codes {sorted(specials)} read as missing (survey convention: negative codes, "
            "97-99 after a gap)"
        )
    return Answers(
        kind="numeric",
        type="numeric",
        missing=tuple(sorted(specials)),
        min=float(core.min()) if len(core) else None,
        max=float(core.max()) if len(core) else None,
        n_distinct=len(observed),
        n_answered=n_answered,
        why=tuple(why),
    )


def _coded(
    values: np.ndarray,
    labels: Mapping[float, str],
    user_missing: Sequence[float],
    n_answered: int,
    nominal: bool,
) -> Answers:
    """Answers of a column of numbers: labelled (SPSS/Stata) or unlabelled codes."""
    observed = np.unique(values[~np.isnan(values)])
    why: list[str] = []
    integer = bool(np.all(np.mod(observed, 1) == 0))
    codes = sorted(set(labels) | set(observed.tolist()))
    if not integer or any(not float(c).is_integer() for c in codes):
        why.append("numbers that are not whole: numeric")
        return _numeric(values, n_answered, why)
    levels: list[Answer] = []
    dk: list[Answer] = []
    ref: list[Answer] = []
    missing: list[int] = []
    unlabelled = [c for c in codes if c not in labels]
    conv = conventional_specials(codes) if unlabelled else {}
    user = set(user_missing)
    for code in codes:
        icode = int(code)
        label = labels.get(code)
        kind = special_kind(label) if label is not None else None
        if kind is None and label is None and icode in conv:
            kind = conv[icode]
            label = _special_label(icode, kind)
        if kind is None and code in user:
            kind = "missing"
        if kind == "dont_know":
            dk.append(Answer(label or "Don't know", icode))
        elif kind == "refused":
            ref.append(Answer(label or "Refused", icode))
        elif kind == "missing":
            missing.append(icode)
        else:
            levels.append(Answer(label if label is not None else str(icode), icode))
    conv_used = sorted(c for c in conv if c in {int(u) for u in unlabelled})
    if conv_used:
        why.append(
            f"unlabelled codes {conv_used} read as "
            + ", ".join(f"{c}: {conv[c].replace('_', ' ')}" for c in conv_used)
            + " (survey convention: 7/8/9, 77/88/99, 97/98/99 after a gap; negative codes)"
        )
    n_sub = len(levels)
    lo, hi = CODE_RANGE
    if not labels and (
        n_sub > MAX_CATEGORIES or any(not lo <= a.code <= hi for a in levels if a.code is not None)
    ):
        why.append(
            f"{n_sub} different numbers"
            + (
                ""
                if n_sub > MAX_CATEGORIES
                else f", some outside {lo}..{hi} (amounts, not answer codes)"
            )
            + ": numeric"
        )
        return _numeric(values, n_answered, [])
    if labels and not levels:
        why.append("every labelled code is a special code: numeric")
        return _numeric(values, n_answered, why)
    if labels and n_sub > MAX_CATEGORIES and len(labels) <= 4:
        # a number with a few labelled points (age with "refused" 999): numeric
        return replace(
            _numeric(values, n_answered, why),
            missing=tuple(sorted({*missing, *(a.code for a in (*dk, *ref) if a.code)})),
        )
    kind_type = "nominal" if nominal else "ordinal"
    higher = True
    measures = None
    if labels:
        source = "labels"
        named = {a.label: a.code for a in levels if a.code in {int(c) for c in labels}}
        ranked = ordinal_ranks(list(named))
        if ranked is not None:
            ranks, measures = ranked
            order = [ranks[label] for label in sorted(named, key=lambda t: named[t])]
            if order == sorted(order):
                kind_type, higher = "ordinal", True
            elif order == sorted(order, reverse=True):
                kind_type, higher = "ordinal", False
            else:
                kind_type = "ordinal"
                levels.sort(key=lambda a: ranks.get(a.label, float(a.code or 0)))
            why.append(
                f"value labels form a known {measures} scale: ordinal"
                + ("" if higher else " (higher codes mean less)")
            )
        elif _is_yes_no(list(named)):
            kind_type = "nominal"
        elif not nominal and _ORDINAL_WORDS.search(" ".join(named)):
            kind_type = "ordinal"
            why.append("value labels read as an ordered scale: ordinal (check the order)")
        else:
            kind_type = "nominal"
        if unlabelled and any(int(c) not in conv for c in unlabelled):
            why.append(
                "codes in the data without a value label: "
                f"{[plain_number(c) for c in unlabelled if int(c) not in conv]}"
            )
    else:
        source = "codes"
        if not nominal:
            why.append(f"{n_sub} whole-number codes without labels: ordinal, in code order")
    return Answers(
        kind="categorical",
        source=source,
        type=kind_type,
        levels=tuple(levels),
        dont_know=tuple(dk),
        refused=tuple(ref),
        missing=tuple(missing),
        higher_means_more=higher,
        measures=measures,
        n_distinct=len(observed),
        n_answered=n_answered,
        why=tuple(why),
    )


_ORDINAL_WORDS = re.compile(
    r"agree|important|trust|satisf|likely|often|never|always|much|very|not at all|"
    r"better|worse|approve|support|oppose|strong|weak|poor|excellent|согла|доверя|важн",
    re.I,
)


# ----------------------------------------------------------------------------- texts
def _texts(
    texts: list[str],
    numbers: np.ndarray,
    categories: Sequence[str] | None,
    ordered: bool,
    n_answered: int,
    max_levels: int,
    nominal: bool,
) -> Answers:
    """Answers of a column holding text (possibly mixed with numbers)."""
    why: list[str] = []
    special = {t: special_kind(t) for t in texts}
    subst = [t for t in texts if special[t] is None]
    observed_numbers = np.unique(numbers[~np.isnan(numbers)])
    if not subst and len(observed_numbers):
        # numeric codes with "Don't know" / "Refused" written as text
        base = _coded(numbers, {}, [], n_answered, nominal)
        return _with_special_texts(base, texts, special, why)
    if len(observed_numbers):
        return Answers(
            kind="text",
            type="text",
            n_distinct=len(texts) + len(observed_numbers),
            n_answered=n_answered,
            why=("numbers mixed with text answers: recode the column to use it",),
        )
    n = len(subst)
    if n > max_levels or (n > MAX_CATEGORIES and n > NEAR_UNIQUE * n_answered):
        return Answers(
            kind="text",
            type="text",
            n_distinct=len(texts),
            n_answered=n_answered,
            why=(f"text with {len(texts)} different values (free text, dates or names)",),
        )
    if categories is not None:
        order = [c for c in categories if c in set(subst)]
        order += sorted((t for t in subst if t not in set(order)), key=str.casefold)
    else:
        order = sorted(subst, key=str.casefold)
    type_ = "nominal"
    measures = None
    ranks: dict[str, float] = {}
    ranked = ordinal_ranks(subst)
    if categories is not None and ordered:
        type_ = "ordinal"
        why.append("text answers, ordered as the file's categories: ordinal")
    elif ranked is not None:
        ranks, measures = ranked
        order = sorted(subst, key=lambda t: ranks[t])
        type_ = "ordinal"
        why.append(
            f"text answers form a known {measures} scale: ordinal, coded 1..{n} from the low end"
        )
    elif _is_yes_no(subst):
        yes = ("yes", "true", "да", "иә")
        order = sorted(subst, key=lambda t: 0 if _tokens(t)[0] in yes else 1)
        why.append("yes/no answers: nominal, coded 1 = yes, 2 = no")
    else:
        why.append(
            f"{n} text answers: nominal, coded 1..{n} in "
            + ("the file's category order" if categories is not None else "alphabetical order")
        )
    levels = tuple(
        Answer(tidy_label(t), i + 1, t, ranks.get(t) if ranks else None)
        for i, t in enumerate(order)
    )
    base = Answers(
        kind="categorical",
        source="categories" if categories is not None and ordered else "texts",
        type=type_,
        levels=levels,
        measures=measures,
        n_distinct=len(texts),
        n_answered=n_answered,
    )
    return _with_special_texts(base, texts, special, why)


def _special_codes(n: int, taken: set[int]) -> list[int]:
    """Codes for special text answers: 9, 8, 7, ... above short scales (99, 98 above long)."""
    start = 9 if n <= 6 else 99
    return [c for c in range(start, 0, -1) if c not in taken and c > n]


def _with_special_texts(
    base: Answers, texts: list[str], special: Mapping[str, str | None], why: list[str]
) -> Answers:
    dk_t = [t for t in texts if special[t] == "dont_know"]
    ref_t = [t for t in texts if special[t] == "refused"]
    miss_t = [t for t in texts if special[t] == "missing"]
    taken = {a.code for a in (*base.levels, *base.dont_know, *base.refused) if a.code is not None}
    taken |= set(base.missing)
    top = max([a.code for a in base.levels if a.code is not None] or [0])
    free = _special_codes(top, taken)
    # refused takes 9 (99), don't know 8 (98): the usual codes
    ref_codes = free[: len(ref_t)]
    dk_codes = free[len(ref_t) : len(ref_t) + len(dk_t)]
    if not ref_t and dk_t:
        dk_codes = free[1 : 1 + len(dk_t)] if len(free) > len(dk_t) else free[: len(dk_t)]
    dk = tuple(Answer(tidy_label(t), c, t) for t, c in zip(dk_t, dk_codes, strict=False))
    ref = tuple(Answer(tidy_label(t), c, t) for t, c in zip(ref_t, ref_codes, strict=False))
    if dk_t or ref_t:
        why.append(
            "special answers: "
            + "; ".join(f"{a.text!r} -> {a.code} (don't know)" for a in dk)
            + ("; " if dk and ref else "")
            + "; ".join(f"{a.text!r} -> {a.code} (refused)" for a in ref)
        )
    if miss_t:
        why.append(f"answers {miss_t} mean not asked / inapplicable: read as blank (missing_text)")
    return replace(
        base,
        dont_know=base.dont_know + dk,
        refused=base.refused + ref,
        missing_texts=base.missing_texts + tuple(miss_t),
        why=tuple([*base.why, *why]),
    )


def read_answers(
    series: pd.Series,
    *,
    labels: Mapping[float, str] | None = None,
    user_missing: Sequence[float] = (),
    nominal: bool = False,
    max_levels: int = MAX_CATEGORIES,
) -> Answers:
    """Draft the answer scale of one column.

    Parameters
    ----------
    series : Series
        The column as read (texts, numbers, a pandas ``Categorical``); cells meaning blank
        (``NA``) already blanked.
    labels : mapping, optional
        Value labels of the column's codes (SPSS / Stata), code -> label.
    user_missing : sequence, optional
        SPSS user-missing codes.
    nominal : bool
        Unlabelled codes and unordered texts are categories without an order (region, sex):
        drafted as nominal.
    max_levels : int
        Most text answers the column may have to be categorical (more: text).
    """
    labels = dict(labels or {})
    values, bad = as_float(series)
    answered = ~np.isnan(values) | bad
    n_answered = int(answered.sum())
    if n_answered == 0:
        return Answers(kind="empty", type="numeric", why=("every cell is blank",))
    if not bad.any():
        if isinstance(series.dtype, pd.CategoricalDtype):
            labels = labels or {}
        return _coded(values, labels, user_missing, n_answered, nominal)
    cells = series.astype("string").str.strip()
    texts = [str(t) for t in pd.unique(cells[bad].dropna())]
    categories = None
    ordered = False
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = [str(c).strip() for c in series.cat.categories]
        ordered = bool(series.cat.ordered)
    numbers = values.copy()
    numbers[bad] = np.nan
    return _texts(texts, numbers, categories, ordered, n_answered, max_levels, nominal)


def merge_answers(group: Sequence[Answers]) -> list[Answers]:
    """Items of one format given one scale: the union of their answers.

    Unlabelled codes: the union of the codes seen (so an item where nobody chose 3 still has
    level 3). Ranked texts: the union of the answers, ranked and coded once. Other answers are
    returned unchanged (labelled codes already share their labels).
    """
    if len(group) < 2:
        return list(group)
    first = group[0]
    if first.source == "codes":
        codes = sorted({a.code for g in group for a in g.levels if a.code is not None})
        levels = tuple(Answer(str(c), c) for c in codes)
        dk = _union_codes(g.dont_know for g in group)
        ref = _union_codes(g.refused for g in group)
        missing = tuple(sorted({c for g in group for c in g.missing}))
        return [
            replace(g, levels=levels, dont_know=dk, refused=ref, missing=missing) for g in group
        ]
    if first.source == "texts" and all(a.rank is not None for g in group for a in g.levels):
        by_rank: dict[float, Answer] = {}
        for g in group:
            for a in g.levels:
                if a.rank is not None:
                    by_rank.setdefault(a.rank, a)
        if len({a.key for a in by_rank.values()}) != len(by_rank):
            return list(group)
        levels = tuple(replace(a, code=i + 1) for i, (_, a) in enumerate(sorted(by_rank.items())))
        specials: dict[str, Answer] = {}
        for g in group:
            for a in (*g.dont_know, *g.refused):
                specials.setdefault(a.key, a)
        dk_t = [a for a in specials.values() if special_kind(a.text or "") == "dont_know"]
        ref_t = [a for a in specials.values() if special_kind(a.text or "") == "refused"]
        free = _special_codes(len(levels), set())
        ref = tuple(replace(a, code=c) for a, c in zip(ref_t, free, strict=False))
        rest = free[len(ref) :] if ref_t else free[1:]
        dk = tuple(replace(a, code=c) for a, c in zip(dk_t, rest, strict=False))
        return [replace(g, levels=levels, dont_know=dk, refused=ref) for g in group]
    return list(group)


def _union_codes(lists) -> tuple[Answer, ...]:
    out: dict[int, Answer] = {}
    for answers in lists:
        for a in answers:
            if a.code is not None:
                out.setdefault(a.code, a)
    return tuple(out[c] for c in sorted(out))
