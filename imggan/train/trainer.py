"""The step runner: one generic G/D training step for every recipe, and the state it advances.

:class:`Trainer` assembles what :mod:`imggan.train.builder` builds and runs the phases of the
:class:`~imggan.train.objective.AdversarialObjective`:

1. **D step** (``d_steps`` times): D sees the conditioned, augmented reals and fakes in one forward pass and
   minimises the D side of ``gan_loss`` (+ WGAN-GP), plus the lazy R1 penalty on its interval.
2. **G step**: G minimises the weighted sum of named terms (``--loss adv=1,l1=10``) with D frozen. This
   corrects the founding article's example, whose "generator" update called
   ``discriminator.train_on_batch(noise, ones)`` and so never trained G at all.
3. The EMA of G is updated (one foreach kernel per op).

Nothing in a step waits for the device: losses and the finiteness flag stay on it
(:class:`~imggan.train.recorder.StepRecorder`) and are read at the check interval, where a non-finite value
rolls the state back to the last snapshot. The training loop (:mod:`imggan.train.loop`) decides when to check,
log, sample and save; :mod:`imggan.train.api` holds :func:`train`, :func:`dry_run` and :func:`export_run`
(importable from here as well).

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
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from imggan.train import builder
from imggan.train import checkpoint as ckpt
from imggan.train import distributed as dist_utils
from imggan.train.ema import ema_beta, update_ema
from imggan.train.guard import Snapshot, TrainingDiverged
from imggan.train.interrupt import StopRequest
from imggan.train.objective import AdversarialObjective
from imggan.train.recipe import TrainRecipe, prepare_on_device
from imggan.train.recorder import StepRecorder
from imggan.train.rng import capture_rng, restore_rng
from imggan.train.samples import SampleWriter
from imggan.train.schedule import lr_schedule_factor


class Trainer:
    """The state of one training run and its step; :func:`imggan.train.api.train` drives it.

    Args:
        recipe: what to train.
        config: the merged, checked config (see :mod:`imggan.train.config`).
        run_dir: where checkpoints, logs and samples go; ``None`` writes nothing (dry runs).
    """

    def __init__(self, recipe: TrainRecipe, config: dict[str, Any], run_dir: Path | None) -> None:
        from imggan.device import resolve_device

        self.recipe, self.config, self.run_dir = recipe, config, run_dir
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

        self.objective = AdversarialObjective(config, recipe.build_discriminator is not None, recipe.name)
        self.nets = builder.build_networks(recipe, config, device, self.objective.uses_discriminator)
        precision = builder.build_precision(config, device, self.nets.D is not None)
        self.amp_dtype, self.scaler_g, self.scaler_d = precision.amp_dtype, precision.scaler_g, precision.scaler_d
        self.opt_g, self.opt_d = builder.build_optimizers(self.nets, config, device)
        self.base_lr = {"g": float(config["lr_g"]), "d": float(config["lr_d"])}
        self._scheduled = str(config.get("lr_schedule") or "constant") != "constant" or int(
            config.get("lr_warmup") or 0
        )
        lr_schedule_factor(config, 0)  # fails early on an unknown schedule name
        builder.wrap_networks(self.nets, config, self.info, device, self.session.ddp_group)
        self._compile_pending = bool(config.get("compile"))  # the first step checks that compilation works
        self.pending_events: list[str] = []  # messages for the run's log, drained by the training loop
        self.aug = builder.build_augment(config)
        self.stream = builder.build_stream(recipe, config, device, self.info)
        self.samples = SampleWriter(recipe, config, device, run_dir if self.writes else None)
        self.check_every = max(1, builder.auto_int(config.get("check_every"), int(config.get("log_every") or 1)))
        self.d_steps = max(1, int(config.get("d_steps") or 1))
        self.accum = max(1, int(config.get("accum") or 1))
        self.grad_clip = float(config.get("grad_clip") or 0.0)
        self.ema_beta = float(config.get("ema_beta") or 0.0)
        self.ema_rampup = float(config.get("ema_rampup") or 0.0)
        self.rec = StepRecorder(device, self.info.world_size)
        self.step = 0
        self.lr_scale = 1.0
        self.rollbacks = 0
        self._snapshot: Snapshot | None = None
        self._reset_accumulators()

    # ------------------------------------------------------------------------ the modules, by their names
    G = property(lambda self: self.nets.G, doc="The generator (eager, unwrapped).")
    D = property(lambda self: self.nets.D, doc="The discriminator, or ``None`` without D phases.")
    G_ema = property(lambda self: self.nets.G_ema, doc="The EMA of G (samples, export).")
    channels_last = property(lambda self: self.nets.channels_last, doc="Modules and batches use channels_last.")
    ada = property(lambda self: self.aug.ada, doc="The ADA controller, or ``None``.")
    aug_p = property(lambda self: self.aug.fixed_p, doc="The fixed augmentation probability (without ADA).")
    weights = property(lambda self: self.objective.weights, doc="The active objective ``{term: weight}``.")

    # --------------------------------------------------------------------------------------- helpers
    def _reset_accumulators(self) -> None:
        self.rec.reset()
        self.ada_sign_sum = torch.zeros((), device=self.device)
        self.ada_count = 0.0

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def prepare(self, batch: dict[str, Any]) -> dict[str, Any]:
        """``recipe.prepare_batch`` on the device (with the config), then channels_last for 4-D float tensors."""
        batch = prepare_on_device(self.recipe, batch, self.device, self.config)
        if self.nets.channels_last:
            batch = {
                k: v.contiguous(memory_format=torch.channels_last)
                if isinstance(v, Tensor) and v.ndim == 4 and v.is_floating_point()
                else v
                for k, v in batch.items()
            }
        return batch

    def _d_input(self, batch: dict[str, Any], images: Tensor) -> Tensor:
        x = self.recipe.condition(batch, images)
        if self.aug.pipeline is not None and self.aug.p > 0:
            x = self.aug.pipeline(x, self.aug.p)
        return x

    def _objects(self) -> dict[str, Any]:
        return {
            "G": self.nets.G,
            "D": self.nets.D,
            "G_ema": self.nets.G_ema,
            "opt_g": self.opt_g,
            "opt_d": self.opt_d,
            "scaler_g": self.scaler_g,
            "scaler_d": self.scaler_d,
            "ada": self.aug.ada,
        }

    def _set_lr(self) -> None:
        factor = self.lr_scale * lr_schedule_factor(self.config, self.step)
        for group in self.opt_g.param_groups:
            group["lr"] = self.base_lr["g"] * factor
        if self.opt_d is not None:
            for group in self.opt_d.param_groups:
                group["lr"] = self.base_lr["d"] * factor

    def _optimizer_step(self, opt: torch.optim.Optimizer, module: nn.Module, scaler: Any, key: str) -> None:
        if scaler is not None:
            scaler.unscale_(opt)
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if self.grad_clip > 0:
            norm = torch.nn.utils.clip_grad_norm_(module.parameters(), self.grad_clip, foreach=True)
        elif grads:
            norm = torch.nn.utils.get_total_norm(grads, foreach=True)  # logged only: no clipping kernels
        else:
            norm = torch.zeros((), device=self.device)
        self.rec.record(f"{key}/grad_norm", norm, check=scaler is None)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()

    def _micro_batches(self) -> list[dict[str, Any]]:
        return [self.prepare(next(self.stream)) for _ in range(self.accum)]

    def _no_sync(self, wrapper: Any, last: bool) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext() if last or wrapper is None else wrapper.no_sync()

    # --------------------------------------------------------------------------------------- the step
    def _d_step(self, micro: list[dict[str, Any]], keep_fakes: bool) -> list[Tensor] | None:
        nets, obj, rec = self.nets, self.objective, self.rec
        assert nets.D is not None and nets.D_train is not None and self.opt_d is not None
        nets.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        phases = obj.phases(self.step)
        fakes: list[Tensor] = []
        for i, batch in enumerate(micro):
            with self._no_sync(nets.d_ddp, i == len(micro) - 1):
                with self._autocast():
                    if keep_fakes:
                        fake = self.recipe.generate(nets.G_train, batch)
                        fakes.append(fake)
                    else:
                        with torch.no_grad():
                            fake = self.recipe.generate(nets.G_train, batch)
                    real_in = self._d_input(batch, self.recipe.real(batch))
                    fake_in = self._d_input(batch, fake.detach())
                    l_real, l_fake = obj.d_logits(nets.D_train, real_in, fake_in)
                loss = obj.d_loss(nets.D, l_real, l_fake, real_in, fake_in, rec)
                if "Dreg" in phases:
                    loss = loss + obj.d_regularizer(nets.D, real_in, rec)
                rec.record("d/loss", loss)
                if self.aug.ada is not None:
                    self.ada_sign_sum += l_real.detach().sign().sum()
                    self.ada_count += float(l_real.numel())
                loss = loss / len(micro)
                (self.scaler_d.scale(loss) if self.scaler_d is not None else loss).backward()
        self._optimizer_step(self.opt_d, nets.D, self.scaler_d, "d")
        return fakes if keep_fakes else None

    def _g_step(self, micro: list[dict[str, Any]], fakes: list[Tensor] | None) -> None:
        nets, obj = self.nets, self.objective
        if nets.D is not None:
            nets.D.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        want_features = nets.d_features and any(name != "adv" for name in obj.terms)
        for i, batch in enumerate(micro):
            with self._no_sync(nets.g_ddp, i == len(micro) - 1):
                with self._autocast():
                    fake = fakes[i] if fakes is not None else self.recipe.generate(nets.G_train, batch)
                    real = self.recipe.real(batch)
                    total = obj.g_loss(batch, fake, real, nets.D_g, self._d_input, want_features, self.step, self.rec)
                total = total / len(micro)
                (self.scaler_g.scale(total) if self.scaler_g is not None else total).backward()
        self._optimizer_step(self.opt_g, nets.G, self.scaler_g, "g")

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
            self.nets.eager()
            reason = (str(error).strip().splitlines() or [""])[0][:200]
            self.pending_events.append(f"torch.compile failed ({type(error).__name__}: {reason}); training eager")
            self._train_step()

    def _train_step(self) -> None:
        if self._scheduled:
            self._set_lr()
        nets = self.nets
        nets.G.train()
        fakes = None
        if nets.D is not None:
            nets.D.train()
            for _ in range(self.d_steps - 1):
                self._d_step(self._micro_batches(), keep_fakes=False)
            micro = self._micro_batches()
            fakes = self._d_step(micro, keep_fakes=len(micro) == 1)
        else:
            micro = self._micro_batches()
        self._g_step(micro, fakes)
        self.rec.end_step()
        update_ema(nets.G_ema, nets.G, ema_beta(self.step, self.ema_beta, self.ema_rampup))
        self.step += 1
        if self.aug.ada is not None:
            self.aug.ada.accumulate(0.0, 0.0)  # counts the step; the signs are summed on the device

    # --------------------------------------------------------------------------------- checks & logs
    def check(self, stop: StopRequest | None) -> tuple[bool, bool]:
        """The sync point: (everything finite on all ranks, stop requested on any rank)."""
        flags = torch.stack(
            [(~self.rec.finite).float(), torch.tensor(float(bool(stop and stop.requested)), device=self.device)]
        )
        dist_utils.all_reduce_sum(flags)
        bad, stopping = flags.tolist()
        return bad == 0, stopping > 0

    _check = check

    def ada_update(self) -> None:
        """Adjust ADA's probability when its interval is due (signs summed over ranks)."""
        ada = self.aug.ada
        if ada is None or not ada.due():
            return
        signs = torch.stack([self.ada_sign_sum, torch.tensor(self.ada_count, device=self.device)])
        signs = dist_utils.all_reduce_sum(signs)
        ada.sign_sum, ada.count = float(signs[0]), float(signs[1])
        ada.adjust(ada.steps * int(self.config["batch_size"]) * self.accum * self.info.world_size)
        self.ada_sign_sum.zero_()
        self.ada_count = 0.0

    def log_record(self) -> dict[str, float]:
        """The interval's means plus throughput, learning rates and ADA state (empty when nothing ran)."""
        record = self.rec.means()
        if not record:
            return {}
        images = int(self.config["batch_size"]) * self.accum * self.info.world_size
        record["imgs_per_s"] = self.rec.throughput(images)
        record["lr_g"] = self.opt_g.param_groups[0]["lr"]
        if self.opt_d is not None:
            record["lr_d"] = self.opt_d.param_groups[0]["lr"]
        if self.aug.ada is not None:
            record["ada_p"] = self.aug.ada.p
            if self.aug.ada.last_rt is not None:
                record["ada_rt"] = self.aug.ada.last_rt
        elif self.aug.pipeline is not None:
            record["ada_p"] = self.aug.fixed_p
        return record

    def take_snapshot(self) -> None:
        """Remember the current state as known-good."""
        self._snapshot = Snapshot(self.step, self._objects())

    @property
    def snapshot_step(self) -> int:
        """The step of the last known-good snapshot (-1 without one)."""
        return self._snapshot.step if self._snapshot is not None else -1

    def rollback(self) -> str:
        """Restore the last known-good state and lower the learning rates; returns the event message.

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
        return f"non-finite values by step {bad_step}: rolled back, lr x{self.lr_scale:g}"

    # ------------------------------------------------------------------------------ samples & export
    def write_samples(self, monitor: Any) -> dict[str, float]:
        """EMA samples of the fixed batch as ``RUN/samples/step-N.png`` and ``recipe.evaluate``'s metrics."""
        return self.samples.write(self.nets.G_ema, self.step, monitor)

    def export(self) -> Path | None:
        """``recipe.export(G_ema, config, run_dir)``, or ``RUN/generator.safetensors`` when it has none."""
        if not self.writes:
            return None
        from imggan.train.api import export_model

        assert self.run_dir is not None
        return export_model(self.recipe, self.nets.G_ema, self.config, self.run_dir, self.step)

    # ------------------------------------------------------------------------------------ checkpoints
    def _rank_states(self) -> list[tuple[dict[str, Tensor], dict[str, Any]]]:
        tensors, meta = capture_rng()
        local = ({k: v.cpu() for k, v in tensors.items()}, {"rng": meta, "stream": self.stream.state_dict()})
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
        tensors, meta = ckpt.capture_state(self, ranks)
        path = ckpt.save_checkpoint(ckpt.checkpoint_path(self.run_dir, self.step), tensors, meta)
        ckpt.prune_checkpoints(self.run_dir, int(self.config.get("keep_last") or 0))
        return path

    def load_checkpoint(self, path: Path, loaded: tuple[dict, dict] | None = None) -> None:
        """Restore everything :meth:`save_checkpoint` wrote (``loaded``: its already read content)."""
        tensors, meta = loaded if loaded is not None else ckpt.load_checkpoint(path)
        ckpt.restore_state(self, tensors, meta, path)

    def close(self) -> None:
        """Stop the data thread, then end the distributed session (see :class:`~imggan.train.distributed.Session`)."""
        self.stream.close()
        self.session.close()


def __getattr__(name: str) -> Any:
    """``train``, ``dry_run``, ``export_run``, ``export_model`` and ``RESUME_OVERRIDES`` are in :mod:`.api`."""
    if name in ("train", "dry_run", "export_run", "export_model", "RESUME_OVERRIDES"):
        from imggan.train import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Trainer", "TrainingDiverged"]
