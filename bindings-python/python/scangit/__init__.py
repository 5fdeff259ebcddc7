"""scangit: scan every object a git repository ever held for leaked credentials.

Python front door of libscangit. Every blob of every branch, tag, pull-request ref, deleted
file and loose object is scanned once, on native threads, and reported with the commit and
path that introduced it::

    import scangit

    with scangit.scan("/path/to/repo.git", store="scans.db") as s:
        for event in s:
            if event.type == "finding":
                print(event.rule_id, event.path, event.line, event.commit)
    print(s.summary)

Events are `Finding`, `CommitMeta`, `Progress` and, last, `Summary`; errors are subclasses of
`ScanError`. A store written in Python implements the `Store` protocol (three methods over
byte strings). See the README of bindings-python for the full API.
"""

from __future__ import annotations

import atexit
from typing import Iterable, List, Optional, Protocol, Tuple, Union, runtime_checkable

from ._native import (
    AbortedError,
    AbortToken,
    CommitMeta,
    ConcurrentMaintenanceError,
    CorruptError,
    Finding,
    InternalError,
    InvalidArgumentError,
    MemoryStore,
    Progress,
    RepoNotFoundError,
    ResourceLimitError,
    RulesInvalidError,
    Scan,
    ScanError,
    SqliteStore,
    StoreError,
    Summary,
    __version__,
    _shutdown,
    scan,
)

#: Any event a `Scan` yields.
Event = Union[Finding, CommitMeta, Progress, Summary]


@runtime_checkable
class Store(Protocol):
    """A persistence store written in Python: an ordered map of byte-string keys to byte-string
    values. Pass an object with these three methods as ``scan(..., store=obj)``.

    The library owns the key layout (versioned, scoped by repository id and rules hash); a
    store only keeps bytes. Methods are called from the scan's native threads, holding the GIL,
    one call at a time per scan. An exception raised by any of them ends the scan with
    `StoreError` (whose ``__cause__`` is that exception) and nothing of the scan is persisted.
    Scans in one process that share a store object have their commits serialized by the
    library (so an older scan finishing last never moves a ref watermark back); a store shared
    by several processes must make ``write_batch`` atomic with respect to the others.

    A dict-backed store::

        class DictStore:
            def __init__(self):
                self.data = {}

            def get_many(self, keys):
                return [self.data.get(k) for k in keys]

            def scan_prefix(self, prefix):
                return [(k, v) for k, v in self.data.items() if k.startswith(prefix)]

            def write_batch(self, items):
                self.data.update(items)   # all or nothing: a dict update cannot half-fail
    """

    def get_many(self, keys: List[bytes]) -> List[Optional[bytes]]:
        """The value of each key, or None when absent; ``result[i]`` answers ``keys[i]``."""
        ...

    def scan_prefix(self, prefix: bytes) -> Iterable[Tuple[bytes, bytes]]:
        """Every ``(key, value)`` pair whose key starts with ``prefix``, in any order."""
        ...

    def write_batch(self, items: List[Tuple[bytes, bytes]]) -> None:
        """Store every pair, all or nothing (no key repeats within one batch)."""
        ...


# Stop every running scan and join its native threads before the interpreter finalizes (a scan
# thread calling a Python store must not outlive Python).
atexit.register(_shutdown)

__all__ = [
    "AbortToken",
    "AbortedError",
    "CommitMeta",
    "ConcurrentMaintenanceError",
    "CorruptError",
    "Event",
    "Finding",
    "InternalError",
    "InvalidArgumentError",
    "MemoryStore",
    "Progress",
    "RepoNotFoundError",
    "ResourceLimitError",
    "RulesInvalidError",
    "Scan",
    "ScanError",
    "SqliteStore",
    "Store",
    "StoreError",
    "Summary",
    "__version__",
    "scan",
]
