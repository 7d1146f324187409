"""The adversarial trainer: one generic G/D game for every recipe.

Each step:

1. **D step** (``d_steps`` times): D sees the conditioned, augmented reals and fakes in one forward pass and
   minimises the configured ``gan_loss`` (plus the WGAN-GP penalty, plus the lazy R1 penalty every
   ``r1_every`` steps, weighted ``r1_gamma / 2 * r1_every``).
2. **G step**: G minimises its objective, the weighted sum of named :class:`~imggan.train.losses.LossTerm`
   (``--loss adv=1,l1=10``), each logged on its own. D's weights are frozen; its output on the fake gives
   the adversarial term. This corrects the founding article's example, whose "generator" update called
   ``discriminator.train_on_batch(noise, ones)`` and so never trained G at all.
3. The EMA of G is updated; every ``sample_every`` steps it draws a grid from a fixed batch.

With no active term that needs a discriminator (or no D in the recipe), the D step is skipped entirely:
pure reconstruction pretraining. Learning rates are separate (TTUR); gradients may be clipped and
accumulated over micro-batches; AMP (bf16 on CUDA), channels_last and ``torch.compile`` are options.
A non-finite loss or gradient rolls the state back (:mod:`imggan.train.guard`). Checkpoints hold the full
state and make ``resume=True`` continue exactly; SIGINT/SIGTERM save before exiting. Under torchrun the
ranks train data-parallel (:mod:`imggan.train.distributed`) and only rank 0 writes.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from imggan.train.toy2d import make_recipe
    >>> from imggan.train.trainer import train
    >>> stats = train(make_recipe(), {"steps": 3, "batch_size": 8, "progress": False, "tensorboard": False},
    ...               Path(tempfile.mkdtemp()))
    >>> stats["step"]
    3
"""

from __future__ import annotations

import contextlib
import inspect
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from imggan.device import autocast_dtype, resolve_device
from imggan.errors import ImgganError
from imggan.train import checkpoint as ckpt
from imggan.train import distributed as dist_utils
from imggan.train.augment import BUILTIN_AUGMENTATIONS, AdaController, Augmentation, compose
from imggan.train.config import active_losses, merge_config
from imggan.train.data import BatchStream
from imggan.train.ema import ema_beta, make_ema, update_ema
from imggan.train.gan_losses import call_discriminator, d_accuracy, get_gan_loss, gradient_penalty, r1_penalty
from imggan.train.guard import Snapshot, TrainingDiverged
from imggan.train.interrupt import StopRequest
from imggan.train.losses import BUILTIN_TERMS, LossContext, LossTerm
from imggan.train.monitor import Monitor
from imggan.train.recipe import TrainRecipe
from imggan.train.rng import capture_rng, restore_rng
from imggan.train.samples import default_preview, make_grid, save_png
from imggan.train.schedule import lr_schedule_factor

# Keys a resumed run may change; everything else comes from the checkpoint so the run continues exactly.
RESUME_OVERRIDES = (
    "steps",
    "device",
    "progress",
    "tensorboard",
    "threads",
    "sample_every",
    "sample_count",
    "ckpt_every",
    "keep_last",
    "log_every",
    "check_every",
    "export",
    "prefetch",
    "compile",
)
SAMPLE_SEED_OFFSET = 9_999_991


def _registered_terms() -> dict[str, LossTerm]:
    terms = {t.name: t for t in BUILTIN_TERMS}
    try:
        from imggan.plugins import get_registry

        terms.update(get_registry().losses)
    except Exception:  # the trainer must work without the plugin manager (embedding, tests)
        pass
    return terms


def _registered_augmentations() -> dict[str, Augmentation]:
    augs = {a.name: a for a in BUILTIN_AUGMENTATIONS}
    try:
        from imggan.plugins import get_registry

        augs.update(get_registry().augmentations)
    except Exception:
        pass
    return augs


def _flag(value: Any, auto: bool) -> bool:
    if isinstance(value, str):
        if value.lower() == "auto":
            return auto
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


def _accepts_features(module: nn.Module) -> bool:
    try:
        return "return_features" in inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return False


def _load_init(generator: nn.Module, path: str) -> None:
    from imggan.weights import load_weights

    tensors, _ = load_weights(Path(path))
    own = set(generator.state_dict())
    for prefix in ("", "G_ema/", "G/"):
        candidate = ckpt.strip_prefix(tensors, prefix) if prefix else tensors
        if own and own <= set(candidate):
            generator.load_state_dict({k: candidate[k] for k in own})
            return
    missing = sorted(own - set(tensors))[:5]
    raise ImgganError(f"--init {path}: its tensors do not match the generator (missing e.g. {missing})")


