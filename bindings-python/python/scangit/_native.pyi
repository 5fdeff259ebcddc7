"""Type stubs of the native module `scangit._native` (re-exported by `scangit`)."""

import os
import pathlib
from types import TracebackType
from typing import Any, ClassVar, Dict, Iterator, List, Literal, Optional, Sequence, Type, Union, final

from . import Store

__version__: str

_StrPath = Union[str, "os.PathLike[str]"]
_Event = Union["Finding", "CommitMeta", "Progress", "Summary"]

@final
class AbortToken:
    """A cooperative abort flag, shareable by any number of scans and safe to trigger from any
    thread. Every scan started with ``abort=token`` stops at its next check and raises
    `AbortedError`. Aborting or closing one `Scan` never triggers the token."""

    def __init__(self) -> None: ...
    def abort(self) -> None:
        """Trigger the token. Idempotent."""
    @property
    def aborted(self) -> bool:
        """Whether `abort()` was called."""

@final
class Finding:
    """One occurrence of a secret in one blob."""

    type: Literal["finding"]
    rule_id: str
    """The rule that matched (``"aws-access-key-id"``, ...)."""
    rule_description: str
    blob: str
    """The blob the secret was found in (hex object id)."""
    commit: Optional[str]
    """The commit that introduced the blob at `path` (hex); None for a blob reachable from no
    commit."""
    path: Optional[str]
    """The blob's path, decoded like ``os.fsdecode`` (undecodable bytes as surrogate escapes)."""
    path_bytes: Optional[bytes]
    """The path's raw bytes."""
    line: int
    """1-based line of `start`."""
    column: int
    """1-based column of `start`, in bytes."""
    start: int
    """Byte offset in the blob where the reported span starts."""
    end: int
    """Byte offset in the blob where the reported span ends (exclusive)."""
    fingerprint: str
    """Keyed hash of (rule, secret): stable; the secret cannot be recovered from it."""
    secret: Optional[str]
    """The raw secret, only with ``reveal_secrets=True``."""
    snippet: str
    """The matched line with the secret masked."""
    decoded_from: List[str]
    """Decodings applied before matching (``"base64"``, ...), outermost first."""
    confidence: float
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's ``--format jsonl`` object for this finding (same keys and values)."""

@final
class CommitMeta:
    """Metadata of a commit that has findings (at most once per commit; it may arrive after
    the commit's first finding)."""

    type: Literal["commit"]
    commit: str
    author_name: str
    author_email: str
    author_time: int
    """Seconds since the Unix epoch."""
    committer_name: str
    committer_email: str
    committer_time: int
    """Seconds since the Unix epoch."""
    summary: str
    """First line of the commit message."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's ``--format jsonl`` object for this commit."""

@final
class Progress:
    """A throttled progress report."""

    type: Literal["progress"]
    phase: Literal["open", "index", "commits", "plan", "scan", "finalize"]
    done: int
    total: int
    bytes_scanned: int
    def to_dict(self) -> Dict[str, Any]:
        """``{"type": "progress", "phase", "done", "total", "bytes_scanned"}``."""

@final
class Summary:
    """The last event of a successful scan (also `Scan.summary`)."""

    type: Literal["summary"]
    outcome: Literal["complete", "partial"]
    complete: bool
    skipped: List[Dict[str, Any]]
    """``{"reason": "binary" | "too_large" | "corrupt" | "missing", "count": int,
    "examples": list[str]}`` per reason."""
    commits: int
    blobs_planned: int
    blobs_already_seen: int
    blobs_scanned: int
    bytes_scanned: int
    findings: int
    timings_ms: Dict[str, float]
    """Milliseconds per stage: open, index, commits, plan, scan, finalize, total."""
    def to_dict(self) -> Dict[str, Any]:
        """The CLI's ``--format jsonl`` summary object."""

