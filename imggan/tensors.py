"""Conversions between OpenCV images (NumPy, BGR[A], uint8/uint16) and float RGB tensors in [0, 1].

Example:
    >>> import numpy as np
    >>> from imggan.tensors import image_to_tensor, tensor_to_image
    >>> img = np.zeros((4, 5, 3), np.uint8); img[..., 2] = 255        # pure red in BGR
    >>> t = image_to_tensor(img)
    >>> tuple(t.shape), float(t[0, 0].mean())                           # (N, C, H, W), red channel first
    ((1, 3, 4, 5), 1.0)
    >>> bool((tensor_to_image(t, np.uint8) == img).all())
    True
"""

from __future__ import annotations

import numpy as np
import torch


def image_to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """HxW / HxWx3 (BGR) / HxWx4 (BGRA) uint8|uint16|float -> 1xCxHxW float32 RGB(A) in [0, 1]."""
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(image.dtype, 1.0)
    array = image.astype(np.float32) / scale
    if array.ndim == 2:
        array = array[..., None]
    elif array.shape[2] == 3:
        array = array[..., ::-1]
    elif array.shape[2] == 4:
        array = array[..., [2, 1, 0, 3]]
    tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]
    return tensor.to(device)


def images_to_tensor(images: list[np.ndarray], device: torch.device | str = "cpu") -> torch.Tensor:
    """Stack same-size images into one NxCxHxW batch."""
    return torch.cat([image_to_tensor(image) for image in images]).to(device)


def tensor_to_image(tensor: torch.Tensor, dtype: np.dtype | type = np.uint8) -> np.ndarray:
    """1xCxHxW or CxHxW RGB(A) float in [0, 1] -> HxW / HxWx3 BGR / HxWx4 BGRA of ``dtype`` (rounded)."""
    if tensor.ndim == 4:
        if tensor.shape[0] != 1:
            raise ValueError("tensor_to_image takes one image; use tensor_to_images for a batch")
        tensor = tensor[0]
    array = tensor.detach().float().clamp(0, 1).cpu().numpy().transpose(1, 2, 0)
    if array.shape[2] == 1:
        array = array[..., 0]
    elif array.shape[2] == 3:
        array = array[..., ::-1]
    elif array.shape[2] == 4:
        array = array[..., [2, 1, 0, 3]]
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.ascontiguousarray(array.astype(dtype))
    peak = np.iinfo(dtype).max
    return np.ascontiguousarray(np.rint(array * peak).astype(dtype))


def tensor_to_images(tensor: torch.Tensor, dtype: np.dtype | type = np.uint8) -> list[np.ndarray]:
    """NxCxHxW -> list of N images (see :func:`tensor_to_image`)."""
    return [tensor_to_image(t, dtype) for t in tensor]