class Trainer:
    """The state of one training run and its step; :func:`train` drives it.

    Args:
        recipe: what to train.
        config: merged config (see :mod:`imggan.train.config`).
        run_dir: where checkpoints, logs and samples go; ``None`` writes nothing (dry runs).
    """

    def __init__(self, recipe: TrainRecipe, config: dict[str, Any], run_dir: Path | None) -> None:
        self.recipe = recipe
        self.config = config
        self.run_dir = run_dir
        self.info = dist_utils.from_env()
        device = resolve_device(config.get("device", "auto"))
        if self.info.enabled and device.type == "cuda":
            device = torch.device("cuda", self.info.local_rank)
        self.device = device
        if device.type == "cuda":  # fixed crop sizes: let cuDNN pick the fastest conv kernels once per shape
            torch.backends.cudnn.benchmark = True
        self.session = dist_utils.Session(self.info, device)  # the process groups, closed in close()
        if int(config.get("threads") or 0) > 0:
            torch.set_num_threads(int(config["threads"]))
        self.writes = run_dir is not None and self.info.is_main

        # The objective.
        known = _registered_terms()
        self.weights = active_losses(config)
        unknown = [name for name in self.weights if name not in known]
        if unknown:
            raise ImgganError(f"unknown loss term(s) {unknown}; known: {', '.join(sorted(known))}")
        if not self.weights:
            raise ImgganError("the generator objective is empty (every --loss weight is 0)")
        self.terms = {name: known[name] for name in self.weights}
        self.gan = get_gan_loss(str(config["gan_loss"]))
        needs_d = any(t.needs_discriminator for t in self.terms.values())
        if needs_d and recipe.build_discriminator is None:
            raise ImgganError(f"recipe {recipe.name!r} has no discriminator but the objective needs one")
        self.use_d = needs_d
        self.needs_real_features = any(t.needs_real_features for t in self.terms.values())

        # Networks: built from the same seed on every rank.
        torch.manual_seed(int(config["seed"]))
        self.G = recipe.build_generator(config).to(device)
        if config.get("init"):
            _load_init(self.G, str(config["init"]))
        self.D: nn.Module | None = None
        if self.use_d:
            assert recipe.build_discriminator is not None
            self.D = recipe.build_discriminator(config)
            if config.get("spectral_norm"):
                from imggan.nn.spectral import apply_spectral_norm

                apply_spectral_norm(self.D)
            self.D = self.D.to(device)
        self.channels_last = _flag(config.get("channels_last", "auto"), device.type == "cuda")
        if self.channels_last:
            self.G = self.G.to(memory_format=torch.channels_last)
            if self.D is not None:
                self.D = self.D.to(memory_format=torch.channels_last)
        self.G_ema = make_ema(self.G)
        self.d_features = self.D is not None and _accepts_features(self.D)

        # Precision.
        amp = config.get("amp", "auto")
        if isinstance(amp, str) and amp.lower() == "auto":
            self.amp_dtype = autocast_dtype(device)
        elif _flag(amp, False):
            self.amp_dtype = autocast_dtype(device) or torch.bfloat16
        else:
            self.amp_dtype = None
        use_scaler = self.amp_dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler(device.type) if use_scaler else None
        self.scaler_d = torch.amp.GradScaler(device.type) if use_scaler and self.D is not None else None

        # Optimizers (TTUR).
        betas = tuple(float(b) for b in config["betas"])
        fused = {"fused": True} if device.type == "cuda" else {}
        self.base_lr = {"g": float(config["lr_g"]), "d": float(config["lr_d"])}
        self._scheduled = str(config.get("lr_schedule") or "constant") != "constant" or int(
            config.get("lr_warmup") or 0
        )
        lr_schedule_factor(config, 0)  # fails early on an unknown schedule name
        wd = float(config.get("weight_decay", 0.0))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.base_lr["g"], betas=betas, weight_decay=wd, **fused)
        self.opt_d = (
            torch.optim.Adam(self.D.parameters(), lr=self.base_lr["d"], betas=betas, weight_decay=wd, **fused)
            if self.D is not None
            else None
        )

        # Distributed wrappers and compilation.
        self.G_train: nn.Module = self.G
        self.D_train: nn.Module | None = self.D
        self._g_ddp: Any = None  # the DDP wrappers, for no_sync() during gradient accumulation
        self._d_ddp: Any = None
        if self.info.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [device.index] if device.type == "cuda" else None
            unused, group = bool(config.get("find_unused")), self.session.ddp_group
            self.G_train = DDP(self.G, device_ids=ids, find_unused_parameters=unused, process_group=group)
            if self.D is not None:
                self.D_train = DDP(self.D, device_ids=ids, find_unused_parameters=unused, process_group=group)
            self._g_ddp, self._d_ddp = self.G_train, self.D_train
        self.D_g = self.D  # D as used inside the G step (no DDP reducer, frozen weights)
        self._compile_pending = bool(config.get("compile"))  # the first step checks that compilation works
        self.pending_events: list[str] = []  # messages for the run's log, drained by the training loop
        if config.get("compile"):
            self.G_train = torch.compile(self.G_train)
            if self.D is not None:
                self.D_train = torch.compile(self.D_train)
                self.D_g = torch.compile(self.D)

        # Augmentation.
        augs = _registered_augmentations()
        names = list(config.get("augment") or [])
        missing = [n for n in names if n not in augs]
        if missing:
            raise ImgganError(f"unknown augmentation(s) {missing}; known: {', '.join(sorted(augs))}")
        self.augment = compose([augs[n] for n in names]) if names else None
        self.ada: AdaController | None = None
        self.aug_p = 0.0
        if self.augment is not None:
            fixed = config.get("augment_p")
            target = config.get("ada_target")
            if fixed is None and target not in (None, False) and float(target) != 0.0:
                self.ada = AdaController(
                    float(config["ada_target"]), int(config["ada_interval"]), float(config["ada_kimg"])
                )
            else:
                self.aug_p = 1.0 if fixed is None else float(fixed)

        # Data.
        prefetch = config.get("prefetch", "auto")
        if prefetch is None or (isinstance(prefetch, str) and prefetch.lower() == "auto"):
            prefetch = 2 if device.type == "cuda" else 0
        self.data_seed = int(config["seed"]) + 1_000_003 * self.info.rank
        self.stream = BatchStream(
            recipe.make_batches, config, self.data_seed, prefetch=int(prefetch), pin=device.type == "cuda"
        )
        self.sample_batch: dict[str, Any] | None = None

        check = config.get("check_every", "auto")
        if check is None or (isinstance(check, str) and check.lower() == "auto"):
            check = 10 if device.type == "cuda" else 1
        self.check_every = max(1, int(check))

        self.step = 0
        self.lr_scale = 1.0
        self.rollbacks = 0
        self._snapshot: Snapshot | None = None
        self._reset_accumulators()

    # ----------------------------------------------------------------------------------------- helpers
    def _reset_accumulators(self) -> None:
        self.history: list[tuple[list[str], Tensor]] = []  # per step: names and values of everything logged
        self._checked: list[tuple[str, Tensor]] = []
        self._unchecked: list[tuple[str, Tensor]] = []
        self.finite = torch.ones((), dtype=torch.bool, device=self.device)
        self.ada_sign_sum = torch.zeros((), device=self.device)
        self.ada_count = 0.0
        self.interval_start = time.perf_counter()
        self.interval_steps = 0

    def _record(self, key: str, value: Tensor, check: bool = True) -> None:
        """Remember a scalar for the log; ``check`` ones also feed the NaN/inf guard (no sync here)."""
        (self._checked if check else self._unchecked).append((key, value.detach().float().reshape(())))

    def _end_step(self) -> None:
        """Stack the step's scalars into one tensor (a handful of kernels, no host sync)."""
        pairs = self._checked + self._unchecked
        if not pairs:
            return
        values = torch.stack([v for _, v in pairs])
        if self._checked:
            self.finite &= torch.isfinite(values[: len(self._checked)]).all()
        self.history.append(([k for k, _ in pairs], values))
        self._checked, self._unchecked = [], []

    def _means(self) -> dict[str, float]:
        """Mean of every logged scalar since the last log (over steps and, under torchrun, ranks)."""
        if not self.history:
            return {}
        flat = torch.cat([values for _, values in self.history])
        if self.info.enabled:
            flat = dist_utils.all_reduce_sum(flat) / self.info.world_size
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        numbers = iter(flat.tolist())
        for keys, _ in self.history:
            for key in keys:
                sums[key] = sums.get(key, 0.0) + next(numbers)
                counts[key] = counts.get(key, 0) + 1
        self.history = []
        return {key: sums[key] / counts[key] for key in sorted(sums)}

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _prepare(self, batch: dict[str, Any]) -> dict[str, Any]:
        batch = self.recipe.prepare_batch(batch, self.device)
        if self.channels_last:
            batch = {
                k: v.contiguous(memory_format=torch.channels_last)
                if isinstance(v, Tensor) and v.ndim == 4 and v.is_floating_point()
                else v
                for k, v in batch.items()
            }
        return batch

    def _d_input(self, batch: dict[str, Any], images: Tensor) -> Tensor:
        x = self.recipe.condition(batch, images)
        p = self.ada.p if self.ada is not None else self.aug_p
        if self.augment is not None and p > 0:
            x = self.augment(x, p)
        return x

    def _objects(self) -> dict[str, Any]:
        return {
            "G": self.G,
            "D": self.D,
            "G_ema": self.G_ema,
            "opt_g": self.opt_g,
            "opt_d": self.opt_d,
            "scaler_g": self.scaler_g,
            "scaler_d": self.scaler_d,
            "ada": self.ada,
        }

    def _set_lr(self) -> None:
        factor = self.lr_scale * lr_schedule_factor(self.config, self.step)
        for group in self.opt_g.param_groups:
            group["lr"] = self.base_lr["g"] * factor
        if self.opt_d is not None:
            for group in self.opt_d.param_groups:
                group["lr"] = self.base_lr["d"] * factor

    def _backward(self, loss: Tensor, scaler: torch.amp.GradScaler | None) -> None:
        (scaler.scale(loss) if scaler is not None else loss).backward()

    def _optimizer_step(self, opt: torch.optim.Optimizer, module: nn.Module, scaler, key: str) -> None:
        if scaler is not None:
            scaler.unscale_(opt)
        clip = float(self.config.get("grad_clip") or 0.0)
        norm = torch.nn.utils.clip_grad_norm_(module.parameters(), clip if clip > 0 else math.inf)
        self._record(f"{key}/grad_norm", norm, check=scaler is None)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    def _micro_batches(self) -> list[dict[str, Any]]:
        return [self._prepare(next(self.stream)) for _ in range(max(1, int(self.config["accum"])))]

    # --------------------------------------------------------------------------------------- the step
    def _d_step(self, micro: list[dict[str, Any]], keep_fakes: bool) -> list[Tensor] | None:
        assert self.D is not None and self.D_train is not None and self.opt_d is not None
        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        r1_gamma = float(self.config.get("r1_gamma") or 0.0)
        r1_every = max(1, int(self.config.get("r1_every") or 1))
        do_r1 = r1_gamma > 0 and self.step % r1_every == 0
        fakes: list[Tensor] = []
        n = len(micro)
        for i, batch in enumerate(micro):
            sync = i == n - 1 or not self.info.enabled
            no_sync = contextlib.nullcontext() if sync else self._d_ddp.no_sync()
            with no_sync:
                with self._autocast():
                    if keep_fakes:
                        fake = self.recipe.generate(self.G_train, batch)
                        fakes.append(fake)
                    else:
                        with torch.no_grad():
                            fake = self.recipe.generate(self.G_train, batch)
                    real_in = self._d_input(batch, self.recipe.real(batch))
                    fake_in = self._d_input(batch, fake.detach())
                    if real_in.shape == fake_in.shape:
                        logits = self.D_train(torch.cat([real_in, fake_in]))
                        if isinstance(logits, tuple):
                            logits = logits[0]
                        l_real, l_fake = logits.float().chunk(2)
                    else:
                        l_real, l_fake = (
                            call_discriminator(self.D_train, x, False)[0].float() for x in (real_in, fake_in)
                        )
                loss = self.gan.d_loss(l_real, l_fake)
                self._record("d/adv", loss)
                if self.gan.gradient_penalty:
                    gp = gradient_penalty(self._plain_d, real_in.float(), fake_in.float())
                    self._record("d/gp", gp)
                    loss = loss + float(self.config["gp_weight"]) * gp
                if do_r1:
                    r1 = r1_penalty(self._plain_d, real_in.float())
                    self._record("d/r1", r1)
                    loss = loss + (r1_gamma / 2.0) * r1_every * r1
                self._record("d/loss", loss)
                self._record("d/real", l_real.mean())
                self._record("d/fake", l_fake.mean())
                self._record("d/acc", d_accuracy(l_real, l_fake, self.gan.threshold))
                if self.ada is not None:
                    self.ada_sign_sum += l_real.detach().sign().sum()
                    self.ada_count += float(l_real.numel())
                self._backward(loss / n, self.scaler_d)
        self._optimizer_step(self.opt_d, self.D, self.scaler_d, "d")
        return fakes if keep_fakes else None

    def _plain_d(self, x: Tensor) -> Tensor:
        assert self.D is not None
        out = self.D(x)
        return out[0] if isinstance(out, tuple) else out

    def _g_step(self, micro: list[dict[str, Any]], fakes: list[Tensor] | None) -> None:
        if self.D is not None:
            self.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        n = len(micro)
        want_features = self.d_features and any(name != "adv" for name in self.terms)
        for i, batch in enumerate(micro):
            sync = i == n - 1 or not self.info.enabled
            no_sync = contextlib.nullcontext() if sync else self._g_ddp.no_sync()
            with no_sync:
                with self._autocast():
                    fake = fakes[i] if fakes is not None else self.recipe.generate(self.G_train, batch)
                    real = self.recipe.real(batch)
                    d_fake = fake_feats = real_feats = None
                    if self.use_d:
                        d_fake, fake_feats = call_discriminator(self.D_g, self._d_input(batch, fake), want_features)
                        if self.needs_real_features:
                            with torch.no_grad():
                                _, real_feats = call_discriminator(self.D_g, self._d_input(batch, real), True)
                ctx = LossContext(
                    batch=batch,
                    fake=fake,
                    real=real,
                    d_fake=d_fake,
                    d_fake_features=fake_feats,
                    d_real_features=real_feats,
                    gan_loss=self.gan.name,
                    config=self.config,
                    step=self.step,
                )
                total = None
                for name, term in self.terms.items():
                    value = term.fn(ctx).float()
                    self._record(f"g/{name}", value)
                    weighted = self.weights[name] * value
                    total = weighted if total is None else total + weighted
                assert total is not None
                self._record("g/total", total)
                self._backward(total / n, self.scaler_g)
        self._optimizer_step(self.opt_g, self.G, self.scaler_g, "g")

    def train_step(self) -> None:
        """One full step: D update(s), G update, EMA update; advances :attr:`step`.

        With ``compile``, compilation happens inside the first step; if it fails there (a compiler bug such as
        torch 2.11 inductor's stride assertion in ``convolution_backward`` under channels_last on CUDA), the
        state is restored, the run goes on with the eager modules and the reason is queued for the log.
        """
        if not self._compile_pending:
            self._train_step()
            return
        self._compile_pending = False
        before = Snapshot(self.step, self._objects())
        rng_tensors, rng_meta = capture_rng()
        try:
            self._train_step()
        except Exception as error:  # noqa: BLE001 - any compiler failure; a real error recurs in the eager retry
            before.restore(self._objects())
            restore_rng(rng_tensors, rng_meta)
            self.step = before.step
            self._reset_accumulators()
            self.G_train = self._g_ddp or self.G
            self.D_train = self._d_ddp or self.D
            self.D_g = self.D
            reason = (str(error).strip().splitlines() or [""])[0][:200]
            self.pending_events.append(f"torch.compile failed ({type(error).__name__}: {reason}); training eager")
            self._train_step()

    def _train_step(self) -> None:
        if self._scheduled:
            self._set_lr()
        self.G.train()
        if self.D is not None:
            self.D.train()
            d_steps = max(1, int(self.config.get("d_steps") or 1))
            for _ in range(d_steps - 1):
                self._d_step(self._micro_batches(), keep_fakes=False)
        micro = self._micro_batches()
        fakes = None
        if self.D is not None:
            fakes = self._d_step(micro, keep_fakes=len(micro) == 1)
        self._g_step(micro, fakes)
        self._end_step()
        beta = float(self.config.get("ema_beta") or 0.0)
        update_ema(self.G_ema, self.G, ema_beta(self.step, beta, float(self.config.get("ema_rampup") or 0.0)))
        self.step += 1
        self.interval_steps += 1
        if self.ada is not None:
            self.ada.accumulate(0.0, 0.0)  # counts the step; the signs are summed on the device

    # --------------------------------------------------------------------------------- checks & logs
    def _check(self, stop: StopRequest | None) -> tuple[bool, bool]:
        """Sync point: (all finite on all ranks, stop requested on any rank)."""
        flags = torch.stack(
            [(~self.finite).float(), torch.tensor(float(bool(stop and stop.requested)), device=self.device)]
        )
        dist_utils.all_reduce_sum(flags)
        bad, stopping = flags.tolist()
        return bad == 0, stopping > 0

    def _ada_update(self) -> None:
        if self.ada is None or not self.ada.due():
            return
        signs = torch.stack([self.ada_sign_sum, torch.tensor(self.ada_count, device=self.device)])
        signs = dist_utils.all_reduce_sum(signs)
        self.ada.sign_sum, self.ada.count = float(signs[0]), float(signs[1])
        images = self.ada.steps * int(self.config["batch_size"]) * int(self.config["accum"]) * self.info.world_size
        self.ada.adjust(images)
        self.ada_sign_sum.zero_()
        self.ada_count = 0.0

    def _log(self, monitor: Monitor) -> dict[str, float]:
        record = self._means()
        if not record:
            return {}
        elapsed = max(time.perf_counter() - self.interval_start, 1e-9)
        images = self.interval_steps * int(self.config["batch_size"]) * int(self.config["accum"])
        record["imgs_per_s"] = images * self.info.world_size / elapsed
        record["lr_g"] = self.opt_g.param_groups[0]["lr"]
        if self.opt_d is not None:
            record["lr_d"] = self.opt_d.param_groups[0]["lr"]
        if self.ada is not None:
            record["ada_p"] = self.ada.p
            if self.ada.last_rt is not None:
                record["ada_rt"] = self.ada.last_rt
        elif self.augment is not None:
            record["ada_p"] = self.aug_p
        monitor.log(self.step, record)
        self.interval_start = time.perf_counter()
        self.interval_steps = 0
        return record

    def take_snapshot(self) -> None:
        """Remember the current state as known-good."""
        self._snapshot = Snapshot(self.step, self._objects())

    def rollback(self, monitor: Monitor) -> None:
        """Restore the last known-good state and lower the learning rates.

        Raises:
            TrainingDiverged: after ``guard_max_rollbacks`` rollbacks.
        """
        self.rollbacks += 1
        limit = int(self.config.get("guard_max_rollbacks", 8))
        if self._snapshot is None or self.rollbacks > limit:
            raise TrainingDiverged(
                f"non-finite losses at step {self.step} after {self.rollbacks - 1} rollback(s); "
                "try a lower learning rate, --set grad_clip=1 or another gan_loss"
            )
        bad_step = self.step
        self._snapshot.restore(self._objects())
        self.step = self._snapshot.step
        self.lr_scale *= float(self.config.get("guard_lr_factor", 0.5))
        self._set_lr()
        self._reset_accumulators()
        monitor.event(
            self.step,
            f"non-finite values at step {bad_step}: rolled back, lr x{self.lr_scale:g}",
            rollbacks=self.rollbacks,
        )

    # ------------------------------------------------------------------------------ samples & export
    def _fixed_batch(self) -> dict[str, Any]:
        if self.sample_batch is None:
            count = int(self.config.get("sample_count") or 64)
            cfg = {**self.config, "batch_size": count}
            with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
                torch.manual_seed(int(self.config["seed"]) + SAMPLE_SEED_OFFSET)
                batch = next(iter(self.recipe.make_batches(cfg, int(self.config["seed"]) + SAMPLE_SEED_OFFSET)))
                self.sample_batch = self.recipe.prepare_batch(batch, self.device)
        return self.sample_batch

    @torch.no_grad()
    def write_samples(self, monitor: Monitor) -> dict[str, float]:
        """EMA samples of the fixed batch as ``RUN/samples/step-N.png`` and ``recipe.evaluate``'s metrics."""
        metrics: dict[str, float] = {}
        if not self.writes:
            return metrics
        assert self.run_dir is not None
        batch = self._fixed_batch()
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(int(self.config["seed"]) + SAMPLE_SEED_OFFSET)
            fake = self.recipe.generate(self.G_ema, batch)
            preview = (self.recipe.preview or default_preview)(fake, batch)
            if preview is not None:
                grid = preview[0] if preview.shape[0] == 1 else make_grid(preview.float().cpu())
                save_png(grid, self.run_dir / "samples" / f"step-{self.step:08d}.png")
                monitor.image(self.step, "samples", grid.float().cpu().clamp(0, 1))
            if self.recipe.evaluate is not None:
                metrics = {f"eval/{k}": float(v) for k, v in self.recipe.evaluate(self.G_ema, self.config).items()}
                monitor.log(self.step, metrics)
        return metrics

    def export(self) -> Path | None:
        """``recipe.export(G_ema, config, run_dir)``, or ``RUN/generator.safetensors`` when it has none."""
        if not self.writes:
            return None
        assert self.run_dir is not None
        return export_model(self.recipe, self.G_ema, self.config, self.run_dir, self.step)

    # ------------------------------------------------------------------------------------ checkpoints
    def _rank_states(self) -> list[tuple[dict[str, Tensor], dict[str, Any]]]:
        tensors, meta = capture_rng()
        meta = {"rng": meta, "stream": self.stream.state_dict()}
        local = ({k: v.cpu() for k, v in tensors.items()}, meta)
        if not self.info.enabled:
            return [local]
        import torch.distributed as dist

        gathered: list[Any] = [None] * self.info.world_size
        dist.all_gather_object(gathered, local)
        return gathered

    def save_checkpoint(self) -> Path | None:
        """Write the full state (every rank's RNG and data position included); only rank 0 writes."""
        ranks = self._rank_states()  # collective: every rank takes part
        if not self.writes:
            return None
        assert self.run_dir is not None
        tensors: dict[str, Tensor] = {}
        tensors.update(ckpt.module_tensors(self.G.state_dict(), "G/"))
        tensors.update(ckpt.module_tensors(self.G_ema.state_dict(), "G_ema/"))
        meta: dict[str, Any] = {"step": self.step, "config": self.config, "recipe": self.recipe.name}
        opt_tensors, meta["opt_g"] = ckpt.flatten_optimizer(self.opt_g.state_dict(), "opt_g/")
        tensors.update(opt_tensors)
        if self.D is not None and self.opt_d is not None:
            tensors.update(ckpt.module_tensors(self.D.state_dict(), "D/"))
            opt_tensors, meta["opt_d"] = ckpt.flatten_optimizer(self.opt_d.state_dict(), "opt_d/")
            tensors.update(opt_tensors)
        for name in ("scaler_g", "scaler_d"):
            scaler = getattr(self, name)
            if scaler is not None:
                meta[name] = scaler.state_dict()
        meta["ada"] = self.ada.state_dict() if self.ada is not None else None
        meta["ada_signs"] = [float(self.ada_sign_sum), self.ada_count]
        meta["guard"] = {"lr_scale": self.lr_scale, "rollbacks": self.rollbacks}
        meta["ranks"] = []
        for rank, (rng_tensors, rank_meta) in enumerate(ranks):
            tensors.update({f"rank{rank}/{k}": v for k, v in rng_tensors.items()})
            meta["ranks"].append(rank_meta)
        path = ckpt.save_checkpoint(ckpt.checkpoint_path(self.run_dir, self.step), tensors, meta)
        ckpt.prune_checkpoints(self.run_dir, int(self.config.get("keep_last") or 0))
        return path

    def load_checkpoint(self, path: Path) -> None:
        """Restore everything :meth:`save_checkpoint` wrote (RNG last, so the next step is the same)."""
        tensors, meta = ckpt.load_checkpoint(path)
        self.G.load_state_dict(ckpt.strip_prefix(tensors, "G/"))
        self.G_ema.load_state_dict(ckpt.strip_prefix(tensors, "G_ema/"))
        self.opt_g.load_state_dict(ckpt.unflatten_optimizer(tensors, meta["opt_g"], "opt_g/"))
        if self.D is not None and self.opt_d is not None:
            if "opt_d" not in meta:
                raise ImgganError(f"{path} has no discriminator state but this run trains one")
            self.D.load_state_dict(ckpt.strip_prefix(tensors, "D/"))
            self.opt_d.load_state_dict(ckpt.unflatten_optimizer(tensors, meta["opt_d"], "opt_d/"))
        for name in ("scaler_g", "scaler_d"):
            scaler = getattr(self, name)
            if scaler is not None and meta.get(name):
                scaler.load_state_dict(meta[name])
        if self.ada is not None and meta.get("ada"):
            self.ada.load_state_dict(meta["ada"])
            sign_sum, self.ada_count = meta.get("ada_signs", [0.0, 0.0])
            self.ada_sign_sum = torch.tensor(float(sign_sum), device=self.device)
        self.lr_scale = float(meta["guard"]["lr_scale"])
        self.rollbacks = int(meta["guard"]["rollbacks"])
        self.step = int(meta["step"])
        ranks = meta["ranks"]
        rank = self.info.rank if len(ranks) == self.info.world_size else None
        if rank is not None:
            self.stream.load_state_dict(ranks[rank]["stream"])
            restore_rng(ckpt.strip_prefix(tensors, f"rank{rank}/"), ranks[rank]["rng"])
        else:  # another world size: fresh per-rank data and RNG, derived from the step
            torch.manual_seed(int(self.config["seed"]) + 7919 * self.info.rank + self.step)

    def close(self) -> None:
        """Stop the data thread, then end the distributed session (see :class:`~imggan.train.distributed.Session`)."""
        self.stream.close()
        self.session.close()


