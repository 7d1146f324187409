"""Image-quality metrics that need no downloaded network.

One module per family, all re-exported here:

- :mod:`imggan.metrics.pixels`: PSNR, SSIM, gradient magnitude, hole sharpness, sliced Wasserstein of point sets.
- :mod:`imggan.metrics.patches`: Laplacian pyramids, 7x7 patch descriptors and ProGAN's multi-scale sliced
  Wasserstein distance between image sets (style distance, generator quality, hole texture).
- :mod:`imggan.metrics.generation`: a classifier trained here on real labelled images, the label accuracy of
  generated samples, the classification accuracy score (train on generated, test on real), KID in its features.
- :mod:`imggan.metrics.faces`: a face / non-face CNN trained here against textures made from the faces; the
  face rate of generated samples (faces or face-shaped textures?).
- :mod:`imggan.metrics.inpainting`: hole texture distance (patch SWD inside the hole) and pattern score
  (fine-detail autocorrelation at 8-16 px: invented grids).

Conventions (the benchmarks state them too): 8-bit RGB or BGR arrays, no border crop, PSNR over the given
pixels with peak 255.

Example:
    >>> import numpy as np
    >>> from imggan.metrics import psnr
    >>> a = np.zeros((8, 8, 3), np.uint8); b = a.copy(); b[0, 0, 0] = 16
    >>> round(psnr(a, b), 2)  # one error of 16 among 192 values: MSE 256 / 192
    46.88
"""

from __future__ import annotations

from imggan.metrics.faces import face_negatives, train_face_detector
from imggan.metrics.generation import classification_accuracy_score, kid, label_accuracy, train_classifier
from imggan.metrics.inpainting import hole_texture_distance, image_pattern_score, pattern_score
from imggan.metrics.patches import laplacian_pyramid, multiscale_swd, patch_descriptors
from imggan.metrics.pixels import gradient_magnitude, hole_sharpness, psnr, sliced_wasserstein, ssim

__all__ = [
    "classification_accuracy_score",
    "face_negatives",
    "gradient_magnitude",
    "hole_sharpness",
    "hole_texture_distance",
    "image_pattern_score",
    "kid",
    "label_accuracy",
    "laplacian_pyramid",
    "multiscale_swd",
    "patch_descriptors",
    "pattern_score",
    "psnr",
    "sliced_wasserstein",
    "ssim",
    "train_classifier",
    "train_face_detector",
]
