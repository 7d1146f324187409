"""``imggan generate`` (images from noise) and ``imggan audit`` (does the generator copy its training set?).

Both are plain click commands added through ``register_commands``: generation reads no input images, so the
core's per-image batch runner does not fit it. Errors are one line with exit status 2 (usage), as for every
imggan command; torch is imported only when a command runs.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

GENERATE_HELP = """Generate new images from noise with a trained generator.

\b
Modes (one at a time):
  -n N            N images into the folder -o (seed-<S>.png, one seed per image: S, S+1, ...);
                  the other modes write one file: -o FILE, or a name of their own inside -o FOLDER/
                  (a path without a suffix is a folder)
  --grid          the N images as one PNG (-o FILE.png); a conditional model without --label
                  puts one class per column
  --interpolate A,B --steps K
                  the latent walk from seed A's image to seed B's: a strip PNG and an animated
                  GIF (or WebP: -o walk.webp) beside it; its ends are exactly seeds A and B
  --explore       GANSpace-style principal directions of G's first-layer features (or of the
                  latent, --explore-space latent): one grid row per direction, from -2 to +2
                  standard deviations, plus a JSON file with the directions' statistics
\b
Examples:
  imggan generate --model digits -n 20 --label 7 -o sevens/
  imggan generate --model digits --grid -n 100 --zoom 4 -o digits.png
  imggan generate --model emoji --label Flags --grid -n 20 --zoom 3 -o out/   (out/grid-Flags.png)
  imggan generate --model faces --interpolate 3,11 --steps 12 --zoom 4 -o walk.png
  imggan generate --model faces --explore --zoom 4 -o explore.png
  imggan generate --model runs/faces -n 8 --truncation 0.7 -o out/   (a run: its export/generate.safetensors)
"""

AUDIT_HELP = """Memorisation audit: how close do generated samples come to the training images?

