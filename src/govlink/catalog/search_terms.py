"""Search terms for the catalog: Chinese words, abbreviations and pinyin, computed in Python.

SQLite (FTS5) and PostgreSQL (tsvector, 'simple') cannot segment Chinese, so GovLink does it here
and hands the database space-separated terms it only has to store and compare.  A term is a
run of letters and digits (lower-case ASCII, CJK or other Unicode letters): never a quote, colon,
asterisk, parenthesis or any of ``&|!<>``, so it can be quoted into an FTS5 or tsquery expression
as is.  The terms of a query are alternatives (OR): a resource matches when its index holds any
of them, and ranks higher the more it holds.

- :func:`index_terms` — what a resource's name, summary and item names put into the index:
  jieba search-mode words, their abbreviated or long forms (社会保险 ⇄ 社保) and their pinyin.
- :func:`query_terms` — the same words and abbreviations for a user's query.
- :func:`initials_key` / :func:`pinyin_key` — ``shbxcbryxx sbcbryxx`` for 社会保险参保人员信息, in
  which a Latin query such as ``sbcb`` or ``shebao`` is looked up as a substring
  (:func:`is_latin` says when to try that).

Abbreviations come from ``data/abbreviations.tsv`` (long form, tab, short form).  jieba loads
its dictionary on first use (about half a second), into a tokenizer of this module's own so
the words added here do not change how other code segments.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import jieba
from pypinyin import Style, lazy_pinyin

from govlink.standards.text import to_halfwidth

__all__ = [
    "Abbreviations",
    "abbreviations",
    "index_terms",
    "initials_key",
    "is_latin",
    "parse_abbreviations",
    "pinyin_key",
    "query_terms",
]

# Words that should segment as wholes besides the abbreviation table's.
CATALOG_WORDS = (
    "参保",
    "人员信息",
    "信息资源",
    "政务信息资源",
    "信息资源目录",
    "统一社会信用代码",
    "不动产登记",
    "营业执照",
)

# Anything that is not a letter or a digit separates terms (this covers every FTS5 and tsquery operator).
_SEPARATORS = re.compile(r"[\W_]+")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_QUERY = re.compile(r"[A-Za-z0-9\s]*[A-Za-z0-9][A-Za-z0-9\s]*", re.ASCII)
_LATIN_RUNS = re.compile(r"(?P<latin>[a-z0-9]+)|[^a-z0-9]+")
_NOT_PINYIN = re.compile(r"[^a-z]+")

_TABLE_PATH = "data/abbreviations.tsv"


@dataclass(frozen=True, slots=True)
class Abbreviations:
    """The abbreviation table read both ways, and the long forms as one pattern for abbreviating a text."""

    counterparts: Mapping[str, tuple[str, ...]]  # 社会保险 → (社保,); 医保 → (医疗保险, 医疗保障)
    long_forms: tuple[str, ...]
    long_form_pattern: re.Pattern[str]

    def abbreviate(self, text: str) -> str:
        """The text with every long form replaced by its short form (longest long form first)."""
        return self.long_form_pattern.sub(lambda match: self.counterparts[match.group()][0], text)


def parse_abbreviations(lines: Iterable[str], source: str) -> Abbreviations:
    """Read ``long form<TAB>short form`` lines; blank lines and lines starting with # are skipped."""
    counterparts: dict[str, list[str]] = {}
    long_forms: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 2 or not all(_is_single_term(f) for f in fields) or len(fields[1]) >= len(fields[0]):
            raise ValueError(
                f"{source}, line {number}: expected 'long form<TAB>shorter form', two words of letters or "
                f"digits, got {line.rstrip()!r}"
            )
        long_form, short_form = fields
        if long_form in long_forms:
            raise ValueError(f"{source}, line {number}: {long_form} already has a short form")
        long_forms.append(long_form)
        counterparts.setdefault(long_form, []).append(short_form)
        counterparts.setdefault(short_form, []).append(long_form)
    alternatives = "|".join(re.escape(form) for form in sorted(long_forms, key=len, reverse=True))
    return Abbreviations(
        counterparts={word: tuple(forms) for word, forms in counterparts.items()},
        long_forms=tuple(long_forms),
        long_form_pattern=re.compile(alternatives or r"(?!)"),
    )


def _is_single_term(word: str) -> bool:
    return bool(word) and _SEPARATORS.search(word) is None


@cache
def abbreviations() -> Abbreviations:
    """The table shipped in ``govlink/catalog/data/abbreviations.tsv``."""
    table = files("govlink.catalog") / _TABLE_PATH
    return parse_abbreviations(table.read_text(encoding="utf-8").splitlines(), f"govlink/catalog/{_TABLE_PATH}")


_tokenizer: Any = None  # a jieba.Tokenizer once loaded
_tokenizer_lock = threading.Lock()


