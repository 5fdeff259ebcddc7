"""Native threads: aborting, breaking out, closing, concurrent scans and Ctrl-C."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import scangit

from conftest import DictStore, native_threads


def wait_for_threads(baseline, timeout=1.0):
    """The thread count once it is back to `baseline` (or whatever it is after `timeout`).

    A joined thread's /proc entry can outlive pthread_join by a moment (the kernel clears the
    thread id, which wakes the joiner, before it reaps the task), hence the short grace.
    `test_drop_joins_during_a_python_store_call` shows that dropping really joins."""
    deadline = time.monotonic() + timeout
    while native_threads() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    return native_threads()


def finding_keys(repo, **kw):
    return sorted(
        (e.blob, e.start, e.end, e.rule_id) for e in scangit.scan(repo, **kw) if e.type == "finding"
    )


def test_abort_mid_scan_from_another_thread(many):
    baseline = native_threads()
    s = scangit.scan(many, batch_events=64, queue_batches=2)
    seen = 0
    with pytest.raises(scangit.AbortedError) as ei:
        for e in s:
            seen += 1
            if seen == 100:
                threading.Thread(target=s.abort).start()
            time.sleep(0.0005)  # a slow consumer: the scan waits for it
    assert ei.value.code == "aborted"
    assert 100 <= seen < 60000
    assert s.aborted and s.done and s.summary is None
    assert wait_for_threads(baseline) == baseline


def test_shared_abort_token_stops_every_scan(many, corpus):
    token = scangit.AbortToken()
    assert not token.aborted
    a = scangit.scan(many, abort=token, batch_events=64, queue_batches=2)
    b = scangit.scan(many, abort=token, batch_events=64, queue_batches=2)
    next(a)
    next(b)
    # Aborting one scan leaves the shared token (and the other scan) alone.
    c = scangit.scan(corpus, abort=token)
    c.abort()
    with pytest.raises(scangit.AbortedError):
        list(c)
    assert not token.aborted and not a.aborted
    threading.Thread(target=token.abort).start()
    for s in (a, b):
        with pytest.raises(scangit.AbortedError):
            for _ in s:
                pass
    assert token.aborted
    # An already-aborted token stops a new scan at once.
    with pytest.raises(scangit.AbortedError):
        list(scangit.scan(corpus, abort=token))


def test_break_leaves_no_native_thread(many):
    baseline = native_threads()
    during = 0
    for e in scangit.scan(many, threads=2):
        if e.type == "finding":
            during = native_threads()
            break
    assert during > baseline, "the scan ran on native threads"
    # The loop's iterator was dropped at `break`: drop aborts and joins.
    assert wait_for_threads(baseline) == baseline


def test_close_and_context_manager_join(many):
    baseline = native_threads()
    s = scangit.scan(many)
    next(s)
    s.close()
    assert wait_for_threads(baseline) == baseline and s.done
    assert list(s) == []
    s.close()  # idempotent
    with scangit.scan(many) as s:
        for e in s:
            if e.type == "finding":
                break
    assert wait_for_threads(baseline) == baseline and s.done
    # Dropping an unfinished scan (refcount to zero) joins too.
    s = scangit.scan(many)
    next(s)
    del s
    assert wait_for_threads(baseline) == baseline


def test_drop_joins_during_a_python_store_call(corpus):
    """Dropping a scan while its thread is inside a Python store call waits for that call
    (the GIL is released while joining, so the call can finish: no deadlock)."""
    started = threading.Event()
    finished = []
    in_call = []

    class SlowStore(DictStore):
        def get_many(self, keys):
            in_call.append(True)
            started.set()
            time.sleep(0.3)
            finished.append(True)
            in_call.pop()
            return super().get_many(keys)

    baseline = native_threads()
    s = scangit.scan(corpus, store=SlowStore())
    assert started.wait(30)
    del s
    assert finished and not in_call
    assert wait_for_threads(baseline) == baseline


def test_two_scans_at_once_in_two_python_threads(corpora):
    repos = [corpora[1][0], corpora[2][0]]
    expected = [finding_keys(r, threads=1) for r in repos]
    assert expected[0] and expected[1] and expected[0] != expected[1]
    results = [None, None]
    errors = []
    barrier = threading.Barrier(2)

    def run(i):
        try:
            barrier.wait()
            results[i] = finding_keys(repos[i], threads=1)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    baseline = native_threads()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors
    assert results == expected
    assert wait_for_threads(baseline) == baseline


def test_other_python_threads_run_while_a_scan_waits(many):
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        n = sum(1 for _ in scangit.scan(many, threads=1))
    finally:
        stop.set()
        t.join()
    assert n > 60000
    assert len(ticks) > 10


CHILD = textwrap.dedent(
    """
    import os, sys, time
    import scangit

    baseline = len(os.listdir("/proc/self/task"))
    n = 0
    try:
        for e in scangit.scan(sys.argv[1], threads=1):
            n += 1
            if n == 1:
                print("ready", flush=True)
    except KeyboardInterrupt:
        deadline = time.monotonic() + 1.0  # a joined thread's /proc entry may linger a moment
        while len(os.listdir("/proc/self/task")) > baseline and time.monotonic() < deadline:
            time.sleep(0.01)
        left = len(os.listdir("/proc/self/task")) - baseline
        print("interrupted after %d events, %d threads left" % (n, left), flush=True)
        raise
    print("finished %d events" % n, flush=True)
    """
)


def test_ctrl_c_aborts_promptly_and_raises_keyboard_interrupt(many, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(many)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "KeyboardInterrupt" in err, err
    assert "interrupted after" in out and "0 threads left" in out, out
    assert "finished" not in out
    assert proc.returncode in (-signal.SIGINT, 128 + signal.SIGINT, 1), proc.returncode
    assert elapsed < 5.0, elapsed


EXIT_CHILD = textwrap.dedent(
    """
    import sys
    import scangit

    class DictStore:
        def __init__(self):
            self.data = {}
        def get_many(self, keys):
            return [self.data.get(k) for k in keys]
        def scan_prefix(self, prefix):
            return [(k, v) for k, v in self.data.items() if k.startswith(prefix)]
        def write_batch(self, items):
            self.data.update(items)

    # Scans left running at exit, one of them calling a store written in Python.
    a = scangit.scan(sys.argv[1], store=DictStore())
    b = scangit.scan(sys.argv[1])
    next(a)
    next(b)
    print("exiting", flush=True)
    """
)


def test_interpreter_exit_with_running_scans(many, tmp_path):
    script = tmp_path / "exit_child.py"
    script.write_text(EXIT_CHILD)
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, str(script), str(many)], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "exiting" and p.stderr == ""
    assert time.monotonic() - t0 < 10
