"""The image classifier: a transformers image-classification model scoring how explicit images are.

`ImageClassifier` loads any such model (a model id or a folder saved with save_pretrained; e.g.
the Apache-2.0 "Falconsai/nsfw_image_detection") and scores a batch of PNGs in one forward
pass: for each image, the highest-scoring of the configured explicit labels. It is thread-safe
(one lock), so the render worker and uploads checked with `asyncio.to_thread` can share it.

`ModeratedRenderer` wraps any renderer: every batch it renders is classified right after, on the
engine's worker thread, in the same batch; the verdicts wait for the bot to take them by job id.
torch and transformers are imported only when a classifier loads (the `moderation` extra).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.jobs import Capabilities, Progress, Renderer, RenderJob

KEEP_VERDICTS = 10_000  # verdicts nobody took (a job cancelled after rendering) are dropped past this


@dataclass(frozen=True)
class Verdict:
    label: str  # the explicit label that scored highest ("" when the model has none of them)
    score: float  # its probability, 0-1

    def flags(self, threshold: float) -> bool:
        return bool(self.label) and self.score >= threshold


class ClassifierError(RuntimeError):
    """The configured model cannot be used (missing, or none of the labels it was told to look for)."""


class ImageClassifier:
    def __init__(self, model: str, labels: Sequence[str], device: str = "auto") -> None:
        self.model_name = model
        self.labels = tuple(label.casefold() for label in labels)
        self.device = device
        self._lock = threading.Lock()
        self._model: Any = None
        self._processor: Any = None
        self._explicit: list[tuple[int, str]] = []  # (class index, label) of the labels that count

    def load(self) -> None:
        """Loads the model once (blocking: call it from a worker thread)."""
        with self._lock:
            if self._model is not None:
                return
            import torch
            from transformers import AutoImageProcessor, AutoModelForImageClassification

            try:
                processor = AutoImageProcessor.from_pretrained(self.model_name)
                model = AutoModelForImageClassification.from_pretrained(self.model_name)
            except (OSError, ValueError) as e:
                raise ClassifierError(f"cannot load the image classifier {self.model_name!r}: {e}") from e
            id2label = {int(i): str(name) for i, name in (model.config.id2label or {}).items()}
            self._explicit = [(i, name) for i, name in sorted(id2label.items()) if name.casefold() in self.labels]
            if not self._explicit:
                raise ClassifierError(f"the image classifier {self.model_name!r} has the labels "
                                      f"{sorted(id2label.values())} and none of image_labels {list(self.labels)}")
            device = self.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            self._model = model.to(device).eval()
            self._processor = processor

    def explicit(self, pngs: Sequence[bytes]) -> list[Verdict]:
        """One verdict per image, from one forward pass (blocking: call it off the event loop)."""
        if not pngs:
            return []
        from PIL import Image

        images = []
        for data in pngs:
            with Image.open(io.BytesIO(data)) as img:
                images.append(img.convert("RGB"))
        self.load()
        import torch

        with self._lock, torch.inference_mode():
            inputs = self._processor(images=images, return_tensors="pt").to(self._model.device)
            probs = self._model(**inputs).logits.float().softmax(-1).cpu()
        out = []
        for row in probs:
            index, label = max(self._explicit, key=lambda pair: float(row[pair[0]]))
            out.append(Verdict(label, round(float(row[index]), 4)))
        return out

    def close(self) -> None:
        with self._lock:
            self._model = self._processor = None


class ModeratedRenderer:
    """A renderer whose every batch is classified right after it is drawn, on the same thread."""

    def __init__(self, inner: Renderer, classifier: ImageClassifier) -> None:
        self.inner = inner
        self.classifier = classifier
        self.name = inner.name
        self._verdicts: OrderedDict[str, Verdict] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    def __getattr__(self, name: str) -> Any:
        # Whatever else the inner renderer offers (count_tokens ...) is its own.
        return getattr(self.inner, name)

    def load(self) -> None:
        self.inner.load()
        self.classifier.load()

    def render(self, jobs: Sequence[RenderJob], progress: Progress) -> list[bytes]:
        pngs = self.inner.render(jobs, progress)
        verdicts = self.classifier.explicit(pngs)
        with self._lock:
            for job, verdict in zip(jobs, verdicts, strict=True):
                self._verdicts[job.job_id] = verdict
            while len(self._verdicts) > KEEP_VERDICTS:
                self._verdicts.popitem(last=False)
        return pngs

    def take_verdict(self, job_id: str) -> Verdict | None:
        """The verdict on a rendered job's image (once); None when it was not classified here."""
        with self._lock:
            return self._verdicts.pop(job_id, None)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.classifier.close()
