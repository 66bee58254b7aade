"""The real all-MiniLM-L6-v2 on a handful of documents: meaning, not shared words."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from paperfeed.search.embedder import Embedder, HashingEmbedder, MiniLMEmbedder

DOCS = [
    "A convolutional network that classifies photographs of animals.",
    "We study the thermal conductivity of copper alloys at low temperature.",
    "A method for translating sentences from English into German.",
]


def test_both_embedders_satisfy_the_protocol(minilm: MiniLMEmbedder) -> None:
    assert isinstance(minilm, Embedder) and isinstance(HashingEmbedder(), Embedder)


def test_a_paraphrase_with_no_shared_word_is_found(minilm: MiniLMEmbedder) -> None:
    vectors = minilm.embed_documents(DOCS)
    query = minilm.embed_query("machine translation between languages")
    assert not set(["machine", "translation", "between", "languages"]) & set(
        DOCS[2].lower().split()
    )
    assert int(np.argmax(vectors @ query)) == 2


def test_vectors_are_unit_length_and_batches_agree(minilm: MiniLMEmbedder) -> None:
    together = minilm.embed_documents(DOCS)
    alone = np.stack([minilm.embed_documents([doc])[0] for doc in DOCS])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # int8 activations are scaled per batch, so batch-mates shift a vector slightly; no more.
    assert float(np.min(np.sum(together * alone, axis=1))) > 0.98
    assert minilm.embed_query("same") is minilm.embed_query("same")  # cached


def test_onnxruntime_and_usearch_load_together() -> None:
    """usearch first, then onnxruntime, crashed the process; paperfeed.search orders them."""
    code = "import paperfeed.search.vectors, onnxruntime, paperfeed.search.embedder; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
