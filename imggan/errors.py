"""Errors that reach users: each carries a message that says what went wrong and what to do."""


class ImgganError(Exception):
    """Base class for errors reported to the user as one clear line (no traceback)."""


class ImageReadError(ImgganError):
    """An input file could not be read as an image (missing, empty, truncated, not an image)."""


class ImageTooLargeError(ImageReadError):
    """An image's header announces more pixels than the configured limit allows."""


class MaskError(ImgganError):
    """A task needed a mask and none could be found, or the mask found is unusable."""


class ModelNotFoundError(ImgganError):
    """A ``--model`` name or path does not resolve to weights on disk."""


class ModelLoadError(ModelNotFoundError):
    """Weights were found but cannot serve the task: a checkpoint, another task's model, a malformed or
    missing card, an unknown architecture, or tensors that do not fit it. The message names the file."""


class PluginLoadError(ImgganError):
    """A plugin's entry point failed to import or register."""