def _resume_config(saved: dict[str, Any], given: dict[str, Any], monitor_warn: list[str]) -> dict[str, Any]:
    config = dict(saved)
    for key, value in given.items():
        if key in RESUME_OVERRIDES:
            config[key] = value
        elif key in saved and saved[key] != value:
            monitor_warn.append(f"--resume keeps the checkpoint's {key}={saved[key]!r} (given {value!r})")
    return config


def _loop_steps(trainer: Trainer, total: int) -> Iterator[int]:
    while trainer.step < total:
        yield trainer.step


def train(recipe: TrainRecipe, config: dict[str, Any], run_dir: Path, resume: bool = False) -> dict[str, Any]:
    """Train ``recipe`` for ``config["steps"]`` steps, writing into ``run_dir``; return the final stats.

    Args:
        recipe: the task's recipe.
        config: the config; keys not given take the trainer's and the recipe's defaults.
        run_dir: the run folder (``checkpoints/``, ``samples/``, ``log.jsonl``, ``tb/``, exported model).
        resume: continue from the newest checkpoint in ``run_dir`` (its config is kept, except ``steps``
            and the keys in :data:`RESUME_OVERRIDES`); starts fresh when there is none.

    Returns:
        ``{"step", "losses" (last logged means), "interrupted", "rollbacks", "checkpoint", "export",
        "ada_p", "seconds", "run_dir"}``.

    Raises:
        TrainingDiverged: the NaN guard ran out of rollbacks.
        ImgganError: a bad config (unknown loss term or augmentation, missing discriminator, ...).
    """
    run_dir = Path(run_dir)
    config = merge_config(recipe.defaults, recipe.losses, cli=config)
    warnings: list[str] = []
    if not resume and ckpt.list_checkpoints(run_dir):
        raise ImgganError(f"{run_dir} already holds a run's checkpoints: pass --resume, or choose another --out")
    latest = ckpt.latest_checkpoint(run_dir) if resume else None
    if latest is not None:
        _, meta = ckpt.load_checkpoint(latest)
        config = _resume_config(meta["config"], config, warnings)
    started = time.perf_counter()
    trainer = Trainer(recipe, config, run_dir)
    try:
        if latest is not None:
            trainer.load_checkpoint(latest)
        else:
            torch.manual_seed(int(config["seed"]) + 7919 * trainer.info.rank)
            if trainer.info.enabled:
                dist_utils.broadcast_module(trainer.G)
                dist_utils.broadcast_module(trainer.G_ema)
        return _run(trainer, latest, warnings, started)
    finally:
        trainer.close()


