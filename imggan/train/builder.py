"""Construction of what a run trains with: networks, precision, optimizers, wrappers, augmentation, data.

Each function reads the typed config and returns plain objects, so the step runner
(:class:`imggan.train.trainer.Trainer`) only assembles them:

- :func:`build_networks`: G (from ``--init`` weights when given), D (spectral norm on request),
  channels_last, the EMA copy of G; every rank builds from the same seed.
- :func:`build_precision`: the autocast dtype (bf16 on CUDA by default) and the fp16 GradScalers.
- :func:`build_optimizers`: Adam for G and D (TTUR) with the fastest kernel the device has: fused on CUDA,
  foreach (one kernel per op over all tensors) elsewhere.
- :func:`wrap_networks`: DistributedDataParallel under torchrun, ``torch.compile`` on request; the eager
  modules stay reachable for the compile fallback.
- :func:`build_augment`: DiffAugment composition and the ADA controller.
- :func:`build_stream`: the (prefetching) batch stream of ``recipe.make_batches``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from imggan.errors import ImgganError
from imggan.train.augment import BUILTIN_AUGMENTATIONS, AdaController, Augmentation, compose
from imggan.train.data import BatchStream
from imggan.train.distributed import DistInfo
from imggan.train.ema import make_ema
from imggan.train.recipe import TrainRecipe


def flag(value: Any, auto: bool) -> bool:
    """A ``true | false | "auto"`` config value as a bool (``auto`` -> ``auto``)."""
    if isinstance(value, str):
        if value.lower() == "auto":
            return auto
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


def auto_int(value: Any, auto: int) -> int:
    """An ``int | "auto"`` config value (``auto`` or ``None`` -> ``auto``)."""
    if value is None or (isinstance(value, str) and value.lower() == "auto"):
        return auto
    return int(value)


def accepts_features(module: nn.Module) -> bool:
    """Whether ``module.forward`` takes ``return_features`` (feature-matching discriminators)."""
    try:
        return "return_features" in inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return False


@dataclass
class Networks:
    """The run's modules.

    Attributes:
        G, D, G_ema: the eager modules (``D`` is ``None`` without D phases); checkpoints hold these.
        G_train, D_train: what the steps call (DDP- and/or compile-wrapped).
        D_g: D as the G step calls it (no DDP reducer; compiled when ``compile``).
        g_ddp, d_ddp: the DDP wrappers (for ``no_sync`` during accumulation), or ``None``.
        channels_last: the modules and 4-D float batches use the channels_last memory format.
        d_features: D accepts ``return_features``.
    """

    G: nn.Module
    D: nn.Module | None
    G_ema: nn.Module
    channels_last: bool
    d_features: bool
    G_train: nn.Module | None = None
    D_train: nn.Module | None = None
    D_g: nn.Module | None = None
    g_ddp: Any = None
    d_ddp: Any = None

    def eager(self) -> None:
        """Drop ``torch.compile``: train through the (DDP-wrapped) eager modules."""
        self.G_train = self.g_ddp or self.G
        self.D_train = self.d_ddp or self.D
        self.D_g = self.D


def build_networks(recipe: TrainRecipe, config: dict[str, Any], device: torch.device, with_d: bool) -> Networks:
    """G (initialised from ``config["init"]`` when set), D when ``with_d``, their layout and G's EMA."""
    torch.manual_seed(int(config["seed"]))
    G = recipe.build_generator(config).to(device)
    if config.get("init"):
        from imggan.train.finetune import load_init

        load_init(G, str(config["init"]))
    D: nn.Module | None = None
    if with_d:
        assert recipe.build_discriminator is not None
        D = recipe.build_discriminator(config)
        if config.get("spectral_norm"):
            from imggan.nn.spectral import apply_spectral_norm

            apply_spectral_norm(D)
        D = D.to(device)
    channels_last = flag(config.get("channels_last", "auto"), device.type == "cuda")
    if channels_last:
        G = G.to(memory_format=torch.channels_last)
        if D is not None:
            D = D.to(memory_format=torch.channels_last)
    return Networks(G, D, make_ema(G), channels_last, D is not None and accepts_features(D))


def wrap_networks(
    nets: Networks, config: dict[str, Any], info: DistInfo, device: torch.device, group: Any = None
) -> None:
    """Wrap for training: DDP across ranks, then ``torch.compile`` when ``config["compile"]``.

    ``group`` is the process group DDP reduces over (the distributed session's own DDP group, see
    :class:`~imggan.train.distributed.Session`); ``None`` means the default group.
    """
    nets.eager()
    if info.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        unused = bool(config.get("find_unused"))
        ddp = {"device_ids": ids, "find_unused_parameters": unused, "process_group": group}
        nets.G_train = nets.g_ddp = DDP(nets.G, **ddp)
        if nets.D is not None:
            nets.D_train = nets.d_ddp = DDP(nets.D, **ddp)
    if config.get("compile"):
        nets.G_train = torch.compile(nets.G_train)
        if nets.D is not None:
            nets.D_train = torch.compile(nets.D_train)
            nets.D_g = torch.compile(nets.D)


