"""A tiny image classifier built offline, for the image filter's tests.

A randomly initialised ViT (one layer, 32x32 inputs) with the labels "normal" and "nsfw", saved with
save_pretrained like any model folder. Its scores are random, so tests make its decision
deterministic with the threshold: 0.0 flags every image, 1.0 (softmax never reaches it) none.
"""

from __future__ import annotations

from pathlib import Path

FLAG_ALL = 0.0
FLAG_NONE = 1.0


def build_tiny_classifier(folder: Path, labels: tuple[str, ...] = ("normal", "nsfw")) -> Path:
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(image_size=32, patch_size=8, num_hidden_layers=1, hidden_size=32, num_attention_heads=2,
                       intermediate_size=37, num_labels=len(labels), id2label=dict(enumerate(labels)),
                       label2id={name: i for i, name in enumerate(labels)})
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder
