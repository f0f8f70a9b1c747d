"""Full-text search of runs: plain words in, an FTS5 match over the index's search table.

``runs.search("resnet baseline")`` keeps the runs whose name, description, tags, notes
or params (keys and values) hold every word, each as the start of a word: ``resnet``
finds ``resnet50``, ``base`` finds ``baseline``. ``"two words"`` in double quotes must
appear together, in that order. Case and accents are ignored (SQLite's ``unicode61``
tokenizer); punctuation separates words (``resnet-50`` is ``resnet`` then ``50``). FTS5
operators (``OR``, ``NOT``, ``col:``) are not special: every word is quoted, so no text
can be a syntax error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from runlab.errors import UsageError

if TYPE_CHECKING:
    import sqlalchemy as sa

_TERMS = re.compile(r'"([^"]*)"|(\S+)')


def fts_query(text: str) -> str:
    """The FTS5 query for ``text``: each word or quoted phrase a quoted prefix term, ANDed.

    Usage::

        fts_query('resnet "step decay"')   # '"resnet"* "step decay"*'
    """
    terms = []
    for phrase, word in _TERMS.findall(text):
        term = (phrase or word).replace('"', " ").strip()
        if term and re.search(r"\w", term):
            terms.append('"' + term + '"*')
    if not terms:
        raise UsageError(f"search {text!r}: give one or more words to look for")
    return " ".join(terms)


def search_clause(text: str, id_column: Any) -> sa.ColumnElement[bool]:
    """The condition "the run's id is among the runs matching ``text``"."""
    import sqlalchemy as sa

    from runlab.index.search import SEARCH_TABLE

    fts = sa.table(SEARCH_TABLE, sa.column("id"))
    match = sa.literal_column(SEARCH_TABLE).op("MATCH")(sa.literal(fts_query(text), sa.String))
    return id_column.in_(sa.select(fts.c.id).where(match))  # type: ignore[no-any-return]
