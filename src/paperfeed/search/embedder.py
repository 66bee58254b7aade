"""Turning text into vectors: the bundled all-MiniLM-L6-v2 through ONNX Runtime, or a tiny
deterministic stand-in that unit tests of the plumbing use (never search quality).

all-MiniLM-L6-v2 is symmetric: queries and documents are embedded the same way (no prefix),
mean-pooled over tokens and L2-normalised, exactly as sentence-transformers does. Documents are
title + abstract cut at 256 word pieces, the length the model was trained with.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from paperfeed.search.model_files import MODEL_NAME, onnx_model, tokenizer_file

DIMENSIONS = 384
MAX_TOKENS = 256
BATCH = 32
QUERY_CACHE = 2_048

Vectors = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ModelName:
    """A model as nodes know it when they only read its vectors: its name and their size."""

    name: str
    dimensions: int


#: The bundled model as :class:`MiniLMEmbedder` names it (int8 weights, the default).
BUNDLED = ModelName(f"{MODEL_NAME}-int8", DIMENSIONS)
#: The same weights in fp32: a little closer to the reference, slower.
BUNDLED_FP32 = ModelName(MODEL_NAME, DIMENSIONS)
HASHING = "hashing"
MAX_HASHING_DIMENSIONS = 4_096


class UnknownModel(ValueError):
    """A model name this installation cannot run; the message lists the ones it can."""


def model_named(name: str) -> ModelName:
    """The model called ``name`` (``PAPERFEED_EMBEDDING_MODEL``), without loading it.

    The bundled model comes as ``all-MiniLM-L6-v2-int8`` (the default) and
    ``all-MiniLM-L6-v2`` (fp32); ``hashing`` and ``hashing-N`` (N dimensions) are the
    stand-in that knows nothing of meaning, for tests and demonstrations of the plumbing.
    """
    for known in (BUNDLED, BUNDLED_FP32):
        if name == known.name:
            return known
    if name == HASHING:
        return ModelName(HASHING, DIMENSIONS)
    prefix, _, size = name.partition("-")
    if prefix == HASHING and size.isdigit() and 0 < int(size) <= MAX_HASHING_DIMENSIONS:
        return ModelName(name, int(size))
    raise UnknownModel(
        f"unknown embedding model {name!r}: use {BUNDLED.name} (the default), "
        f"{BUNDLED_FP32.name}, or hashing-N (a stand-in for tests, N dimensions)"
    )


def load_model(name: str, models_dir: Path, *, threads: int = 2) -> Embedder:
    """The model called ``name``, loaded (:class:`UnknownModel`, or
    :class:`~paperfeed.search.model_files.ModelMissing` when its files are not installed)."""
    model = model_named(name)
    if model.name.startswith(HASHING):
        return HashingEmbedder(model.dimensions)
    return MiniLMEmbedder(models_dir, quantized=model == BUNDLED, threads=threads)


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimensions: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


@dataclass(frozen=True, slots=True)
class TokenStates:
    """One text's word pieces after the model: each piece's character span in the text and its
    contextual vector (not normalised). Keyphrases are scored from these, at no extra cost."""

    offsets: list[tuple[int, int]]
    vectors: NDArray[np.float32]


TokenConsumer = Callable[[int, TokenStates], None]


@runtime_checkable
class TokenEmbedder(Embedder, Protocol):
    """An embedder that can also hand over each text's token states as it embeds it."""

    def embed_documents_with_tokens(
        self, texts: Sequence[str], on_tokens: TokenConsumer
    ) -> Vectors: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime (int8 weights by default), both cores."""

    dimensions = DIMENSIONS

    def __init__(self, models_dir: Path, *, quantized: bool = True, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = f"{MODEL_NAME}{'-int8' if quantized else ''}"
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file()))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle threads sleep rather than spin: a web node embeds one short query at a time, and
        # spinning threads took the cores from the node's other requests and from PostgreSQL.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        path = onnx_model(models_dir, quantized=quantized)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()  # web requests embed queries from a thread pool

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts``; batches hold texts of similar length so little is padded."""
        return self.embed_documents_with_tokens(texts, None)

    def embed_documents_with_tokens(
        self, texts: Sequence[str], on_tokens: TokenConsumer | None
    ) -> Vectors:
        """Vectors of ``texts``, calling ``on_tokens(i, states)`` for each text while its batch
        is in memory (token states of a whole import would not fit)."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(rows):
                ids[r, : len(encodings[i].ids)] = encodings[i].ids
                mask[r, : len(encodings[i].ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, feed)[0]
            out[rows] = _mean_pooled(hidden, mask)
            if on_tokens is not None:
                for r, i in enumerate(rows):
                    size = len(encodings[i].ids)
                    on_tokens(int(i), TokenStates(encodings[i].offsets, hidden[r, :size]))
        return out

    def embed_query(self, text: str) -> Vectors:
        """The query's vector, from a small LRU cache when the same query comes again."""
        with self._cache_lock:
            if (cached := self._cache.get(text)) is not None:
                self._cache.move_to_end(text)
                return cached
        vector: Vectors = self.embed_documents([text])[0]
        vector.flags.writeable = False
        with self._cache_lock:
            self._cache[text] = vector
            if len(self._cache) > QUERY_CACHE:
                self._cache.popitem(last=False)
        return vector


class HashingEmbedder:
    """Words hashed into a fixed number of dimensions: deterministic and instant, for tests of
    indexing and fusion plumbing. It knows nothing of meaning."""

    def __init__(self, dimensions: int = DIMENSIONS, name: str | None = None) -> None:
        """Named ``hashing`` at the default size and ``hashing-N`` at any other, so two sizes
        are two models (their vectors never mix)."""
        self.dimensions = dimensions
        default = HASHING if dimensions == DIMENSIONS else f"{HASHING}-{dimensions}"
        self.name = name or default

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = int.from_bytes(
                    hashlib.blake2b(word.encode(), digest_size=4).digest(), "big"
                )
                out[row, digest % self.dimensions] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return np.asarray(self.embed_documents([text])[0], dtype=np.float32)


def _mean_pooled(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> Vectors:
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    return np.asarray(summed / np.maximum(norms, 1e-12), dtype=np.float32)