def _run(trainer: Trainer, latest: Path | None, warnings: list[str], started: float) -> dict[str, Any]:
    config = trainer.config
    total = int(config["steps"])
    log_every = max(1, int(config.get("log_every") or 1))
    check_every = trainer.check_every
    ckpt_every = int(config.get("ckpt_every") or 0)
    sample_every = int(config.get("sample_every") or 0)
    guard_every = max(1, int(config.get("guard_every") or 1))
    monitor = Monitor(
        trainer.run_dir if trainer.writes else None,
        total=total,
        initial=trainer.step,
        progress=bool(config.get("progress", True)),
        tensorboard=bool(config.get("tensorboard", True)),
    )
    if trainer.writes and trainer.run_dir is not None:
        import json

        (trainer.run_dir / "config.json").write_text(json.dumps(config, indent=1, default=str) + "\n")
    with monitor:
        for message in warnings:
            monitor.event(trainer.step, message)
        if latest is not None:
            monitor.event(trainer.step, f"resumed from {latest.name}")
        trainer.take_snapshot()
        last_record: dict[str, float] = {}
        last_ckpt: Path | None = None
        saved_at = trainer.step if latest is not None else -1
        interrupted = False
        stop = StopRequest()
        with stop:
            for _ in _loop_steps(trainer, total):
                trainer.train_step()
                while trainer.pending_events:
                    monitor.event(trainer.step, trainer.pending_events.pop(0))
                monitor.advance()
                at_end = trainer.step >= total
                if trainer.step % check_every == 0 or at_end or trainer.step % log_every == 0:
                    ok, stopping = trainer._check(stop)
                    if not ok:
                        trainer.rollback(monitor)
                        monitor.advance(0)
                        continue
                    trainer._ada_update()
                    if trainer.step - trainer._snapshot.step >= guard_every:  # type: ignore[union-attr]
                        trainer.take_snapshot()
                    if trainer.step % log_every == 0 or at_end or stopping:
                        last_record = trainer._log(monitor) or last_record
                    if stopping:
                        interrupted = True
                        monitor.event(trainer.step, f"stopping on {stop.signal_name or 'request'}: saving")
                        last_ckpt = trainer.save_checkpoint()
                        saved_at = trainer.step
                        break
                if sample_every and trainer.step % sample_every == 0:
                    last_record.update(trainer.write_samples(monitor))
                if ckpt_every and trainer.step % ckpt_every == 0:
                    last_ckpt = trainer.save_checkpoint()
                    saved_at = trainer.step
        if not interrupted:
            if saved_at != trainer.step:
                last_ckpt = trainer.save_checkpoint()
            if not sample_every or trainer.step % sample_every:
                last_record.update(trainer.write_samples(monitor))
        exported = trainer.export() if (not interrupted and config.get("export", True)) else None
    return {
        "step": trainer.step,
        "losses": last_record,
        "interrupted": interrupted,
        "rollbacks": trainer.rollbacks,
        "checkpoint": str(last_ckpt) if last_ckpt else None,
        "export": str(exported) if exported else None,
        "ada_p": trainer.ada.p if trainer.ada is not None else trainer.aug_p,
        "seconds": time.perf_counter() - started,
        "run_dir": str(trainer.run_dir),
    }


