"""imggan-enhance: blind denoising (``imggan denoise``) and x2/x4 upscaling (``imggan upscale``).

The Python API lives in :mod:`imggan_enhance.api`; torch is imported lazily so that loading the plugin for
``imggan --help`` stays cheap.
"""

__version__ = "0.1.0"
