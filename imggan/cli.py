"""The ``imggan`` command line: a click group whose task commands come from the registered plugins.

``imggan <task>`` is generated from each registered :class:`imggan.task.Task`: the common options below
plus the task's own options and side inputs. Plugins add further commands through ``register_commands``
(the trainer adds ``imggan train``). Exit codes: 0 all done, 1 some inputs failed (each named on
stderr, the rest processed), 2 usage errors.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

import click

from imggan import __version__
from imggan.errors import ImgganError

DEVICE_HELP = "auto|cpu|cuda[:N]|mps (auto: a CUDA GPU, else Apple's MPS, else the CPU)."  # = imggan.device's

COMMON_HELP = """
\b
INPUT is a file, a folder or a glob (quote globs: 'photos/*.jpg'). Results go to -o (a folder; a file
name for a single input), mirroring each input's path relative to its folder; the default folder is
./imggan-out. Existing outputs are skipped unless --overwrite, so an interrupted run can simply be
started again. An input file is never overwritten.
"""


def _echo_error(path: Path, reason: str) -> None:
    """Name a failed input on stderr (above the progress bar) with its reason."""
    from tqdm.auto import tqdm

    message = reason if reason.startswith(str(path)) else f"{path}: {reason}"
    tqdm.write(f"imggan: failed: {message}", file=sys.stderr)


def _common_options() -> list[click.Parameter]:
    return [
        click.Option(
            ["-o", "--output"], type=click.Path(path_type=Path), help="Output folder (or file for one input)."
        ),
        click.Option(
            ["--model"],
            metavar="NAME|PATH|RUN",
            help="A registered model (`imggan models`), a .safetensors file, or a training run folder (its export/).",
        ),
        click.Option(["--device"], default="auto", show_default=True, help=DEVICE_HELP),
        click.Option(
            ["--batch-size"],
            type=click.IntRange(1),
            default=1,
            show_default=True,
            help="Same-size images per model call.",
        ),
        click.Option(
            ["--tile"],
            type=click.IntRange(0),
            default=None,
            help="Process large images in tiles of this side (0 = whole image).",
        ),
        click.Option(
            ["--format", "fmt"],
            type=click.Choice(["keep", "png", "jpg", "webp", "tif", "bmp"]),
            default="keep",
            show_default=True,
            help="Output format; keep = the input's.",
        ),  # fmt: skip
        click.Option(
            ["--jpeg-quality"],
            type=click.IntRange(1, 100),
            default=95,
            show_default=True,
            help="JPEG/WebP quality.",
        ),
        click.Option(["--overwrite"], is_flag=True, help="Redo outputs that already exist."),
        click.Option(["-r", "--recursive"], is_flag=True, help="Walk folders recursively."),
        click.Option(["--shard"], metavar="I/N", help="Process only shard I of N (0 <= I < N), e.g. for a job array."),
        click.Option(
            ["--max-pixels"],
            type=click.IntRange(1),
            default=None,
            help="Refuse images larger than this many pixels (default 100M).",
        ),
        click.Option(
            ["--threads"],
            type=click.IntRange(1),
            default=None,
            help="CPU threads for the model (default: torch's choice, one per core).",
        ),  # fmt: skip
        click.Option(["-q", "--quiet"], is_flag=True, help="No progress bar or summary."),
    ]


def _side_dest(name: str) -> str:
    """The click parameter name of a side input's option (kept apart from the task's own options)."""
    return "side_" + name.replace("-", "_")


def make_task_command(task: Any) -> click.Command:
    """Build ``imggan <task>`` for a registered task."""
    from imggan.io import DEFAULT_MAX_PIXELS

    params: list[click.Parameter] = [click.Argument(["inputs"], nargs=-1, required=True, metavar="INPUT...")]
    for side in task.side_inputs:
        decls = [f"--{side.name}", *([side.short] if side.short else []), _side_dest(side.name)]
        params.append(click.Option(decls, type=click.Path(path_type=Path), help=side.help))
    params.extend(_common_options())
    params.extend(task.options)

    def callback(**kwargs: Any) -> None:
        from imggan.pipeline import run_task

        inputs = kwargs.pop("inputs")
        sides = {side.name: kwargs.pop(_side_dest(side.name)) for side in task.side_inputs}
        quiet = kwargs.pop("quiet")
        max_pixels = kwargs.pop("max_pixels") or DEFAULT_MAX_PIXELS
        threads = kwargs.pop("threads")
        if threads:
            import torch

            torch.set_num_threads(threads)
        try:
            report = run_task(
                task,
                list(inputs),
                kwargs.pop("output"),
                device=kwargs.pop("device"),
                model=kwargs.pop("model"),
                batch_size=kwargs.pop("batch_size"),
                tile=kwargs.pop("tile"),
                fmt=kwargs.pop("fmt"),
                overwrite=kwargs.pop("overwrite"),
                recursive=kwargs.pop("recursive"),
                quiet=quiet,
                shard=kwargs.pop("shard"),
                jpeg_quality=kwargs.pop("jpeg_quality"),
                max_pixels=max_pixels,
                sides=sides,
                report_error=_echo_error,
                **kwargs,
            )
        except ImgganError as exc:
            raise click.UsageError(str(exc)) from exc
        if not quiet:
            parts = [f"{len(report.done)} done"]
            if report.skipped:
                parts.append(f"{len(report.skipped)} skipped (output exists; --overwrite to redo)")
            if report.failed:
                parts.append(f"{len(report.failed)} failed")
            click.echo(f"imggan {task.name}: {', '.join(parts)} in {report.seconds:.1f}s", err=True)
        sys.exit(report.exit_code)

    return click.Command(
        task.name,
        params=params,
        callback=callback,
        help=inspect.cleandoc(task.help) + "\n" + COMMON_HELP,
        short_help=task.summary,
    )


class ImgganGroup(click.Group):
    """The root group: built-in commands plus task commands and plugin commands, discovered lazily."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from imggan.plugins import call_each, get_plugin_manager, get_registry

        # a plugin whose register_commands raises is named on stderr; the CLI and the other plugins still work
        call_each(get_plugin_manager().hook.register_commands, lambda m: click.echo(f"imggan: {m}", err=True), cli=self)
        for name, task in get_registry().tasks.items():
            if name not in self.commands:
                self.add_command(make_task_command(task))

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugins()
        return super().get_command(ctx, cmd_name)


