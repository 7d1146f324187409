"""Every head (the first-party ones under plugins/ and the example) has the one layout, and its modules
import each other without cycles (imports inside functions count: a lazy cycle is still a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADS = sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml")) + [ROOT / "examples" / "imggan-sepia"]
REQUIRED = {"__init__.py", "plugin.py", "tasks.py"}
WITH_MODELS = {"zoo.py", "models.py", "api.py"}


def _package(head: Path) -> Path:
    (package,) = [p for p in head.glob("imggan_*") if (p / "__init__.py").is_file()]
    return package


def _imports(path: Path, package: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            if node.module == package:
                found.update(alias.name for alias in node.names)
            else:
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith(package + "."))
    return found


@pytest.mark.parametrize("head", HEADS, ids=[h.name for h in HEADS])
def test_one_layout(head: Path) -> None:
    package = _package(head)
    names = {p.name for p in package.glob("*.py")}
    assert names >= REQUIRED
    if (package / "weights").is_dir():
        assert names >= WITH_MODELS, f"{head.name} ships weights: it needs zoo.py, models.py and api.py"
    pyproject = (head / "pyproject.toml").read_text()
    assert f'{package.name} = "{package.name}.plugin"' in pyproject  # the entry point, named after the package
    assert not {"task.py", "model.py", "recipe.py", "ship.py", "bootstrap.py", "quickfit.py"} & names


@pytest.mark.parametrize("head", HEADS, ids=[h.name for h in HEADS])
def test_no_import_cycles(head: Path) -> None:
    package = _package(head)
    modules = {p.stem: p for p in package.glob("*.py")}
    graph = {
        name: {m for m in _imports(path, package.name) if m in modules and m != name} for name, path in modules.items()
    }
    graph["__init__"] = set()  # the package's public API re-exports lazily; importing it is not a module cycle

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, f"import cycle in {package.name}: {' -> '.join((*trail, name))}"
        for other in sorted(graph.get(name, ())):
            visit(other, (*trail, name))

    for name in graph:
        visit(name, ())


def test_help_models_and_stages_import_no_torch_with_every_installed_head() -> None:
    """Listing commands, models and stages runs every head's torch-free hooks only (``imggan --help`` stays fast)."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom imggan.cli import cli\n"
        "for args in (['--help'], ['models'], ['stages'], ['tasks']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


REGISTER_WITHOUT_TORCH = """
import sys
import {package}.plugin as plugin
got = []
plugin.register_tasks(got.append)
plugin.register_models(got.append)
assert "torch" not in sys.modules, "registering tasks and models imported torch"
print(sorted({{type(obj).__name__ for obj in got}}), sum(getattr(obj, "default", False) for obj in got))
"""


@pytest.mark.parametrize(
    ("package", "defaults"),
    [("imggan_inpaint", 1), ("imggan_enhance", 2)],  # one default model per task
)
def test_tasks_and_models_register_without_torch(package: str, defaults: int) -> None:
    """A head's own hooks register its tasks and shipped models without importing torch."""
    import subprocess
    import sys

    code = REGISTER_WITHOUT_TORCH.format(package=package)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    kinds, count = done.stdout.strip().rsplit(" ", 1)
    assert kinds == "['ModelEntry', 'Task']" and int(count) == defaults