def export_model(recipe: TrainRecipe, G_ema: nn.Module, config: dict[str, Any], run_dir: Path, step: int) -> Path:
    """``recipe.export(G_ema, config, run_dir)``, or ``RUN/generator.safetensors`` + card when it has none."""
    if recipe.export is not None:
        return Path(recipe.export(G_ema, config, run_dir))
    from imggan.weights import save_weights

    path = Path(run_dir) / "generator.safetensors"
    card = {
        "task": recipe.name,
        "arch": {"recipe": recipe.name},
        "steps": step,
        "config": {k: v for k, v in config.items() if k != "init"},
    }
    save_weights(path, G_ema.state_dict(), card)
    return path


def export_run(recipe: TrainRecipe, run_dir: Path, checkpoint: str | Path | None = None) -> Path:
    """Export the EMA generator of a checkpoint in ``run_dir`` (default: the newest) without training.

    Args:
        recipe: the run's recipe.
        run_dir: the run folder.
        checkpoint: a step number (``"4000"``) or a checkpoint file; ``None`` = the newest.

    Raises:
        ImgganError: the run has no checkpoint, or not the one asked for.
    """
    if checkpoint is None:
        chosen = ckpt.latest_checkpoint(Path(run_dir))
        if chosen is None:
            raise ImgganError(f"{run_dir} has no checkpoint to export")
    else:
        text = str(checkpoint)
        chosen = ckpt.checkpoint_path(Path(run_dir), int(text)) if text.isdigit() else Path(text).expanduser()
        if not chosen.is_file():
            have = ", ".join(p.stem for p in ckpt.list_checkpoints(Path(run_dir))) or "none"
            raise ImgganError(f"checkpoint {checkpoint}: no such file {chosen} (the run has: {have})")
    tensors, meta = ckpt.load_checkpoint(chosen)
    config = meta["config"]
    torch.manual_seed(int(config["seed"]))
    generator = recipe.build_generator(config)
    generator.load_state_dict(ckpt.strip_prefix(tensors, "G_ema/"))
    generator.eval().requires_grad_(False)
    return export_model(recipe, generator, config, Path(run_dir), int(meta["step"]))