@final
class SqliteStore:
    """The embedded SQLite store (a file, created if needed). Shareable between scans,
    threads and processes; its ``findings`` table can be read with plain SQL."""

    def __new__(cls, path: _StrPath) -> "SqliteStore":
        """Open (creating if needed) the store at `path`. Raises `StoreError`."""
    @property
    def path(self) -> pathlib.Path:
        """The file's path."""
    def findings(self, repo_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every stored finding, of one repository when `repo_id` is given."""

@final
class MemoryStore:
    """A store in this process's memory (incremental scans within one process)."""

    def __new__(cls) -> "MemoryStore": ...

@final
class Scan(Iterator[_Event]):
    """A running scan: iterate it for events, `Summary` last. Created by `scan()`.

    Leaving a ``with`` block, `close()` and dropping the object abort the scan and wait for
    its native threads. Ctrl-C while waiting for events aborts it and raises
    ``KeyboardInterrupt``."""

    def __iter__(self) -> "Scan": ...
    def __next__(self) -> _Event: ...
    def abort(self) -> None:
        """Ask the scan to stop (any thread); iteration then raises `AbortedError`."""
    @property
    def aborted(self) -> bool:
        """Whether the scan was asked to stop (here or through its `AbortToken`)."""
    @property
    def summary(self) -> Optional[Summary]:
        """The `Summary` event once the iteration reached it."""
    @property
    def done(self) -> bool:
        """Whether the scan has ended (finished, failed or closed)."""
    def close(self) -> None:
        """Abort the scan if it still runs and wait for its threads. Idempotent."""
    def __enter__(self) -> "Scan": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

def scan(
    repo: _StrPath,
    *,
    mode: Literal["odb-blob", "diff-history"] = "odb-blob",
    threads: int = 0,
    rules: Optional[_StrPath] = None,
    strict_rules: bool = False,
    store: Union[None, _StrPath, SqliteStore, MemoryStore, Store] = None,
    reveal_secrets: bool = False,
    abort: Optional[AbortToken] = None,
    max_blob_bytes: Optional[int] = None,
    memory_budget_bytes: Optional[int] = None,
    ref_include: Optional[Sequence[str]] = None,
    ref_exclude: Optional[Sequence[str]] = None,
    all_objects: bool = False,
    since: Optional[str] = None,
    range: Optional[str] = None,
    first_parent_only: bool = False,
    chunk_bytes: Optional[int] = None,
    repo_id: Optional[str] = None,
    keep_secrets: bool = False,
    spill_dir: Optional[_StrPath] = None,
    progress: bool = True,
    progress_interval: Optional[float] = None,
    batch_events: int = 512,
    queue_batches: int = 8,
) -> Scan:
    """Start scanning the git repository at `repo`; returns a `Scan` (an iterator of events).

    A rules file's warnings (a rule id defined twice, where the later definition wins as in
    gitleaks; something not fully applied) are emitted as `UserWarning`s naming the file and the
    rule; with `strict_rules=True` the first of them raises `RulesInvalidError` instead.

    Bad options raise `InvalidArgumentError`, `RulesInvalidError` or `StoreError` here; errors
    of the scan itself are raised by the iteration."""

def _shutdown() -> None:
    """Abort every running scan and join its threads (registered with ``atexit``)."""

class ScanError(Exception):
    """Base class of every scan error; `code` names the contract kind."""

    code: ClassVar[Optional[str]]
    retryable: ClassVar[bool]

class InvalidArgumentError(ScanError):
    code: ClassVar[str]

class RepoNotFoundError(ScanError):
    code: ClassVar[str]

class CorruptError(ScanError):
    code: ClassVar[str]

class ConcurrentMaintenanceError(ScanError):
    code: ClassVar[str]

class AbortedError(ScanError):
    code: ClassVar[str]

class StoreError(ScanError):
    """The store failed; nothing was persisted. ``__cause__`` is a Python store's exception."""

    code: ClassVar[str]

class RulesInvalidError(ScanError):
    code: ClassVar[str]

class ResourceLimitError(ScanError):
    code: ClassVar[str]

class InternalError(ScanError):
    code: ClassVar[str]
