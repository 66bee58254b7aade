"""Search: a keyword index (tantivy) and a vector index (usearch), derived from the store."""

# ONNX Runtime must be loaded before usearch: the other way round, importing onnxruntime
# crashes the process (seen with onnxruntime 1.31.1 and usearch 2.26.6; tests/search/test_imports.py).
import onnxruntime  # noqa: F401  isort: skip
