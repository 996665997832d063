"""The stage runner's concurrency and failure isolation, and the cached int8 ONNX export."""

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nlp.model import DEFAULT_MODEL
from nlp.stage import Doc, concurrent_groups, run_stages


class Recorder:
    """A stage that writes one field, optionally waiting at a barrier or failing on a text."""

    def __init__(self, name, reads, writes, barrier=None, fail_on=None):
        self.name, self.reads, self.writes = name, reads, writes
        self.barrier, self.fail_on, self.threads = barrier, fail_on, set()

    def process(self, docs):
        self.threads.add(threading.get_ident())
        if self.barrier is not None and len(docs) > 1:
            self.barrier.wait(timeout=5)  # breaks (and fails) unless the partner runs at the same time
        for doc in docs:
            if doc.text == self.fail_on:
                raise ValueError(f"cannot handle {doc.text!r}")
            doc.fields[self.writes[0]] = f"{self.name}:{doc.text}"


def test_stages_group_by_what_they_read_and_write():
    language = Recorder("language", ("text",), ("language_supported",))
    model = Recorder("model", ("text", "language_supported"), ("sentiment",))
    entities = Recorder("entities", ("text", "language_supported"), ("entities",))
    override = Recorder("override", ("text",), ("sentiment",))
    reader = Recorder("reader", ("entities",), ("summary",))  # entities are done by then
    after = Recorder("after", ("sentiment",), ("intent",))
    groups = concurrent_groups([language, model, entities, override, reader, after])
    assert [[stage.name for stage in group] for group in groups] == [
        ["language"], ["model", "entities"], ["override", "reader"], ["after"]]


def test_independent_stages_run_at_the_same_time_on_different_threads():
    barrier = threading.Barrier(2)
    model = Recorder("model", ("text",), ("sentiment",), barrier=barrier)
    entities = Recorder("entities", ("text",), ("entities",), barrier=barrier)
    docs = run_stages([model, entities], [Doc(key=i, text=f"t{i}") for i in range(3)])
    assert not barrier.broken and model.threads.isdisjoint(entities.threads)
    assert all(doc.fields == {"sentiment": f"model:{doc.text}", "entities": f"entities:{doc.text}"}
               for doc in docs)


def test_a_failing_doc_in_a_concurrent_group_loses_only_itself():
    model = Recorder("model", ("text",), ("sentiment",), fail_on="BOOM")
    entities = Recorder("entities", ("text",), ("entities",))
    after = Recorder("after", ("sentiment",), ("intent",))
    docs = run_stages([model, entities, after], [Doc(key=i, text=t) for i, t in enumerate(["a", "BOOM", "b"])])
    assert docs[1].error == "model failed: ValueError: cannot handle 'BOOM'"
    assert "intent" not in docs[1].fields
    assert [doc.fields["intent"] for doc in (docs[0], docs[2])] == ["after:a", "after:b"]
    assert docs[0].fields["entities"] == "entities:a"


needs_model = pytest.mark.skipif(not (DEFAULT_MODEL / "heads.safetensors").exists(),
                                 reason="no committed model")


@needs_model
def test_int8_export_is_cached_per_model_version(tmp_path, monkeypatch):
    from nlp.onnx_runtime import OnnxMultiTask, exported_model, fingerprint

    monkeypatch.setenv("BRANDPULSE_CACHE_DIR", str(tmp_path / "cache"))
    first = exported_model(DEFAULT_MODEL)
    assert first.is_file() and first.is_relative_to(tmp_path / "cache")
    assert sorted(p.name for p in first.parent.iterdir()) == ["export.lock", "model.int8.onnx"]  # no leftovers
    stamp = first.stat().st_mtime_ns
    time.sleep(0.01)
    assert exported_model(DEFAULT_MODEL) == first and first.stat().st_mtime_ns == stamp

    retrained = tmp_path / DEFAULT_MODEL.name
    shutil.copytree(DEFAULT_MODEL, retrained)
    heads = retrained / "heads.safetensors"
    heads.write_bytes(heads.read_bytes()[:-4] + b"\0\0\0\0")
    assert fingerprint(retrained) != fingerprint(DEFAULT_MODEL)
    assert exported_model(retrained) != first

    session = OnnxMultiTask(DEFAULT_MODEL, threads=2)
    out = session.run(np.array([[101, 7592, 102]]), np.array([[1, 1, 1]]))
    assert out["sentiment"].shape == (1, 3) and abs(float(out["sentiment"].sum()) - 1) < 1e-5
    assert out["embedding"].shape == (1, 384)


def test_processes_starting_together_export_the_model_once(tmp_path, monkeypatch):
    import nlp.onnx_runtime as runtime

    monkeypatch.setenv("BRANDPULSE_CACHE_DIR", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "heads.safetensors").write_bytes(b"heads")
    exports = []

    def slow_export(model_dir, target):  # a real export takes 20-60 s of CPU
        exports.append(target)
        time.sleep(0.5)
        target.write_bytes(b"onnx")
    monkeypatch.setattr(runtime, "_export", slow_export)
    with ThreadPoolExecutor(3) as pool:  # a run's local workers and its API, starting at once
        paths = list(pool.map(lambda _: runtime.exported_model(model), range(3)))
    assert len(exports) == 1 and len(set(paths)) == 1 and paths[0].read_bytes() == b"onnx"


@needs_model
def test_int8_quantizes_every_weight_projection_but_those_asked_to_stay_fp32(tmp_path):
    import onnx

    from nlp.onnx_runtime import export_fp32, quantize_int8

    export_fp32(DEFAULT_MODEL, tmp_path / "fp32.onnx")
    kept = "/encoder/encoder/layer.0/output/dense/MatMul"
    for keep, integer_matmuls in (((), 6 * 6 + 7), ((kept,), 6 * 6 + 7 - 1)):  # 6 layers x 6, 7 heads
        quantize_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", keep_fp32=keep)
        nodes = onnx.load(str(tmp_path / "int8.onnx")).graph.node
        assert sum(node.op_type == "MatMulInteger" for node in nodes) == integer_matmuls
        assert any(node.name == kept and node.op_type == "MatMul" for node in nodes) == bool(keep)


@needs_model
def test_a_broken_export_is_a_clear_error(tmp_path, monkeypatch):
    from brandpulse.core.errors import AnalysisError
    from nlp.onnx_runtime import exported_model

    monkeypatch.setenv("BRANDPULSE_CACHE_DIR", str(tmp_path / "cache"))
    broken = tmp_path / "broken-model"
    shutil.copytree(DEFAULT_MODEL, broken)
    (broken / "heads.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(AnalysisError, match="could not export .*broken-model.* nlp.quantize: false"):
        exported_model(broken)
    assert not any((tmp_path / "cache").rglob("*.onnx"))


@needs_model
@pytest.mark.parametrize("entities", [True, False])
def test_the_model_leaves_spacy_its_core_when_both_run_at_once(entities):
    from brandpulse.core.settings import Settings
    from nlp.analyzer import _model
    from nlp.model import TransformerStage, available_cores

    analyzer = _model(Settings.model_validate({"nlp": {"entities": entities}}))
    scorer = next(stage.scorer for stage in analyzer.stages if isinstance(stage, TransformerStage))
    expected = max(1, available_cores() - 1) if entities else available_cores()
    assert scorer.threads == expected
    assert [stage.name for stage in analyzer.stages][-1] == ("entities" if entities else "transformer")
