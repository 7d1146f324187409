"""A minimal reconstruction-only training loop for the inpainting generator, resumable, one process.

It drives the same recipe functions (batches, masks, fill, generator) as ``imggan train inpaint`` and was
used to pretrain the shipped model with hole L1 + gradient L1 while the core trainer was being written;
the adversarial fine-tune runs through the core trainer (``--init`` from this run's export). Checkpoints
are safetensors (G, EMA of G, Adam moments) + JSON, written atomically; ``--resume`` continues a run.

Example (CLI):
    python -m imggan_inpaint.bootstrap --out ~/.cache/imggan/runs/inpaint-pre --minutes 60 --threads 1
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from imggan_inpaint import losses
from imggan_inpaint import recipes as recipe


def _save(run: Path, step: int, g, ema, opt, config: dict, elapsed: float) -> None:
    from imggan.weights import save_weights

    tensors = {f"g.{k}": v for k, v in g.state_dict().items()}
    tensors.update({f"ema.{k}": v for k, v in ema.state_dict().items()})
    for i, state in opt.state.items():
        for name in ("exp_avg", "exp_avg_sq"):
            tensors[f"opt.{i}.{name}"] = state[name]
        tensors[f"opt.{i}.step"] = torch.as_tensor(state["step"], dtype=torch.float32).reshape(1)
    meta = {"step": step, "elapsed_s": elapsed, "config": config}
    save_weights(run / "checkpoint.safetensors", tensors, meta)
    recipe.export(ema, {**config, "steps_done": step, "train_seconds": round(elapsed)}, run)


def _load(run: Path, g, ema, opt) -> tuple[int, float]:
    from imggan.weights import load_weights

    tensors, meta = load_weights(run / "checkpoint.safetensors")
    g.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("g.")})
    ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    params = [p for group in opt.param_groups for p in group["params"]]
    for i, p in enumerate(params):
        if f"opt.{i}.exp_avg" in tensors:
            opt.state[p] = {
                "step": tensors[f"opt.{i}.step"][0].clone(),
                "exp_avg": tensors[f"opt.{i}.exp_avg"],
                "exp_avg_sq": tensors[f"opt.{i}.exp_avg_sq"],
            }
    return int(meta["step"]), float(meta["elapsed_s"])


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and train until ``--steps`` or ``--minutes`` is reached."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--grad-weight", type=float, default=0.5)
    ap.add_argument("--save-every", type=int, default=500)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = dict(recipe.DEFAULTS)
    if args.data:
        config["data"] = str(args.data)
    config["losses"] = {"hole_l1": 1.0, "hole_grad": args.grad_weight}
    run: Path = args.out.expanduser()
    run.mkdir(parents=True, exist_ok=True)
    g = recipe.build(config)
    ema = recipe.build(config)
    ema.load_state_dict(g.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.Adam(g.parameters(), lr=config["lr_g"], betas=(0.9, 0.99))
    step, elapsed = 0, 0.0
    if args.resume and (run / "checkpoint.safetensors").is_file():
        step, elapsed = _load(run, g, ema, opt)
    batches = recipe.make_batches(config, args.seed + step)
    device = torch.device("cpu")
    log = (run / "log.jsonl").open("a")
    start = time.time() - elapsed
    running = 0.0
    while step < args.steps and (time.time() - start) < args.minutes * 60:
        batch = recipe.prepare_batch(next(batches), device)
        fake = recipe.generate(g, batch)
        l1 = losses.hole_l1(fake, batch["target"], batch["hole"])
        loss = l1 + args.grad_weight * losses.hole_grad(fake, batch["target"], batch["hole"])
        if not torch.isfinite(loss):
            continue
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(g.parameters(), config["grad_clip"])
        opt.step()
        with torch.no_grad():
            decay = min(config["ema_beta"], (1 + step) / (10 + step))
            for pe, pg in zip(ema.parameters(), g.parameters(), strict=True):
                pe.lerp_(pg, 1 - decay)
        step += 1
        running = 0.98 * running + 0.02 * float(l1.detach()) if step > 1 else float(l1.detach())
        if step % 50 == 0:
            log.write(json.dumps({"step": step, "hole_l1": round(running, 5), "t": round(time.time() - start)}) + "\n")
            log.flush()
        if step % args.save_every == 0:
            _save(run, step, g, ema, opt, config, time.time() - start)
    _save(run, step, g, ema, opt, config, time.time() - start)


if __name__ == "__main__":
    main()