@click.group(cls=ImgganGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="imggan")
def cli() -> None:
    """imggan: GAN-powered image processing: inpaint, denoise, upscale, stylize, generate, and train your own models.

    \b
    Examples:
      imggan inpaint photo.jpg --mask photo_mask.png -o out/
      imggan denoise scans/ -o clean/ --recursive
      imggan upscale small.png -s 4 -o big.png
      imggan stylize photo.jpg --style painting.jpg -o styled.jpg
      imggan generate --model digits -n 16 --grid -o digits.png
      imggan run photos/ --steps 'resize:0.5;clahe' -o out/
      imggan train inpaint --data ~/.cache/imggan/data/train --out runs/inpaint --steps 20000

    Every task takes --device auto|cpu|cuda[:N]|mps; `imggan tasks`, `imggan models` and `imggan plugins`
    show what is installed.
    """


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@cli.command(short_help="List installed plugins with their version and the hooks they implement.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List installed plugins with their version and the hooks they implement."""
    from imggan.plugins import get_plugin_manager, plugin_info

    rows = plugin_info(get_plugin_manager())
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        version = row["version"] or "?"
        where = f"{row['distribution']} {version}" if row["distribution"] else version
        if row["error"]:
            click.echo(f"{row['name']} ({where}): FAILED TO LOAD: {row['error']}")
        else:
            click.echo(f"{row['name']} ({where}): {', '.join(row['hooks']) or 'no hooks'}")
            for warning in row.get("warnings", []):
                click.echo(f"  warning: {warning}")


@cli.command(short_help="List the tasks the plugins registered (each is an `imggan <task>` command).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def tasks(as_json: bool) -> None:
    """List the tasks the plugins registered (each is an `imggan <task>` command)."""
    from imggan.plugins import get_registry

    registry = get_registry()
    rows = [
        {
            "name": t.name,
            "summary": t.summary,
            "inputs": (["image"] if t.takes_images else []) + [s.name for s in t.side_inputs],
            "default_model": t.default_model,
        }
        for t in registry.tasks.values()
    ]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<12} {row['summary']}")


@cli.command()
@click.option("--task", "task_name", help="Only this task's models.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (includes each model card).")
def models(task_name: str | None, as_json: bool) -> None:
    """List the named models (weights) the plugins registered."""
    from imggan.plugins import get_registry

    entries = [m for m in get_registry().models if task_name in (None, m.task)]
    if as_json:
        _print_json(
            [
                {
                    "name": m.name,
                    "task": m.task,
                    "default": m.default,
                    "path": str(m.path),
                    "exists": m.path.is_file(),
                    "bytes": m.path.stat().st_size if m.path.is_file() else None,
                    "parameters": _parameters_or_none(m.path),
                    "description": m.description,
                    "card": m.read_card(),
                }  # fmt: skip
                for m in entries
            ]
        )
        return
    for m in entries:
        flag = " (default)" if m.default else ""
        click.echo(f"{m.task:<10} {m.name}{flag}: {m.description}  [{_model_size(m.path)}]")


def _parameters_or_none(path: Path) -> int | None:
    from imggan.weights import parameter_count

    try:
        return parameter_count(path)
    except ImgganError:
        return None


def _model_size(path: Path) -> str:
    """``3.6 MB, 0.91M parameters`` for a weights file (read from its header), or why it cannot be read."""
    from imggan.weights import parameter_count

    if not Path(path).is_file():
        return "weights missing"
    try:
        params = parameter_count(path)
    except ImgganError as exc:
        return f"unreadable: {exc}"
    count = f"{params / 1e6:.2f}M" if params >= 1e5 else f"{params / 1e3:.1f}k"
    return f"{Path(path).stat().st_size / 1e6:.1f} MB, {count} parameters"


@cli.command(short_help="List the pipeline stages usable in `imggan run --steps` (every task is a step too).")
def stages() -> None:
    """List the pipeline stages usable in `imggan run --steps` (every task is a step too)."""
    from imggan.plugins import get_registry

    registry = get_registry()
    for stage in registry.stages.values():
        click.echo(f"{stage.name:<14} {stage.help}")
    steps = sorted(name for name, task in registry.tasks.items() if name != "run" and task.takes_images)
    if steps:
        click.echo(f"\nTasks usable as steps (their options by name, model=NAME|PATH): {', '.join(steps)}")


@cli.group()
def data() -> None:
    """Training data: gather the allowed sources into a local cache."""


@data.command("fetch")
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    default=None,
    help="Cache folder (default ~/.cache/imggan/data).",
)
@click.option("--no-plasma", is_flag=True, help="Skip Debian's plasma wallpapers (needs apt-get).")
@click.option(
    "--no-packages", is_flag=True, help="Skip the Debian photo/texture packages (visp, tuxpaint, game textures)."
)
@click.option(
    "--style-refs",
    is_flag=True,
    help="Instead: recreate the style head's reference images (benchmarks/style.py, the shipped styles' cards) "
    "and the style benchmark's val contents from Debian packages (needs apt-get, dpkg-deb) into --refs-dir.",
)
@click.option(
    "--refs-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for --style-refs (default ~/.cache/imggan/runs/style/refs or $IMGGAN_STYLE_REFS); existing "
    "files are kept and checked.",
)
@click.option(
    "--emoji",
    is_flag=True,
    help="Instead: the Noto emoji set (npm emoji-datasource-google, pinned and SHA-256 checked) into "
    "ROOT/emoji/, for `imggan train generate --data emoji:google`.",
)
@click.option(
    "--emoji-tarball",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="With --emoji: use this already downloaded .tgz instead of `npm pack` / the registry.",
)
def data_fetch(
    root: Path | None,
    no_plasma: bool,
    no_packages: bool,
    style_refs: bool,
    refs_dir: Path | None,
    emoji: bool,
    emoji_tarball: Path | None,
) -> None:
    """Write the training images (scikit-image, scikit-learn, matplotlib, Debian wallpapers, photo and
    texture packages) to ROOT/train, four held-out photographs to ROOT/heldout, package-held-out benchmark
    images to ROOT/test and object silhouettes to ROOT/masks (see docs/data.md). With --style-refs, only
    the style references (docs/data.md, "Style references"); with --emoji, only the emoji set
    (docs/data.md, "Emoji")."""
    if (emoji or emoji_tarball) and style_refs:
        raise click.UsageError("--emoji and --style-refs each fetch one set instead of the training data: give one")
    if emoji or emoji_tarball:
        from imggan.data.emoji import EmojiError, emoji_index, fetch_emoji

        try:
            folder = fetch_emoji(root, tarball=emoji_tarball, log=click.echo)
            entries, classes = emoji_index(folder)
        except EmojiError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{len(entries)} emoji in {len(classes)} classes in {folder}")
        return
    if style_refs:
        from imggan.data.style_refs import DEFAULT_REFS, StyleRefsError, fetch_style_refs

        folder = refs_dir or DEFAULT_REFS
        try:
            record = fetch_style_refs(folder, log=click.echo)
        except StyleRefsError as exc:
            raise click.ClickException(str(exc)) from exc
        same = sum(bool(entry["matches_recorded"]) for entry in record.values())
        click.echo(f"{len(record)} style references in {folder} ({same} identical to the recorded ones)")
        return
    from imggan.data.sources import DEFAULT_ROOT, fetch

    root = root or DEFAULT_ROOT
    result = fetch(root, plasma=not no_plasma, packages=not no_packages)
    click.echo(
        f"{len(result['train'])} training images in {root / 'train'}, "
        f"{len(result['heldout'])} held out in {root / 'heldout'}, "
        f"{len(result['test'])} benchmark-only in {root / 'test'}"
    )


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="imggan")


if __name__ == "__main__":
    main()
