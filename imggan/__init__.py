"""imggan: a plugin-based, GPU-accelerated GAN toolkit for image processing.

The core holds the plugin manager, the OpenCV image pipeline and batch runner, tiled inference, weights
handling, metrics and the adversarial trainer. Task heads (inpaint, denoise, upscale, ...) are separate
distributions that register through the ``imggan`` entry-point group.

Example:
    >>> import imggan
    >>> imggan.__version__
    '0.1.0'
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imggan")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"

from imggan.hookspecs import hookimpl  # noqa: E402  (plugins write ``@imggan.hookimpl``)

__all__ = ["__version__", "hookimpl"]
