"""Full-text search (FTS5): what is searched, how words match, and how the index keeps it."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import datetime, timezone

import pytest
from query_helpers import record

import runlab
from runlab.errors import RunNotFound, UsageError
from runlab.query.annotate import add_note, set_tags
from runlab.query.search import fts_query
from runlab.store import Store

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    root = tmp_path / "runs"
    record(root, {"model": "resnet50", "lr": 0.1}, {"acc": 0.9}, name="baseline-a")
    record(
        root,
        {"model": "vit", "optim": {"name": "adamw"}},
        {"acc": 0.8},
        description="ResNet baseline, step decay",
    )
    record(root, {"model": "mlp"}, {"acc": 0.7}, tags={"stage": "draft", "reviewed": True})
    return root


def hits(store, text):
    return runlab.load(store).search(text).ids()


@pytest.fixture
def find(store, load_runs):
    """``find(text)``: the ids the search finds, over SQLite and over a PostgreSQL mirror."""
    return lambda text: load_runs(store).search(text).ids()


def test_names_descriptions_tags_and_params_are_searched(store, find):
    assert find("baseline") == ["1", "2"]  # a name, a description
    assert find("draft") == ["3"]  # a tag value
    assert find("stage") == ["3"]  # a tag key
    assert find("reviewed true") == ["3"]
    assert find("adamw") == ["2"]  # a nested param value
    assert find("optim") == ["2"]  # a nested param key


def test_words_are_prefixes_all_must_match_case_is_ignored(store, find):
    assert find("resnet") == ["1", "2"]  # resnet50 and ResNet
    assert find("RESNET baseline") == ["1", "2"]
    assert find("resnet step") == ["2"]
    assert find("res base") == ["1", "2"]
    assert find('"step decay"') == ["2"]
    assert find('"decay step"') == []
    assert find("resnet nothing") == []


def test_fts_syntax_is_never_special():
    assert fts_query('resnet "step decay"') == '"resnet"* "step decay"*'
    assert fts_query("a OR b NOT c") == '"a"* "OR"* "b"* "NOT"* "c"*'
    assert fts_query("model:cnn") == '"model:cnn"*'
    with pytest.raises(UsageError, match="give one or more words"):
        fts_query('  "" ** ')


def test_search_combines_with_where_and_select(store, load_runs):
    runs = load_runs(store).search("baseline")
    assert runs.where("acc > 0.85").ids() == ["1"]
    assert runs.select("id", "model") == [("1", "resnet50"), ("2", "vit")]
    assert repr(runs).endswith("where search 'baseline'>")


def test_notes_and_tags_written_later_are_found(store, find, load_runs):
    assert find("diverged") == []
    add_note(Store.at(store), 3, "Diverged after epoch 40", now=NOON)
    assert (store / "3" / "notes.md").read_text() == (
        "## 2024-05-01 12:00 UTC\n\nDiverged after epoch 40\n\n"
    )
    add_note(Store.at(store), "3", "rerun with a smaller lr", now=NOON)
    assert find("diverged smaller") == ["3"]
    tags = set_tags(Store.at(store), "baseline-a", {"stage": "final"})
    assert tags == {"stage": "final"}
    assert find("final") == ["1"]
    set_tags(Store.at(store), 3, {}, remove=["stage"])
    assert find("draft") == []
    assert load_runs(store)[3].tags == {"reviewed": True}


def test_tag_errors(store):
    s = Store.at(store)
    with pytest.raises(UsageError, match=r"run 1 has no tag 'x' \(its tags: none\)"):
        set_tags(s, 1, {}, remove=["x"])
    with pytest.raises(RunNotFound):
        set_tags(s, "nope", {"a": 1})
    with pytest.raises(UsageError, match="note: the text is empty"):
        add_note(s, 1, "  ")


def test_a_running_run_is_not_tagged(tmp_path):
    root = tmp_path / "runs"
    with runlab.start({"lr": 0.1}, store=root, capture=False, git=False) as run:
        with pytest.raises(
            UsageError, match=re.escape("run 1 is running: it rewrites its run.json")
        ):
            set_tags(Store.at(root), 1, {"a": 1})
        add_note(Store.at(root), 1, "a note works while it runs")
        run.summary(acc=1.0)
    assert hits(root, "works") == ["1"]


def test_deleted_runs_leave_the_search(store, find):
    shutil.rmtree(store / "2")
    Store.at(store).index(refresh=False).rescan()
    assert find("baseline") == ["1"]


def test_rebuild_gives_the_same_search(store):
    add_note(Store.at(store), 2, "keep this one")
    before = {w: hits(store, w) for w in ("baseline", "keep", "draft", "adamw")}
    Store.at(store).index(refresh=False).rebuild()
    assert {w: hits(store, w) for w in before} == before
    assert before["keep"] == ["2"]


def test_an_index_older_than_search_is_filled_by_its_migration(store):
    runlab.load(store)  # ingest
    db = sqlite3.connect(store / "index.db")
    db.executescript(
        "DROP TABLE runs_search; DROP TABLE search_ids;"
        "DELETE FROM migrations WHERE name = '0003_search';"
    )
    db.commit()
    db.close()
    assert hits(store, "baseline") == ["1", "2"]
    assert hits(store, "reviewed true") == ["3"]  # bools read back as bools
    assert hits(store, "adamw") == ["2"]


def test_without_fts5_ingest_works_and_search_says_why(store, monkeypatch):
    from runlab.index import search

    monkeypatch.setattr(search, "SCHEMA", search.SCHEMA.replace("USING fts5(", "USING nofts5("))
    (store / "index.db").unlink(missing_ok=True)
    with pytest.raises(UsageError, match="this Python's SQLite has no FTS5"):
        runlab.load(store).search("baseline")
    assert runlab.load(store).ids() == ["1", "2", "3"]
