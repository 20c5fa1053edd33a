"""A sentence-transformers encoder run by ONNX Runtime with int8 weights.

The transformer of a mean-pooling sentence-transformers model is exported to ONNX once
(``torch.onnx.export``), its weights quantised to int8 (ONNX Runtime's dynamic
quantisation) and the file kept in a cache folder; texts are then tokenised by the
model's own tokenizer, run through ONNX Runtime, mean-pooled over their tokens and, where
the model normalises, scaled to unit length: the steps of the model's own pipeline.
"""

from __future__ import annotations

import os

import numpy as np


class OnnxInt8Encoder:
    """``encode`` of a sentence-transformers model, by ONNX Runtime with int8 weights."""

    def __init__(self, st_model, path: str) -> None:
        modules = list(st_model)
        pooling = modules[1] if len(modules) > 1 else None
        mode = getattr(pooling, "pooling_mode", None)
        if mode is None and hasattr(pooling, "get_pooling_mode_str"):  # older releases
            mode = pooling.get_pooling_mode_str()
        if mode != "mean":
            raise ValueError(f"the ONNX backend supports mean-pooling models, not {mode!r}")
        self.tokenizer = st_model.tokenizer
        self.max_length = st_model.max_seq_length
        self.normalize = any(type(m).__name__ == "Normalize" for m in modules[2:])
        dimension = getattr(st_model, "get_embedding_dimension", None) or (
            st_model.get_sentence_embedding_dimension)
        self.dimension = int(dimension())
        if not os.path.exists(path):
            _export_int8(st_model, path)
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
        self.session = onnxruntime.InferenceSession(path, options,
                                                    providers=["CPUExecutionProvider"])

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def encode(self, texts: list[str], batch_size: int = 64, show_progress_bar: bool = False,
               convert_to_numpy: bool = True, normalize_embeddings: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # batches of similar lengths pad little, as sentence-transformers sorts them
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="np")
            mask = enc["attention_mask"].astype(np.int64)
            tokens = self.session.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                                             "attention_mask": mask})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (tokens * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
            if self.normalize or normalize_embeddings:
                pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[idx] = pooled
        return out


def _export_int8(st_model, path: str) -> None:
    """Export the model's transformer to ONNX and quantise its weights to int8 at ``path``."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Transformer(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask
                              ).last_hidden_state

    module = Transformer(st_model[0].auto_model.cpu()).eval()
    example = st_model.tokenizer(["an example", "a longer example text"], padding=True,
                                 return_tensors="pt")
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        fp32 = os.path.join(tmp, "model.onnx")
        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(module, (example["input_ids"], example["attention_mask"]), fp32,
                          input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
        int8 = os.path.join(tmp, "model-int8.onnx")
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
        os.replace(int8, path)