def _segmenter() -> Any:
    """jieba's dictionary loaded once, with the abbreviations and catalog words added."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in (*abbreviations().counterparts, *CATALOG_WORDS):
                    # Only unknown words: raising a known word's frequency would re-cut other phrases.
                    if not tokenizer.FREQ.get(word):
                        tokenizer.add_word(word)
                _tokenizer = tokenizer
    return _tokenizer


def _normalised(text: str) -> str:
    return to_halfwidth(text).lower()


def _is_single_han(word: str) -> bool:
    return len(word) == 1 and _HAN.match(word) is not None


@lru_cache(maxsize=1 << 15)
def _words(text: str) -> tuple[str, ...]:
    """jieba search-mode words of a normalised text, split at anything but letters and digits, with
    single CJK characters dropped unless the text has no longer CJK word (a name such as 表 still counts)."""
    segmented: Iterable[str] = _segmenter().cut_for_search(text)
    words = [part for word in segmented for part in _SEPARATORS.split(word) if part]
    if any(len(word) > 1 and _HAN.search(word) for word in words):
        words = [word for word in words if not _is_single_han(word)]
    return tuple(dict.fromkeys(words))


def _word_and_counterparts(text: str) -> Iterator[str]:
    table = abbreviations()
    for word in _words(text):
        yield word
        yield from table.counterparts.get(word, ())
    # jieba's search mode leaves out four-character words inside longer ones (医疗保险 in 基本医疗保险).
    for long_form in table.long_forms:
        if long_form in text:
            yield long_form
            yield from table.counterparts[long_form]


@lru_cache(maxsize=1 << 16)
def _pinyin_of_word(word: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))
    initials = "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))
    return _NOT_PINYIN.sub("", full), _NOT_PINYIN.sub("", initials)


@lru_cache(maxsize=1 << 15)
def _terms_of_text(text: str) -> tuple[str, ...]:
    terms: dict[str, None] = {}
    for term in _word_and_counterparts(_normalised(text)):
        terms[term] = None
        if _HAN.search(term):
            for spelling in _pinyin_of_word(term):
                if spelling:
                    terms[spelling] = None
    return tuple(terms)


def index_terms(*texts: str) -> str:
    """The space-separated terms to index for a resource's texts (name, summary, item names …).

    For each text: its jieba search-mode words after normalisation (full-width to half-width,
    lower case), the abbreviated or long forms of those words, and for every CJK term its
    toneless pinyin and its initials (社会保险 → 社会, 保险, 社会保险, 社保, shehuibaoxian, shbx …).
    Single CJK characters only when a text has no longer word.  No duplicates, first occurrence first.
    """
    return " ".join(dict.fromkeys(term for text in texts for term in _terms_of_text(text)))


def query_terms(query: str) -> list[str]:
    """The terms to look up for a user's query, as alternatives; [] when it holds no letter or digit.

    A CJK query gives its jieba search-mode words and their abbreviated or long forms, as
    :func:`index_terms` does (without pinyin); a query of Latin letters and digits gives its words
    in lower case.
    """
    text = _normalised(query)
    if is_latin(text):
        return list(dict.fromkeys(part for part in _SEPARATORS.split(text) if part))
    return list(dict.fromkeys(_word_and_counterparts(text)))


def is_latin(query: str) -> bool:
    """True when the query is ASCII letters, digits and spaces only (with at least one letter or
    digit): the caller then also matches it against :func:`initials_key` and :func:`pinyin_key`."""
    return _LATIN_QUERY.fullmatch(query) is not None


@lru_cache(maxsize=1 << 12)
def _spellings(text: str) -> tuple[str, str]:
    """Toneless pinyin and initials of a normalised text, its Latin letters and digits kept as they are.

    Spelled word by word along jieba's cut, with each word's pinyin cached: several times faster
    than pypinyin on the whole text, and jieba's words resolve polyphones as well as pypinyin's own.
    """
    full: list[str] = []
    initials: list[str] = []
    segmented: Iterable[str] = _segmenter().cut(text)
    for word in segmented:
        for run in _LATIN_RUNS.finditer(word):
            if run.group("latin"):
                full.append(run.group())
                initials.append(run.group())
            else:
                spelled, first_letters = _pinyin_of_word(run.group())
                full.append(spelled)
                initials.append(first_letters)
    return "".join(full), "".join(initials)


def _keys(text: str) -> tuple[str, str]:
    normalised = _normalised(text)
    abbreviated = abbreviations().abbreviate(normalised)
    spellings = [_spellings(form) for form in dict.fromkeys((normalised, abbreviated))]
    full, initials = (" ".join(key for key in dict.fromkeys(keys) if key) for keys in zip(*spellings, strict=True))
    return full, initials


def initials_key(text: str) -> str:
    """Pinyin initials of the text's CJK characters with its Latin letters and digits, then the same
    for its abbreviated form if that differs: 社会保险参保人员信息 → ``shbxcbryxx sbcbryxx``."""
    return _keys(text)[1]


def pinyin_key(text: str) -> str:
    """Toneless pinyin of the text without spaces, then of its abbreviated form if that differs:
    社会保险参保人员信息 → ``shehuibaoxiancanbaorenyuanxinxi shebaocanbaorenyuanxinxi``."""
    return _keys(text)[0]
