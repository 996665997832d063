"""The int8 runtime: the multi-task model exported to ONNX, dynamically quantized, run by ONNX Runtime.

The export happens once per model version on first use (a few seconds) and is cached
under ``$BRANDPULSE_CACHE_DIR`` (default ``~/.cache/brandpulse``), keyed by a hash of
the adapter and heads, so only the small trained artifacts are committed. Weights are
quantized per channel to int8; activations are quantized on the fly (dynamic).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np

from brandpulse.core.errors import AnalysisError

EXPORT_FORMAT = "1"  # bump when the exported graph changes


def cache_dir() -> Path:
    """Where exported models are kept (created on demand)."""
    root = os.environ.get("BRANDPULSE_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "brandpulse"
    return Path(root) / "onnx"


def fingerprint(model_dir: Path) -> str:
    """A short hash of everything the exported graph depends on."""
    from importlib.metadata import version

    versions = f"{EXPORT_FORMAT}|{version('torch')}|{version('onnxruntime')}"
    digest = hashlib.sha256(versions.encode())
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file() and p.suffix != ".md"):
        digest.update(file.relative_to(model_dir).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def exported_model(model_dir: Path) -> Path:
    """The int8 ONNX file for the model in ``model_dir``, exporting it if not cached yet."""
    target = cache_dir() / f"{model_dir.name}-{fingerprint(model_dir)}" / "model.int8.onnx"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name("export.lock"), "w") as lock:  # processes starting together (a run's
        fcntl.flock(lock, fcntl.LOCK_EX)  # workers, the API) export once; the others wait for it
        if not target.exists():
            _export(model_dir, target)
    return target


def _export(model_dir: Path, target: Path) -> None:
    fp32 = target.with_name(f"model.{os.getpid()}.fp32.onnx")
    partial = target.with_name(f"model.{os.getpid()}.int8.onnx")
    try:
        export_fp32(model_dir, fp32)
        quantize_int8(fp32, partial)
        partial.replace(target)  # atomic: a concurrent process sees all or nothing
    except Exception as exc:  # noqa: BLE001 - translated for the user
        raise AnalysisError(f"could not export {model_dir} to ONNX at {target}: "
                            f"{type(exc).__name__}: {exc}; set nlp.quantize: false to run "
                            "the fp32 PyTorch model instead") from exc
    finally:
        for leftover in (fp32, partial):
            leftover.unlink(missing_ok=True)


def export_fp32(model_dir: Path, output: Path) -> list[str]:
    """Export encoder + pooling + every head (softmax probabilities) and the pooled embedding."""
    import torch

    from nlp.model import EMBEDDING
    from nlp.multitask import load_artifacts

    model = load_artifacts(model_dir)

    class Probabilities(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            pooled = self.model.embed(input_ids, attention_mask)
            logits = self.model.heads_of(pooled).values()
            return (*[torch.softmax(value, dim=-1) for value in logits], pooled)

    names = [*model.task_names, EMBEDDING]
    example = torch.ones((2, 8), dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            **{name: {0: "batch"} for name in names}}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated upstream
        torch.onnx.export(Probabilities().eval(), (example, example), str(output),
                          input_names=["input_ids", "attention_mask"], output_names=names,
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    return names


def quantize_int8(source: Path, output: Path, keep_fp32: Sequence[str] = ()) -> None:
    """Dynamic int8 quantization of the weight MatMuls (per channel) but the nodes named in
    ``keep_fp32`` (see bench/int8_sensitivity.py); attention products stay fp32."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs a pre-processing hint that does not apply here
    try:
        quantize_dynamic(str(source), str(output), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=list(keep_fp32),
                         extra_options={"DefaultTensorType": 1, "MatMulConstBOnly": True})
    finally:
        root.setLevel(level)


class OnnxMultiTask:
    """An ONNX Runtime session over the exported model: ids and mask in, {task: probabilities} out.

    Each run is single-threaded and ``threads`` runs go at once (the session is thread-safe
    and releases the GIL): unlike intra-op threads that wait for each other at every op,
    independent runs never stall when a concurrent stage (spaCy) takes a core for a while.
    """

    def __init__(self, model_dir: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(exported_model(model_dir)), options,
                                            providers=["CPUExecutionProvider"])
        self.outputs = [output.name for output in self.session.get_outputs()]
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="brandpulse-onnx")

    def map(self, function, batches):
        """Apply ``function`` (which calls :meth:`run`) to the batches on the session's threads."""
        return self.pool.map(function, batches)

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        values = self.session.run(None, {"input_ids": input_ids.astype(np.int64),
                                         "attention_mask": attention_mask.astype(np.int64)})
        return dict(zip(self.outputs, values))