def dry_run(recipe: TrainRecipe, config: dict[str, Any]) -> dict[str, Any]:
    """Build everything and run two steps without writing anything; report shapes, sizes, losses, timing.

    Used by ``imggan train TASK --dry-run`` to check a config before a long run.
    """
    config = merge_config(recipe.defaults, recipe.losses, cli=config)
    trainer = Trainer(recipe, config, None)
    try:
        torch.manual_seed(int(config["seed"]))
        batch = trainer._prepare(next(trainer.stream))
        shapes = {k: list(v.shape) for k, v in batch.items() if isinstance(v, Tensor)}
        trainer.train_step()
        trainer._reset_accumulators()
        t0 = time.perf_counter()
        trainer.train_step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize(trainer.device)
        seconds = time.perf_counter() - t0
        losses = trainer._means()

        def count(m: nn.Module | None) -> int:
            return sum(p.numel() for p in m.parameters()) if m is not None else 0

        return {
            "recipe": recipe.name,
            "device": str(trainer.device),
            "amp": str(trainer.amp_dtype) if trainer.amp_dtype else "fp32",
            "generator_params": count(trainer.G),
            "discriminator_params": count(trainer.D),
            "objective": trainer.weights,
            "batch": shapes,
            "losses": losses,
            "seconds_per_step": seconds,
            "config": config,
        }
    finally:
        trainer.close()
