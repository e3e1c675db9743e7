"""RNN-T inference over three ONNX Runtime sessions: features, the encoder once, then greedy decoding.

Greedy decoding as in the reference: for each encoder frame, ask the joint network for the best symbol given
the frame and the prediction network's output; a character is emitted and fed back to the prediction network
(and the same frame is asked again), the blank moves to the next frame, and after 30 characters on one frame
it moves on regardless. The prediction network's output only changes when a character is emitted, so it is
computed once per character, not once per question to the joint network.

``GreedyRunner.run`` takes a batch of waveforms (the QSL's ``{"waveform", "length"}``); features (the timed
part of the reference too), the encoder and the decoding are all batched: every utterance steps through
its own frames, and each step asks the joint network about all utterances still running at once.
Responses are each utterance's symbol ids (int64), the reference's format.

A model with random weights rarely picks the blank, so it emits the 30-symbol cap on most frames: decoding
then costs far more than with the real model, and timings are pessimistic. ``stats()`` reports how often the
cap was hit.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from podium.benchmarks.rnnt.features import FEATURES, log_mel_features
from podium.benchmarks.rnnt.model import ModelFiles, read_descriptor


class GreedyRunner:
    """The whole RNN-T pipeline behind the harness's ``run(batch) -> outputs`` interface.

    ``encoder``, ``prediction`` and ``joint`` are loaded podium backends (``run(dict) -> [arrays]``) of the
    graphs described in ``model``. ``run`` returns ``[symbols (B, U) int64 padded with -1, counts (B,)]``.
    """

    def __init__(self, encoder: Any, prediction: Any, joint: Any, *, blank_index: int, pred_layers: int,
                 pred_hidden: int, max_symbols_per_step: int = 30, random_weights: bool = False) -> None:
        self.encoder = encoder
        self.prediction = prediction
        self.joint = joint
        self.blank = blank_index
        self.pred_layers = pred_layers
        self.pred_hidden = pred_hidden
        self.max_symbols = max_symbols_per_step
        self.random_weights = random_weights
        self._lock = threading.Lock()
        self._frames = 0
        self._capped = 0
        self._symbols = 0
        self._utterances = 0

    @classmethod
    def from_descriptor(cls, path: Any, backend_name: str = "onnxruntime",
                        backend_options: dict[str, Any] | None = None) -> GreedyRunner:
        """Load the three graphs a descriptor names, each in its own backend instance."""
        from podium.backends import get_backend

        files: ModelFiles = read_descriptor(path)
        opts = dict(backend_options or {})
        # The step graphs run one tiny batch per decoding step; threads only add synchronisation there
        # (measured: a prediction step takes 1.5-2x longer with 2 threads than with 1).
        step_opts = {**opts, "intra_op_threads": 1} if backend_name in ("onnxruntime", "ort", "onnx") else opts
        encoder = get_backend(backend_name, **opts).load(files.encoder)
        prediction = get_backend(backend_name, **step_opts).load(files.prediction)
        joint = get_backend(backend_name, **step_opts).load(files.joint)
        return cls(encoder, prediction, joint, blank_index=files.blank_index,
                   pred_layers=files.config.pred_layers, pred_hidden=files.config.pred_hidden,
                   max_symbols_per_step=files.max_symbols_per_step, random_weights=files.random_weights)

    # -- pipeline ------------------------------------------------------------------------------------
    def features(self, waveforms: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-utterance features, padded into (T, B, 240) with zeros, and their lengths."""
        feats = [log_mel_features(waveforms[i, :n]) for i, n in enumerate(lengths.tolist())]
        t_max = max(f.shape[0] for f in feats)
        out = np.zeros((t_max, len(feats), FEATURES), dtype=np.float32)
        for i, f in enumerate(feats):
            out[:f.shape[0], i] = f
        return out, np.array([f.shape[0] for f in feats], dtype=np.int64)

    def encode(self, features: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encoder outputs (B, T', H) and their lengths."""
        encoded, enc_lengths = self.encoder.run({"features": features, "lengths": lengths})
        return encoded, enc_lengths

    def _predict(self, symbols: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g, h2, c2 = self.prediction.run({"symbol": symbols, "h": h, "c": c})
        return g, h2, c2

    def decode(self, encoded: np.ndarray, lengths: np.ndarray) -> list[list[int]]:
        """Greedy transducer decoding of a batch (see the module docstring)."""
        b = encoded.shape[0]
        lengths = np.minimum(lengths.astype(np.int64), encoded.shape[1])
        out: list[list[int]] = [[] for _ in range(b)]
        zeros = np.zeros((self.pred_layers, b, self.pred_hidden), dtype=np.float32)
        g, h, c = self._predict(np.full(b, self.blank, dtype=np.int64), zeros, zeros)  # start symbol
        g, h, c = np.array(g), np.array(h), np.array(c)
        t = np.zeros(b, dtype=np.int64)
        emitted = np.zeros(b, dtype=np.int64)  # symbols emitted on the current frame
        frames = capped = symbols = 0
        active = np.flatnonzero(t < lengths)
        while active.size:
            best = self.joint.run({"f": encoded[active, t[active]], "g": g[active]})[1]
            is_char = best != self.blank
            chars = active[is_char]
            if chars.size:
                syms = best[is_char].astype(np.int64)
                for row, s in zip(chars.tolist(), syms.tolist()):
                    out[row].append(s)
                g_new, h_new, c_new = self._predict(syms, h[:, chars], c[:, chars])
                g[chars], h[:, chars], c[:, chars] = g_new, h_new, c_new
                emitted[chars] += 1
                symbols += int(chars.size)
            at_cap = chars[emitted[chars] >= self.max_symbols]
            advance = np.concatenate([active[~is_char], at_cap])
            t[advance] += 1
            emitted[advance] = 0
            frames += int(advance.size)
            capped += int(at_cap.size)
            active = active[t[active] < lengths[active]]
        with self._lock:
            self._frames += frames
            self._capped += capped
            self._symbols += symbols
            self._utterances += b
        return out

    def run(self, batch: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Waveforms → symbol ids: ``[symbols (B, U) int64 padded with -1, counts (B,) int64]``."""
        feats, feat_lengths = self.features(batch["waveform"], np.asarray(batch["length"], dtype=np.int64))
        encoded, enc_lengths = self.encode(feats, feat_lengths)
        hyps = self.decode(encoded, enc_lengths)
        counts = np.array([len(hyp) for hyp in hyps], dtype=np.int64)
        symbols = np.full((len(hyps), max(int(counts.max()), 1)), -1, dtype=np.int64)
        for i, hyp in enumerate(hyps):
            symbols[i, :len(hyp)] = hyp
        return [symbols, counts]

    # -- reporting -----------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Frames decoded, how many ended at the symbol cap, symbols emitted, utterances."""
        with self._lock:
            return {"utterances": self._utterances, "frames": self._frames, "symbols": self._symbols,
                    "frames_at_symbol_cap": self._capped,
                    "symbol_cap_share": self._capped / self._frames if self._frames else 0.0,
                    "max_symbols_per_step": self.max_symbols}

    @property
    def version(self) -> str:
        return str(getattr(self.encoder, "version", ""))

    def config(self) -> dict[str, Any]:
        """Settings for result files."""
        base = self.encoder.config() if hasattr(self.encoder, "config") else {}
        return {**base, "decoder": "greedy, batched", "max_symbols_per_step": self.max_symbols,
                "random_weights": self.random_weights}

    def close(self) -> None:
        for part in (self.encoder, self.prediction, self.joint):
            if hasattr(part, "close"):
                part.close()