\b
Draws -n samples and finds, for each, its nearest training image, in pixels (RMS distance on [0, 1]) and in
the features of a network trained here on --data (the label classifier for a class-folder set, else a small
autoencoder). The reference is the distance between distinct training images: the closest pair and the median
nearest-neighbour distance. A sample closer to a training image than the closest training pair is counted.
Writes OUT/audit.json and OUT/closest-pairs.png (the closest samples, each above its nearest training image;
closest-pairs-features.png: the same in the feature space).
--mirror adds the left-right mirrored training images as references (a model trained with random flips may
copy one mirrored; on by default for such a model, read from its card's config).

\b
The yardstick: new real images are counted too. A fresh draw of the data distribution beats the closest pair
of n training images with probability 2/(n+1) (it is then one of the closest pair among all n+1): 2.8 % for
the 70 train faces, 0.16 % for 1,259 digits. The report gives that expected rate, the leave-one-out rate (each training
image audited against the others) and, with --held-out DATA (real images not trained on), their measured
rate; the model is FLAGGED when its count is improbably high for new real images (one-sided p < --alpha,
allowing for how much the rate varies with the training set). --strict exits 1 when it is flagged.

\b
Examples:
  imggan audit --model digits --data sklearn:digits -o audit-digits/
  imggan audit --model faces --data skimage:lfw-faces:train --held-out skimage:lfw-faces:test -o audit-faces/
"""


def _fail(message: str) -> None:
    raise click.UsageError(message)


def _seeds(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
        _fail(f"--interpolate {text}: give two seeds as A,B (e.g. 3,11)")
    return int(parts[0]), int(parts[1])


def _file_in(out: Path | None, name: str) -> Path:
    """The output file of a one-file mode: ``out`` itself, or ``out/name`` when ``out`` is a folder or has no suffix."""
    if out is None:
        return Path("imggan-out") / name
    return out / name if out.is_dir() or not out.suffix else out


def _check_free(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        _fail(f"{path} exists; pass --overwrite to replace it")


@click.command("generate", help=GENERATE_HELP, short_help="Generate images from noise (no input images).")
@click.option("--model", metavar="NAME|PATH", help="Registered generator (see `imggan models --task generate`).")
@click.option("-n", "count", type=click.IntRange(1, 100_000), default=16, show_default=True, help="How many.")
@click.option("--label", metavar="K", help="Class index or name, for conditional models.")
@click.option("--seed", type=int, default=0, show_default=True, help="First seed (image i uses seed + i).")
@click.option(
    "--truncation",
    type=click.FloatRange(0.0, 2.0, min_open=True),
    default=1.0,
    show_default=True,
    help="Scale the latents by PSI (< 1: more typical, less varied).",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Folder (-n) or file (other modes).")
@click.option("--grid", is_flag=True, help="Write the N images as one grid PNG.")
@click.option("--columns", type=click.IntRange(1), help="Grid columns.")
@click.option("--interpolate", "walk", metavar="A,B", help="Latent walk between the images of seeds A and B.")
@click.option("--steps", type=click.IntRange(2, 1000), default=10, show_default=True, help="Walk / row length.")
@click.option("--explore", is_flag=True, help="Grid along the principal directions (GANSpace).")
@click.option("--components", type=click.IntRange(1, 64), default=6, show_default=True, help="Directions.")
@click.option("--explore-space", type=click.Choice(["features", "latent"]), default="features", show_default=True)
@click.option("--zoom", type=click.IntRange(1, 32), default=1, show_default=True, help="Enlarge (nearest) by Z.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No summary line.")
def generate_command(**kw: Any) -> None:
    """See GENERATE_HELP."""
    from imggan.errors import ImgganError

    modes = [name for name in ("grid", "walk", "explore") if kw[name]]
    if len(modes) > 1:
        _fail("--grid, --interpolate and --explore are separate modes: choose one")
    try:
        written = _generate(kw, modes[0] if modes else "images")
    except ImgganError as exc:
        _fail(str(exc))
    if not kw["quiet"]:
        click.echo(
            f"imggan generate: wrote {', '.join(str(p) for p in written[:3])}"
            + (f" and {len(written) - 3} more" if len(written) > 3 else ""),
            err=True,
        )


def _generate(kw: dict[str, Any], mode: str) -> list[Path]:
    from imggan_generate import api, render

    model = api.load_generator(kw["model"], kw["device"])
    out: Path | None = kw["output"]
    zoom = kw["zoom"]
    if mode == "images":
        folder = out or Path("imggan-out")
        if folder.suffix.lower() in (".png", ".jpg", ".webp", ".bmp", ".tif") and kw["count"] == 1:
            targets = [folder]
        else:
            targets = [folder / f"seed-{kw['seed'] + i:06d}.png" for i in range(kw["count"])]
        images = render.zoom(api.generate(model, kw["count"], kw["label"], kw["seed"], kw["truncation"]), zoom)
        written = []
        for path, image in zip(targets, images, strict=True):
            if path.exists() and not kw["overwrite"]:
                continue
            written.append(render.write_png(path, image))
        return written
    if mode == "grid":
        tag = "" if kw["label"] is None else "-" + re.sub(r"[^A-Za-z0-9_]+", "-", str(kw["label"])).strip("-")
        path = _file_in(out, f"grid{tag}.png")
        _check_free(path, kw["overwrite"])
        images = render.zoom(api.generate(model, kw["count"], kw["label"], kw["seed"], kw["truncation"]), zoom)
        columns = kw["columns"] or (model.num_classes if model.num_classes and kw["label"] is None else None)
        return [render.write_png(path, render.grid(images, columns))]
    if mode == "walk":
        a, b = _seeds(kw["walk"])
        path = _file_in(out, f"walk-{a}-{b}.png")
        animated = path.with_suffix(".gif") if path.suffix.lower() not in (".gif", ".webp") else path
        strip_path = path if path.suffix.lower() not in (".gif", ".webp") else path.with_suffix(".png")
        for target in (strip_path, animated):
            _check_free(target, kw["overwrite"])
        frames = render.zoom(api.interpolate(model, a, b, kw["steps"], kw["label"], kw["truncation"]), zoom)
        return [
            render.write_png(strip_path, render.grid(frames, len(frames))),
            render.write_animation(animated, frames),
        ]
    path = _file_in(out, "explore.png")
    meta_path = path.with_suffix(".json")
    for target in (path, meta_path):
        _check_free(target, kw["overwrite"])
    found = api.explore(
        model, kw["components"], kw["steps"], seed=kw["seed"], label=kw["label"], space=kw["explore_space"]
    )
    rows = render.zoom(found.images.reshape(-1, *found.images.shape[2:]), zoom)
    render.write_png(path, render.grid(rows, found.images.shape[1]))
    meta = {
        "model": model.name,
        "space": found.space,
        "seed": kw["seed"],
        "offsets_in_stddevs": found.offsets.round(3).tolist(),
        "stddevs": found.stddevs.round(5).tolist(),
        "explained_variance": found.explained.round(5).tolist(),
        "dimension": int(found.directions.shape[1]),
    }
    from imggan.weights import atomic_write_bytes

    atomic_write_bytes(meta_path, (json.dumps(meta, indent=2) + "\n").encode())
    return [path, meta_path]


@click.command("audit", help=AUDIT_HELP, short_help="Memorisation audit: nearest training images of samples.")
@click.option("--model", metavar="NAME|PATH", help="Registered generator or a .safetensors file.")
@click.option(
    "--data",
    required=True,
    help="Training images: a folder (or class folders), sklearn:digits, skimage:lfw-faces[:split].",
)
@click.option("-n", "count", type=click.IntRange(1, 100_000), default=2000, show_default=True, help="Samples.")
@click.option("--seed", type=int, default=0, show_default=True, help="First sample seed.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("imggan-audit"), show_default=True)
@click.option("--pairs", type=click.IntRange(1, 256), default=16, show_default=True, help="Pairs in the PNG.")
@click.option("--zoom", type=click.IntRange(1, 32), default=4, show_default=True, help="Enlarge the PNG by Z.")
@click.option("--features/--no-features", default=True, show_default=True, help="Also audit in trained features.")
@click.option("--feature-steps", type=click.IntRange(1), default=None, help="Their training steps [default: 600].")
@click.option(
    "--held-out",
    metavar="DATA",
    help="Real images not trained on (e.g. skimage:lfw-faces:test); a folder is read and resized like --data.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="Level of the one-sided test against new real images.",
)
@click.option(
    "--mirror/--no-mirror",
    default=None,
    help="Also compare with the mirrored training images [default: on when the model trained with flips].",
)
@click.option("--device", default="auto", show_default=True)
@click.option("--strict", is_flag=True, help="Exit 1 when the model is flagged.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit_command(**kw: Any) -> None:
    """See AUDIT_HELP."""
    from imggan.errors import ImgganError
    from imggan_generate.api import load_generator
    from imggan_generate.audit import audit, format_report

    try:
        model = load_generator(kw["model"], kw["device"])
        report = audit(
            model,
            kw["data"],
            count=kw["count"],
            seed=kw["seed"],
            out=kw["output"],
            pairs=kw["pairs"],
            zoom=kw["zoom"],
            features=kw["features"],
            feature_steps=kw["feature_steps"],
            mirror=kw["mirror"],
            held_out=kw["held_out"],
            alpha=kw["alpha"],
        )
    except ImgganError as exc:
        _fail(str(exc))
    click.echo(json.dumps(report, indent=2) if kw["as_json"] else format_report(report))
    if kw["strict"] and report["flagged"]:
        sys.exit(1)
