"""Generator metrics for labelled image sets, with networks trained here (nothing downloaded).

- :func:`train_classifier`: a small CNN trained on real labelled images; its predictions score the
  samples of a conditional generator (:func:`label_accuracy`: does the requested class come out?) and its
  penultimate features are the embedding of :func:`kid`.
- :func:`classification_accuracy_score` (CAS, Ravuri & Vinyals 2019): train the same classifier on
  *generated* images and test it on real held-out ones; high only when the samples are both correct and
  diverse enough to stand in for the data.
- :func:`kid`: the kernel inception distance (Binkowski et al. 2018), the unbiased squared MMD with the cubic
  polynomial kernel, averaged over random subsets, here in the trained classifier's features, which are first
  put in the reference set's units (centred, one RMS scale) so that KID x 10^3 reads like published figures.

Images are uint8 ``N x H x W x C`` arrays (C = 1 or 3, RGB) or ``N x H x W``; the classifier resizes them to
its own input side and converts them to grey when it was trained on grey. torch is imported when called.

Example:
    >>> import numpy as np
    >>> from imggan.metrics.generation import kid
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
    >>> abs(kid(a, b)["mean"]) < 0.05 < kid(a, b + 2.0)["mean"]
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np


def as_nhwc(images: np.ndarray) -> np.ndarray:
    """N x H x W x C images: a channel axis added to N x H x W gray ones (shared by the metrics that train here)."""
    images = np.asarray(images)
    return images[..., None] if images.ndim == 3 else images


@dataclass
class ImageClassifier:
    """A trained CNN: ``predict`` gives classes, ``features`` the penultimate activations.

    Attributes:
        net: the torch module (``features`` then ``head``).
        size: the input side images are resized to.
        channels: input channels (images are converted to match).
        num_classes: number of classes.
    """

    net: Any
    size: int
    channels: int
    num_classes: int

    def _tensor(self, images: np.ndarray) -> Any:
        import torch

        images = as_nhwc(images)
        out = []
        for image in images:
            if image.shape[2] == 3 and self.channels == 1:
                image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)[..., None]
            elif image.shape[2] == 1 and self.channels == 3:
                image = np.repeat(image, 3, axis=2)
            if image.shape[:2] != (self.size, self.size):
                resized = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_AREA)
                image = resized[..., None] if resized.ndim == 2 else resized
            out.append(image)
        array = np.stack(out).astype(np.float32) / 127.5 - 1.0
        return torch.from_numpy(array.transpose(0, 3, 1, 2).copy())

    def _run(self, images: np.ndarray, part: str, batch: int = 512) -> np.ndarray:
        import torch

        x = self._tensor(images)
        self.net.eval()
        outs = []
        with torch.no_grad():
            for i in range(0, len(x), batch):
                h = self.net.features(x[i : i + batch])
                outs.append((self.net.head(h) if part == "logits" else h).numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self.num_classes))

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Class scores, N x num_classes."""
        return self._run(images, "logits")

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The most likely class of each image."""
        return self.logits(images).argmax(axis=1)

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate-layer features (N x 128), the embedding for KID and nearest-neighbour audits."""
        return self._run(images, "features")

    def accuracy(self, images: np.ndarray, labels: np.ndarray) -> float:
        """Fraction of ``images`` classified as ``labels``."""
        return float((self.predict(images) == np.asarray(labels)).mean())


def _network(channels: int, size: int, num_classes: int) -> Any:
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(channels, 32, 3, padding=1),
                nn.BatchNorm2d(32),
                nn.ReLU(),
                nn.Conv2d(32, 32, 3, padding=1),
                nn.BatchNorm2d(32),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1),
                nn.BatchNorm2d(64),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Dropout(0.3),
                nn.Linear(64 * (size // 4) ** 2, 128),
                nn.ReLU(),
            )
            self.head = nn.Linear(128, num_classes)

        def forward(self, x: Any) -> Any:
            return self.head(self.features(x))

    return Net()


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    steps: int = 1500,
    batch_size: int = 64,
    size: int = 16,
    seed: int = 0,
    lr: float = 2e-3,
    shift: int = 1,
) -> ImageClassifier:
    """Train a small CNN on ``images`` (uint8 NxHxWxC) with integer ``labels``.

    Args:
        steps: Adam steps over random batches (with a one-cycle cosine learning-rate decay).
        size: input side (images are area-resized to it; a multiple of 4).
        seed: fixes the initialisation and the batches.
        shift: random translation of up to this many pixels per batch (a little augmentation).

    Returns:
        The trained :class:`ImageClassifier` (in eval mode).
    """
    import torch

    images = as_nhwc(images)
    labels = np.asarray(labels, np.int64)
    num_classes = int(labels.max()) + 1
    channels = int(images.shape[3])
    clf = ImageClassifier(None, size, channels, num_classes)
    x_all = clf._tensor(images)
    y_all = torch.from_numpy(labels)
    torch.manual_seed(seed)
    net = _network(channels, size, num_classes)
    clf.net = net
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(1, steps))
    gen = torch.Generator().manual_seed(seed)
    net.train()
    with torch.enable_grad():  # callers may sit inside no_grad (the trainer's sample hook)
        _fit(net, opt, sched, x_all, y_all, steps, batch_size, shift, gen)
    net.eval()
    return clf