@dataclass
class Precision:
    """Autocast dtype (``None``: fp32) and the GradScalers fp16 needs (``None`` otherwise)."""

    amp_dtype: torch.dtype | None
    scaler_g: Any
    scaler_d: Any


def build_precision(config: dict[str, Any], device: torch.device, with_d: bool) -> Precision:
    """``amp``: ``auto`` = bf16 on CUDA, fp32 on the CPU; ``true`` = the device's autocast dtype (bf16)."""
    from imggan.device import autocast_dtype

    amp = config.get("amp", "auto")
    if isinstance(amp, str) and amp.lower() == "auto":
        dtype = autocast_dtype(device)
    elif flag(amp, False):
        dtype = autocast_dtype(device) or torch.bfloat16
    else:
        dtype = None
    scaled = dtype == torch.float16
    return Precision(
        dtype,
        torch.amp.GradScaler(device.type) if scaled else None,
        torch.amp.GradScaler(device.type) if scaled and with_d else None,
    )


def optimizer_kernel(config: dict[str, Any], device: torch.device) -> dict[str, bool]:
    """Adam's implementation flags: ``fused`` on CUDA, ``foreach`` elsewhere (``optimizer_impl`` overrides)."""
    impl = str(config.get("optimizer_impl") or "auto")
    if impl == "auto":
        impl = "fused" if device.type == "cuda" else "foreach"
    if impl == "fused":
        return {"fused": True}
    if impl == "foreach":
        return {"foreach": True}
    return {"foreach": False}


def build_optimizers(
    nets: Networks, config: dict[str, Any], device: torch.device
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer | None]:
    """Adam for G (``lr_g``) and D (``lr_d``), same betas and weight decay."""
    betas = tuple(float(b) for b in config["betas"])
    wd = float(config.get("weight_decay", 0.0))
    kernel = optimizer_kernel(config, device)

    def adam(module: nn.Module, lr: float) -> torch.optim.Optimizer:
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas, weight_decay=wd, **kernel)

    opt_g = adam(nets.G, float(config["lr_g"]))
    opt_d = adam(nets.D, float(config["lr_d"])) if nets.D is not None else None
    return opt_g, opt_d


def registered_augmentations() -> dict[str, Augmentation]:
    """The built-in augmentations and every one a plugin registered."""
    augs = {a.name: a for a in BUILTIN_AUGMENTATIONS}
    try:
        from imggan.plugins import get_registry

        augs.update(get_registry().augmentations)
    except Exception:
        pass
    return augs


@dataclass
class AugmentState:
    """D's input augmentation: the composed pipeline, the ADA controller or a fixed probability."""

    pipeline: Any = None
    ada: AdaController | None = None
    fixed_p: float = 0.0

    @property
    def p(self) -> float:
        """The probability in use now."""
        return self.ada.p if self.ada is not None else self.fixed_p


def build_augment(config: dict[str, Any]) -> AugmentState:
    """``augment`` names composed; ADA when ``augment_p`` is unset and ``ada_target`` is non-zero.

    Raises:
        ImgganError: an unknown augmentation name.
    """
    augs = registered_augmentations()
    names = list(config.get("augment") or [])
    missing = [n for n in names if n not in augs]
    if missing:
        raise ImgganError(f"unknown augmentation(s) {missing}; known: {', '.join(sorted(augs))}")
    if not names:
        return AugmentState()
    state = AugmentState(compose([augs[n] for n in names]))
    fixed, target = config.get("augment_p"), config.get("ada_target")
    if fixed is None and target not in (None, False) and float(target) != 0.0:
        state.ada = AdaController(float(target), int(config["ada_interval"]), float(config["ada_kimg"]))
    else:
        state.fixed_p = 1.0 if fixed is None else float(fixed)
    return state


def build_stream(recipe: TrainRecipe, config: dict[str, Any], device: torch.device, info: DistInfo) -> BatchStream:
    """The batch stream: a different data seed per rank; prefetching (``auto``: 2 batches) on CUDA."""
    prefetch = auto_int(config.get("prefetch", "auto"), 2 if device.type == "cuda" else 0)
    seed = int(config["seed"]) + 1_000_003 * info.rank
    return BatchStream(recipe.make_batches, config, seed, prefetch=prefetch, pin=device.type == "cuda")
