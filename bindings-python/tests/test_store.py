"""Stores: a dict-backed store written in Python, a store that raises, SQLite and memory."""

import copy

import pytest
import scangit

from conftest import DictStore, add_commit, secret_file


def findings(repo, **kw):
    s = scangit.scan(repo, **kw)
    found = [e for e in s if e.type == "finding"]
    return found, s.summary


def test_dict_store_is_a_store():
    assert isinstance(DictStore(), scangit.Store)
    assert not isinstance(object(), scangit.Store)


def test_incremental_results_through_a_dict_store(repo_copy):
    store = DictStore()
    first, summary1 = findings(repo_copy, store=store)
    assert first and summary1.complete
    assert store.data and "write_batch" in store.calls
    assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in store.data.items())

    # Nothing new: nothing to report, every blob already seen.
    again, summary2 = findings(repo_copy, store=store)
    assert again == [] and summary2.findings == 0

    # One new commit with three new secrets: only those are reported.
    commit, blobs = add_commit(repo_copy, {b"new-secrets.env": secret_file(11)}, "add secrets")
    new, summary3 = findings(repo_copy, store=store)
    assert {(f.blob, f.commit, f.path, f.line) for f in new} == {
        (blobs[b"new-secrets.env"], commit, "new-secrets.env", line) for line in (2, 3, 4)
    }
    assert summary3.commits == 1 and summary3.blobs_scanned == 1

    # A fresh store sees everything again: the old findings and the new ones.
    everything, _ = findings(repo_copy, store=DictStore())
    assert len(everything) == len(first) + 3


@pytest.mark.parametrize("method", ["get_many", "scan_prefix", "write_batch"])
def test_a_store_that_raises(repo_copy, method):
    class Broken(Exception):
        pass

    class RaisingStore(DictStore):
        armed = False

        def fail(self, name):
            if self.armed and name == method:
                raise Broken("%s failed on purpose" % name)

        def get_many(self, keys):
            self.fail("get_many")
            return super().get_many(keys)

        def scan_prefix(self, prefix):
            self.fail("scan_prefix")
            return super().scan_prefix(prefix)

        def write_batch(self, items):
            self.fail("write_batch")
            return super().write_batch(items)

    store = RaisingStore()
    findings(repo_copy, store=store)  # a first, successful scan
    add_commit(repo_copy, {b"more.env": secret_file(12)})
    before = copy.deepcopy(store.data)
    store.armed = True
    with pytest.raises(scangit.StoreError) as ei:
        for _ in scangit.scan(repo_copy, store=store):
            pass
    err = ei.value
    assert err.code == "store"
    assert isinstance(err.__cause__, Broken), repr(err.__cause__)
    assert "failed on purpose" in str(err)
    assert store.data == before, "nothing persisted"
    # The store works again: the next scan reports the new commit's secrets.
    store.armed = False
    new, _ = findings(repo_copy, store=store)
    assert len(new) == 3


def test_a_store_that_answers_badly(repo_copy):
    class ShortStore(DictStore):
        def get_many(self, keys):
            return []

    with pytest.raises(scangit.StoreError) as ei:
        list(scangit.scan(repo_copy, store=ShortStore()))
    assert ei.value.__cause__ is None

    class WrongType(DictStore):
        def get_many(self, keys):
            return ["not bytes"] * len(keys)

    store = WrongType()
    with pytest.raises(scangit.StoreError) as ei:
        list(scangit.scan(repo_copy, store=store))
    assert isinstance(ei.value.__cause__, TypeError)
    assert store.data == {}


def test_sqlite_store_by_path_and_object(repo_copy, tmp_path):
    db = tmp_path / "scans.db"
    first, _ = findings(repo_copy, store=str(db))
    assert first and db.is_file()
    again, summary = findings(repo_copy, store=db)  # a PathLike works too
    assert again == [] and summary.commits == 0 and summary.blobs_scanned == 0
    store = scangit.SqliteStore(db)
    assert str(store.path) == str(db) and "SqliteStore" in repr(store)
    rows = store.findings()
    assert {(r["blob"], r["line"]) for r in rows} == {(f.blob, f.line) for f in first}
    assert all("secret" not in r for r in rows)
    add_commit(repo_copy, {b"x.env": secret_file(13)})
    new, _ = findings(repo_copy, store=store)
    assert len(new) == 3
    assert len(store.findings()) == len(rows) + 3


def test_sqlite_store_that_cannot_open(tmp_path):
    with pytest.raises(scangit.StoreError):
        scangit.SqliteStore(tmp_path / "no" / "such" / "dir" / "x.db")


def test_memory_store_shared_by_scans(repo_copy):
    store = scangit.MemoryStore()
    first, _ = findings(repo_copy, store=store)
    again, _ = findings(repo_copy, store=store)
    assert first and again == []
    # A different repo_id is a different scope: everything again.
    other, _ = findings(repo_copy, store=store, repo_id="elsewhere")
    assert len(other) == len(first)


def test_aborted_scan_persists_nothing(many):
    store = DictStore()
    s = scangit.scan(many, store=store, batch_events=64, queue_batches=2)
    next(s)
    s.abort()
    with pytest.raises(scangit.AbortedError):
        list(s)
    assert "write_batch" not in store.calls and store.data == {}