def _fit(net: Any, opt: Any, sched: Any, x_all: Any, y_all: Any, steps: int, batch_size: int, shift: int, gen: Any):
    import torch
    import torch.nn.functional as F

    for _ in range(steps):
        index = torch.randint(0, len(x_all), (min(batch_size, len(x_all)),), generator=gen)
        x = x_all[index]
        if shift:
            dy, dx = (int(v) for v in torch.randint(-shift, shift + 1, (2,), generator=gen))
            x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
        loss = F.cross_entropy(net(x), y_all[index])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()


def label_accuracy(classifier: ImageClassifier, images: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """How often the classifier sees the requested class, per class and averaged over the classes.

    Returns:
        ``{"mean": average of the per-class accuracies, "per_class": [...], "overall": plain fraction}``.
    """
    labels = np.asarray(labels)
    hits = classifier.predict(images) == labels
    per_class = [float(hits[labels == c].mean()) for c in np.unique(labels)]
    return {"mean": float(np.mean(per_class)), "per_class": per_class, "overall": float(hits.mean())}


def classification_accuracy_score(
    generated: np.ndarray,
    generated_labels: np.ndarray,
    real_test: np.ndarray,
    real_test_labels: np.ndarray,
    **train_kwargs: Any,
) -> float:
    """CAS: accuracy on real held-out images of a classifier trained only on generated ones."""
    clf = train_classifier(generated, generated_labels, **train_kwargs)
    return clf.accuracy(real_test, real_test_labels)


def kid(
    features_a: np.ndarray,
    features_b: np.ndarray,
    subsets: int = 50,
    subset_size: int = 100,
    seed: int = 0,
    normalize: bool = True,
) -> dict[str, float]:
    """Kernel inception distance of ``features_a`` to the reference ``features_b`` (unbiased MMD^2).

    The kernel is the standard cubic polynomial ``k(x, y) = (x.y / d + 1)^3`` (degree 3, gamma 1/d, coef 1;
    Binkowski et al. 2018). With ``normalize`` both sets are first expressed in the reference's units: centred
    on the mean of ``features_b`` and divided by one scalar, the RMS per dimension of the centred reference
    features, so ``|x|^2 / d`` averages 1 over the reference. That is a translation and an isotropic scaling:
    the geometry of the features is kept, but the figure no longer depends on the feature network's arbitrary
    scale (raw ReLU activations in the tens make the cubic kernel's values, and KID, huge). The values are
    then comparable with the usual reports: ``x1000`` is KID x 10^3, the unit papers quote. An unbiased
    estimate: two samples of one distribution give values scattered around 0, negative ones included.

    Args:
        features_a: N x d features of the set to score.
        features_b: M x d features of the reference set (it fixes the normalisation).
        subsets: random subsets averaged over.
        subset_size: rows per subset and set (at most the smaller set's size).
        seed: fixes the subsets.
        normalize: express the features in the reference's units (False: the raw features).

    Returns:
        ``{"mean", "std", "x1000"}``: mean and standard deviation over the subsets, and the mean x 10^3.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"kid needs two N x d feature arrays of the same d, got {a.shape} and {b.shape}")
    if normalize:
        centre = b.mean(axis=0)
        rms = float(np.sqrt(((b - centre) ** 2).mean()))
        scale = rms if rms > 0 else 1.0
        a, b = (a - centre) / scale, (b - centre) / scale
    d = a.shape[1]
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("kid needs at least two rows in each set")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx = (x @ x.T / d + 1.0) ** 3
        kyy = (y @ y.T / d + 1.0) ** 3
        kxy = (x @ y.T / d + 1.0) ** 3
        off = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(off - 2.0 * kxy.mean())
    mean = float(np.mean(values))
    return {"mean": mean, "std": float(np.std(values)), "x1000": 1000.0 * mean}
