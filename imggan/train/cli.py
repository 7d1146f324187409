"""``imggan train TASK ...``: one click subcommand per registered :class:`~imggan.train.recipe.TrainRecipe`.

Config layers, lowest first: the trainer's defaults, the recipe's ``defaults``, ``--config FILE.toml``, the
explicit options (``--steps``, ``--batch-size``, ``--loss``, the recipe's own options, ...), then every
``--set key=value``. Every key is typed (:mod:`imggan.train.schema`): an unknown key or a wrong type is a
usage error (exit 2) before anything is built; ``--list-config`` prints every key with its type, default and
help. ``--dry-run`` builds everything and runs two steps without writing; ``--export`` writes the model from
the run's newest checkpoint without training. A run that diverges exits 1 and exports nothing. Under
``torchrun --nproc_per_node N -m imggan train ...`` the processes train data-parallel.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from imggan.errors import ImgganError

EPILOG = """
\b
Examples:
  imggan train toy2d --out runs/toy --steps 2000
  imggan train digits --out runs/digits --set gan_loss=hinge --set ema_beta=0.99
  imggan train denoise --list-config                             # every key: type, default, help
  imggan train denoise --data DIR --out runs/ft --init default --steps 500   # fine-tune a shipped model
  imggan train TASK --data DIR --out runs/x --loss adv=1,l1=10 --set augment='["color","translation"]'
  imggan train TASK --data DIR --out runs/x --resume          # continue after a stop or a crash
  torchrun --nproc_per_node 2 -m imggan train TASK --data DIR --out runs/x
"""


def _common_params() -> list[click.Parameter]:
    path = click.Path(path_type=Path)
    return [
        click.Option(["--data"], type=path, help="Training data folder."),
        click.Option(["--out", "out"], type=path, help="Run folder: checkpoints, logs, samples, the model."),
        click.Option(
            ["--config", "config_file"],
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="TOML config (any key below, and [losses]).",
        ),
        click.Option(["--steps"], type=click.IntRange(1), help="Total optimizer steps."),
        click.Option(["--batch-size"], type=click.IntRange(1), help="Samples per process and micro-batch."),
        click.Option(["--loss", "loss"], metavar="TERM=W,...", help="Generator objective, e.g. adv=1,l1=10."),
        click.Option(
            ["--set", "sets"],
            multiple=True,
            metavar="KEY=VALUE",
            help="Any config key (value read as TOML), e.g. --set gan_loss=hinge; --list-config lists them.",
        ),
        click.Option(["--resume"], is_flag=True, help="Continue from the run's newest checkpoint."),
        click.Option(
            ["--init"],
            metavar="NAME|PATH",
            help="Fine-tune: start G from a registered model of this task or a .safetensors file; the "
            "architecture comes from its card, the recipe's fine-tune defaults apply (see --list-config).",
        ),
        click.Option(["--device"], help="auto|cpu|cuda[:N]|mps (default auto: a CUDA GPU, else MPS, else CPU)."),
        click.Option(["--seed"], type=int, help="Random seed."),
        click.Option(["--dry-run"], is_flag=True, help="Build, run two steps, print a summary; write nothing."),
        click.Option(
            ["--export", "export_only"], is_flag=True, help="Only export the model from the newest checkpoint of --out."
        ),
        click.Option(
            ["--checkpoint"],
            metavar="STEP|FILE",
            help="With --export: export this checkpoint (a step number or a file) instead of the newest.",
        ),
        click.Option(["--quiet"], is_flag=True, help="No progress bar."),
        click.Option(["--list-config"], is_flag=True, help="List every config key (type, default, help) and exit."),
    ]


def make_recipe_command(recipe: Any) -> click.Command:
    """Build ``imggan train <recipe.name>``."""
    common = _common_params()
    names = {p.name for p in common}
    own = [p for p in recipe.options if p.name not in names]  # a recipe cannot shadow the common options

    def callback(**kwargs: Any) -> None:
        from imggan.train.api import configure, list_config
        from imggan.train.config import load_toml, parse_loss_spec, parse_set

        if kwargs["list_config"]:
            click.echo(list_config(recipe), nl=False)
            return
        recipe_values = {p.name: kwargs.pop(p.name) for p in own}
        cli_values: dict[str, Any] = {
            "data": str(kwargs["data"]) if kwargs["data"] else None,
            "steps": kwargs["steps"],
            "batch_size": kwargs["batch_size"],
            "device": kwargs["device"],
            "seed": kwargs["seed"],
            "init": kwargs["init"],
            **recipe_values,
        }
        if kwargs["quiet"]:
            cli_values["progress"] = False
        try:
            toml = load_toml(kwargs["config_file"]) if kwargs["config_file"] else None
            if kwargs["loss"]:
                cli_values["losses"] = parse_loss_spec(kwargs["loss"])
            config = configure(recipe, cli_values, toml, kwargs["sets"], require=not kwargs["export_only"])
            given = {k for k, v in cli_values.items() if v is not None} | set(toml or {})
            given |= {parse_set(item)[0] for item in kwargs["sets"]}
        except (ValueError, ImgganError) as exc:
            raise click.UsageError(str(exc)) from exc
        _run(recipe, config, kwargs, given)

    return click.Command(
        recipe.name,
        params=common + own,
        callback=callback,
        help=recipe.help + "\n" + EPILOG,
        short_help=recipe.help.strip().split("\n")[0],  # whole: click wraps it in the listing, never cuts it
    )


def _run(recipe: Any, config: dict[str, Any], kwargs: dict[str, Any], given: set[str]) -> None:
    from imggan.train.guard import TrainingDiverged

    out = kwargs["out"]
    try:
        if kwargs["dry_run"]:
            from imggan.train.api import dry_run

            report = dry_run(recipe, config)
            report.pop("config")
            click.echo(json.dumps(report, indent=2, default=str))
            return
        if out is None:
            raise click.UsageError("--out RUN_DIR is required (or use --dry-run)")
        if kwargs["checkpoint"] and not kwargs["export_only"]:
            raise click.UsageError("--checkpoint goes with --export (to resume, use --resume)")
        if kwargs["export_only"]:
            from imggan.train.api import export_run

            click.echo(str(export_run(recipe, out, kwargs["checkpoint"])))
            return
        from imggan.train.api import train

        stats = train(recipe, config, out, resume=kwargs["resume"], given=given)
    except TrainingDiverged as exc:
        click.echo(f"imggan train: {exc}", err=True)
        sys.exit(1)
    except ImgganError as exc:
        raise click.UsageError(str(exc)) from exc
    if stats.get("run_dir") and stats["checkpoint"] is not None:
        summary = {k: stats[k] for k in ("step", "interrupted", "rollbacks", "checkpoint", "export", "seconds")}
        summary["losses"] = {k: round(v, 5) for k, v in stats["losses"].items() if isinstance(v, float)}
        click.echo(json.dumps(summary, indent=2))
    if stats["interrupted"]:
        click.echo("imggan train: stopped; continue with --resume", err=True)
        sys.exit(130)


class TrainGroup(click.Group):
    """``imggan train``: its subcommands are the recipes registered when it runs."""

    def _recipes(self) -> dict[str, Any]:
        from imggan.plugins import get_registry

        return get_registry().recipes

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._recipes())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        recipe = self._recipes().get(cmd_name)
        return make_recipe_command(recipe) if recipe is not None else None


train_group = TrainGroup(
    "train",
    help="Train a task's model with the adversarial trainer (one subcommand per recipe).",
    short_help="Train a model: imggan train TASK --data DIR --out RUN_DIR.",
    epilog=EPILOG,
)
