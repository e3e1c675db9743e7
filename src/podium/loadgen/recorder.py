"""Completion recording for one series: the thread-safe ``complete`` path of the engine.

One timestamp per completion call (spec loadgen.md §1.4), written into a preallocated int64 array indexed by
``sample sequence id - series base``; per-query bookkeeping only where a scenario needs it (MultiStream
query latency, Offline's single query, Server's outstanding-query limit). Response bytes are copied only
for samples that are accuracy-logged.
"""

from __future__ import annotations

import threading
from array import array
from typing import Any, Callable, Sequence

import numpy as np

from podium.loadgen.settings import Scenario

_NEVER = 1 << 62
#: ``n_tokens`` of a sample not completed yet (the official's ``nTokenInvalid``)
N_TOKENS_UNSET = np.iinfo(np.int64).min


def _to_bytes(data: Any) -> bytes:
    if data is None:
        return b""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data).tobytes()
    return bytes(data)


class SeriesRecorder:
    """Completion state of one series (one loadable set in accuracy mode, or the performance run)."""

    def __init__(
        self,
        now: Callable[[], int],
        base_id: int,
        n_samples: int,
        samples_per_query: int,
        scenario: Scenario,
        qsl_indices: np.ndarray,
        log_mask: np.ndarray | None,
        log_all: bool,
        error: Callable[[str, str], None],
        tokens: bool = False,
        needs_first_token: bool = False,
    ) -> None:
        self._now = now
        self.base_id = base_id  # response id of the series' first sample
        self.n = n_samples
        self.spq = samples_per_query
        self.scenario = scenario
        self.qsl_indices = qsl_indices
        self.lock = threading.Lock()
        self.event = threading.Event()
        self.done = array("q", [0]) * n_samples  # 0 = not completed yet
        self.done_np = np.frombuffer(self.done, dtype=np.int64) if n_samples else np.zeros(0, np.int64)
        self.per_query = scenario in (Scenario.MultiStream, Scenario.Offline)
        if scenario is Scenario.Offline:
            n_queries = 1
        else:
            n_queries = n_samples // max(samples_per_query, 1)
        self.n_queries = n_queries
        if self.per_query:
            self.remaining = array("q", [samples_per_query if scenario is Scenario.MultiStream else n_samples]
                                   * n_queries)
            self.query_done = array("q", [0]) * n_queries
        self.completed = 0  # samples
        self.completed_queries = 0
        self.wait_target = _NEVER
        self.last_progress_ns = now()
        self.log_mask = log_mask
        self.log_all = log_all
        self.logged: list[tuple[int, int, str]] = []  # (seq_id, qsl_idx, HEX) in completion order
        self._error = error
        self.duplicate_count = 0
        self.closed = False
        #: LoadGen 6.0.x token latencies: responses carry ``n_tokens``; outside Offline a first token is expected
        self.tokens = tokens
        self.needs_first_token = needs_first_token
        #: first-token time per sample (0: none yet); allocated by the first ``first_token`` call
        self.first_np: np.ndarray | None = np.zeros(n_samples, np.int64) if tokens else None
        #: n_tokens as each completion reported it (N_TOKENS_UNSET until it completes)
        self.n_tokens_np: np.ndarray | None = np.full(n_samples, N_TOKENS_UNSET, np.int64) if tokens else None
        self._token_hex: dict[int, str] = {}

    # ---- the hot path -------------------------------------------------------------------------------
    def complete(self, responses: Sequence[Any], t: int) -> None:
        """Record a completion call's responses, all at time ``t``.

        A response is ``(id, data)`` or, with token latencies, ``(id, data, n_tokens)``.
        """
        if self.tokens:
            self._complete_tokens(responses, t)
            return
        if len(responses) > 64:
            ids = np.fromiter((r[0] for r in responses), dtype=np.int64, count=len(responses))
            want_data = self.log_all or self.log_mask is not None
            self.complete_ids(ids, [r[1] for r in responses] if want_data else None, t)
            return
        base, n, done = self.base_id, self.n, self.done
        log_mask = self.log_mask
        with self.lock:
            if self.closed:
                for r in responses:
                    self._bad_id(r[0])
                return
            count = 0
            if not self.per_query and not self.log_all and log_mask is None:
                # SingleStream / Server without logging: the common hot path, no per-sample attribute lookups
                for r in responses:
                    k = r[0] - base
                    if 0 <= k < n and not done[k]:
                        done[k] = t
                        count += 1
                    else:
                        self._reject(r[0], k)
                self.completed_queries += count
            else:
                for r in responses:
                    k = r[0] - base
                    if not (0 <= k < n) or done[k]:
                        self._reject(r[0], k)
                        continue
                    done[k] = t
                    if self.log_all or (log_mask is not None and log_mask[k]):
                        self._log(k, r[1])
                    self._query_progress(k, t)
                    count += 1
            if count:
                self._progressed(count, t)

    def _complete_tokens(self, responses: Sequence[Any], t: int) -> None:
        """The completion path of a token-latency series: each sample's n_tokens checked as the official does."""
        assert self.first_np is not None and self.n_tokens_np is not None
        base, n, done = self.base_id, self.n, self.done
        first, n_tok = self.first_np, self.n_tokens_np
        with self.lock:
            if self.closed:
                for r in responses:
                    self._bad_id(r[0])
                return
            count = 0
            for r in responses:
                k = r[0] - base
                if not (0 <= k < n) or done[k]:
                    self._reject(r[0], k)
                    continue
                if self.needs_first_token and first[k] == 0:
                    self._error("error_runtime", "Attempted to record a sample latency before it's first token "
                                "latency")
                nt = int(r[2]) if len(r) > 2 and r[2] is not None else 0
                if nt == 0:
                    self._error("error_runtime", "n_tokens argument missing or attempted to record 0 as number of "
                                "tokens")
                elif nt < 0:
                    self._error("error_runtime", "Attempted to record a negative number of tokens")
                elif nt == 1:
                    self._error("error_runtime", "Number of tokens need to be greater than 1")
                n_tok[k] = nt
                done[k] = t
                if self.log_all or (self.log_mask is not None and self.log_mask[k]):
                    self._log(k, r[1], nt)
                self._query_progress(k, t)
                count += 1
            if count:
                self._progressed(count, t)

    def _progressed(self, count: int, t: int) -> None:
        """``count`` more samples completed at ``t``: wake a waiter whose target is reached (caller holds the
        lock)."""
        self.completed += count
        self.last_progress_ns = t
        if self.completed >= self.wait_target:
            self.event.set()

    def _query_progress(self, k: int, t: int) -> None:
        """Sample ``k`` completed at ``t``: count its query done when it was the query's last (caller holds the
        lock)."""
        if self.per_query:
            q = 0 if self.scenario is Scenario.Offline else k // self.spq
            self.remaining[q] -= 1
            if self.remaining[q] == 0:
                self.query_done[q] = t
                self.completed_queries += 1
        else:
            self.completed_queries += 1

    def first_token(self, responses: Sequence[Any], t: int) -> None:
        """Record first tokens (the official ``FirstTokenComplete``): ``(id, data)`` pairs, all at time ``t``.

        Errors, as the official logs them: an old or unknown id, a first token after the sample completed, or a
        second first token for a sample. The token's bytes are kept for accuracy-logged samples.
        """
        base, n, done = self.base_id, self.n, self.done
        with self.lock:
            if self.first_np is None:
                self.first_np = np.zeros(n, np.int64)
            first = self.first_np
            for r in responses:
                k = r[0] - base
                if self.closed or not (0 <= k < n):
                    self._bad_id(r[0])
                    continue
                if done[k]:
                    self._error("error_runtime", "Attempted to record token latency after sample was completed")
                    continue
                if first[k]:
                    self.duplicate_count += 1
                    self._error("error_runtime", "Attempted to complete a sample twice.")
                    continue
                first[k] = t
                if self.tokens and (self.log_all or (self.log_mask is not None and self.log_mask[k])):
                    self._token_hex[k] = _to_bytes(r[1] if len(r) > 1 else None).hex().upper()

    def _reject(self, rid: int, k: int) -> None:
        """An id outside this series (old or unknown) or a second completion of a sample: a logged error."""
        if 0 <= k < self.n:
            self.duplicate_count += 1
            self._error("error_runtime", "Attempted to complete a sample twice.")
        else:
            self._bad_id(rid)

    def complete_ids(self, ids: Any, data: Sequence[Any] | None, t: int, n_tokens: Any = None) -> None:
        """Vectorised completion of many samples (the fast path and large completion calls).

        ``n_tokens`` (one per id) matters only in a token-latency series, which takes the per-sample path.
        """
        if self.tokens:
            id_list = np.asarray(ids, dtype=np.int64).tolist()
            counts = [0] * len(id_list) if n_tokens is None else np.asarray(n_tokens, dtype=np.int64).tolist()
            payloads = [None] * len(id_list) if data is None else list(data)
            self._complete_tokens(list(zip(id_list, payloads, counts)), t)
            return
        ids = np.asarray(ids, dtype=np.int64)
        k = ids - self.base_id
        with self.lock:
            if self.closed:
                for rid in ids.tolist():
                    self._bad_id(rid)
                return
            ok = (k >= 0) & (k < self.n)
            if not ok.all():
                for rid in ids[~ok].tolist():
                    self._bad_id(rid)
                if data is not None:
                    data = [d for d, good in zip(data, ok.tolist()) if good]
                k = k[ok]
            fresh = self.done_np[k] == 0
            if len(k) > 1:
                # a sample twice within this one call is a duplicate too
                order = np.argsort(k, kind="stable")
                dup_in_call = np.zeros(len(k), dtype=bool)
                dup_in_call[order[1:]] = k[order[1:]] == k[order[:-1]]
                fresh &= ~dup_in_call
            if not fresh.all():
                bad = int((~fresh).sum())
                self.duplicate_count += bad
                for _ in range(min(bad, 100)):
                    self._error("error_runtime", "Attempted to complete a sample twice.")
                if data is not None:
                    data = [d for d, good in zip(data, fresh.tolist()) if good]
                k = k[fresh]
            if len(k) == 0:
                return
            self.done_np[k] = t
            if self.log_all or self.log_mask is not None:
                if self.log_all:
                    sel = np.arange(len(k))
                else:
                    assert self.log_mask is not None
                    sel = np.nonzero(self.log_mask[k])[0]
                for i in sel.tolist():
                    self._log(int(k[i]), None if data is None else data[i])
            if self.per_query:
                if self.scenario is Scenario.Offline:
                    self.remaining[0] -= len(k)
                    if self.remaining[0] == 0:
                        self.query_done[0] = t
                        self.completed_queries += 1
                else:
                    rem = np.frombuffer(self.remaining, dtype=np.int64)
                    qs = k // self.spq
                    np.subtract.at(rem, qs, 1)
                    uq = np.unique(qs)
                    finished = uq[rem[uq] == 0]
                    if len(finished):
                        qd = np.frombuffer(self.query_done, dtype=np.int64)
                        qd[finished] = t
                        self.completed_queries += len(finished)
            else:
                self.completed_queries += len(k)
            self._progressed(len(k), t)

    # ---- helpers ----------------------------------------------------------------------------------------
    def _log(self, k: int, data: Any, n_tokens: int | None = None) -> None:
        entry: tuple[Any, ...] = (self.base_id - 1 + k, int(self.qsl_indices[k]), _to_bytes(data).hex().upper())
        if n_tokens is not None:
            # LoadGen 6.0.x token runs: the first token's bytes (outside Offline) and the reported count, raw
            entry += (None if not self.needs_first_token else self._token_hex.get(k, ""), n_tokens)
        self.logged.append(entry)

    def _bad_id(self, rid: int) -> None:
        if rid < self.base_id or self.closed:
            self._error("error_runtime", "Received completion for an old sample.")
        else:
            self._error("error_runtime", f"Received completion for an unknown sample id {rid}.")

    def arm(self, target_samples: int) -> bool:
        """Prepare to wait until ``target_samples`` are complete; False if they already are."""
        with self.lock:
            if self.completed >= target_samples:
                return False
            self.wait_target = target_samples
            self.event.clear()
            return True

    def disarm(self) -> None:
        with self.lock:
            self.wait_target = _NEVER

    def close(self) -> None:
        """No further completions count for this series (later ones are 'old sample' errors)."""
        with self.lock:
            self.closed = True
