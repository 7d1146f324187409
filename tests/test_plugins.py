"""The plugin manager: entry-point plugins add tasks and commands, broken ones are named, the allowlist."""

from __future__ import annotations

import json

import pytest

import imggan
import imggan.plugins
from imggan.plugins import BUILTIN_MODULES, collect, get_plugin_manager, get_registry, new_plugin_manager, plugin_info

GOOD_PLUGIN = """
    import click
    import numpy as np

    import imggan
    from imggan.task import Task


    @click.command("fx-hello")
    @click.option("--who", default="world")
    def hello(who):
        '''Say hello from the fixture plugin.'''
        click.echo(f"hello {who} from fx")


    INVERT = Task(
        name="fx-invert",
        help="Invert colours (fixture plugin).",
        load=lambda ctx: None,
        process=lambda model, items, ctx: [np.iinfo(i.image.dtype).max - i.image for i in items],
        options=(click.Option(["--fx-strength"], type=float, default=1.0, help="A fixture-only option."),),
    )


    @imggan.hookimpl
    def register_commands(cli):
        cli.add_command(hello)


    @imggan.hookimpl
    def register_tasks(register):
        register(INVERT)
"""

STAGE_PLUGIN = """
    import imggan
    from imggan.stages import Stage


    @imggan.hookimpl
    def register_stages(register):
        register(Stage("fx-flip", "Mirror left-right (fixture).", lambda image: image[:, ::-1]))
"""

BROKEN_PLUGIN = """
    raise RuntimeError("fixture plugin exploded on import")
"""


def test_plugin_adds_command_and_task_to_the_cli(install_plugins, invoke):
    """A fixture plugin's register_commands and register_tasks appear as `imggan` commands that run."""
    install_plugins(fx_good=GOOD_PLUGIN)
    help_text = invoke("--help")
    assert help_text.exit_code == 0
    assert "fx-hello" in help_text.stdout
    assert "fx-invert" in help_text.stdout
    hello = invoke("fx-hello", "--who", "tests")
    assert hello.exit_code == 0, hello.output
    assert hello.stdout.strip() == "hello tests from fx"
    task_help = invoke("fx-invert", "--help")
    assert task_help.exit_code == 0
    for option in ("--fx-strength", "--output", "--device", "--shard", "--overwrite", "--recursive"):
        assert option in task_help.stdout


def test_plugin_task_runs_end_to_end(install_plugins, invoke, make_image, tmp_path):
    """`imggan <plugin task>` reads, processes and writes through the core's batch runner."""
    install_plugins(fx_good=GOOD_PLUGIN)
    image = make_image(tmp_path / "in" / "a.png")
    result = invoke("fx-invert", tmp_path / "in", "-o", tmp_path / "out", "--fx-strength", "2", "--device", "cpu")
    assert result.exit_code == 0, result.output
    import cv2

    out = cv2.imread(str(tmp_path / "out" / "a.png"), cv2.IMREAD_UNCHANGED)
    assert (out == 255 - image).all()


def test_plugin_listed_by_imggan_plugins(install_plugins, invoke):
    """`imggan plugins` names the fixture plugin and its hooks, next to the built-ins."""
    install_plugins(fx_good=GOOD_PLUGIN)
    result = invoke("plugins")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("fx_good"))
    assert "register_commands" in line and "register_tasks" in line
    for builtin in BUILTIN_MODULES:
        assert builtin in result.stdout


def test_plugins_json(install_plugins, invoke):
    """`imggan plugins --json` gives one record per plugin with its hooks, builtin flag and no error."""
    install_plugins(fx_good=GOOD_PLUGIN)
    result = invoke("plugins", "--json")
    assert result.exit_code == 0
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["fx_good"]["hooks"] == ["register_commands", "register_tasks"]
    assert rows["fx_good"]["builtin"] is False
    assert rows["fx_good"]["error"] is None
    assert rows["imggan.builtin.stages"]["builtin"] is True
    assert rows["imggan.builtin.stages"]["version"] == imggan.__version__
    assert "register_stages" in rows["imggan.builtin.stages"]["hooks"]


def test_broken_plugin_is_named_and_the_rest_load(install_plugins, invoke):
    """A plugin raising on import is reported by name with its error; the other plugins and the CLI work."""
    install_plugins(fx_broken=BROKEN_PLUGIN, fx_good=GOOD_PLUGIN, fx_stage=STAGE_PLUGIN)
    listing = invoke("plugins")
    assert listing.exit_code == 0
    broken = next(line for line in listing.stdout.splitlines() if line.startswith("fx_broken"))
    assert "FAILED TO LOAD" in broken
    assert "RuntimeError: fixture plugin exploded on import" in broken
    assert "plugin 'fx_broken' failed to load" in listing.stderr
    assert "fixture plugin exploded" in listing.stderr
    assert invoke("fx-hello").stdout.strip() == "hello world from fx"
    assert "fx-flip" in invoke("stages").stdout
    rows = {row["name"]: row for row in json.loads(invoke("plugins", "--json").stdout)}
    assert rows["fx_broken"]["error"].startswith("RuntimeError")
    assert rows["fx_broken"]["hooks"] == []


def test_broken_plugin_reported_once_on_stderr(install_plugins, capsys):
    """The process-wide manager prints each load failure once, however often it is asked for."""
    install_plugins(fx_broken=BROKEN_PLUGIN)
    get_plugin_manager()
    get_plugin_manager()
    get_registry()
    assert capsys.readouterr().err.count("fx_broken") == 1


def test_plugin_with_missing_module_is_reported(isolated_plugins, invoke):
    """An entry point whose module does not exist is a failure naming the plugin, not a crash."""
    from importlib.metadata import EntryPoint

    isolated_plugins.append(EntryPoint(name="fx_ghost", value="fx_ghost_module_absent", group="imggan"))
    result = invoke("plugins")
    assert result.exit_code == 0
    assert "fx_ghost" in result.stdout and "ModuleNotFoundError" in result.stdout
    assert invoke("tasks").exit_code == 0


def test_allowlist_loads_only_named_plugins(install_plugins, monkeypatch):
    """IMGGAN_LOAD_PLUGINS=a loads only entry point a; built-ins still load; an empty value loads none."""
    install_plugins(fx_good=GOOD_PLUGIN, fx_stage=STAGE_PLUGIN, fx_broken=BROKEN_PLUGIN)
    monkeypatch.setenv("IMGGAN_LOAD_PLUGINS", " fx_stage , ")
    pm = new_plugin_manager()
    assert pm.has_plugin("fx_stage")
    assert not pm.has_plugin("fx_good")
    assert pm.failures == []  # the broken one was never imported
    assert all(pm.has_plugin(name) for name in BUILTIN_MODULES)
    monkeypatch.setenv("IMGGAN_LOAD_PLUGINS", "")
    pm = new_plugin_manager()
    assert {name for name, _ in pm.list_name_plugin()} == set(BUILTIN_MODULES)


def test_allowlist_applies_to_the_cli(install_plugins, invoke, monkeypatch):
    """With the allowlist set, the CLI shows only the allowed plugin's command."""
    install_plugins(fx_good=GOOD_PLUGIN, fx_stage=STAGE_PLUGIN)
    monkeypatch.setenv("IMGGAN_LOAD_PLUGINS", "fx_stage")
    assert "fx-hello" not in invoke("--help").stdout
    assert "fx-flip" in invoke("stages").stdout


def test_explicit_entry_points_and_no_builtins(install_plugins):
    """new_plugin_manager(entry_points_to_load=..., builtins=False) loads exactly those entry points."""
    eps = install_plugins(fx_stage=STAGE_PLUGIN)
    pm = new_plugin_manager(entry_points_to_load=eps, builtins=False)
    assert [name for name, _ in pm.list_name_plugin()] == ["fx_stage"]
    registry = collect(pm)
    assert list(registry.stages) == ["fx-flip"]
    assert registry.tasks == {}


def test_duplicate_entry_point_name_is_a_failure(install_plugins):
    """A second entry point under a taken name is reported, not registered over the first."""
    (ep,) = install_plugins(fx_stage=STAGE_PLUGIN)
    pm = new_plugin_manager(entry_points_to_load=[ep, ep], builtins=False)
    assert [f.name for f in pm.failures] == ["fx_stage"]
    assert "already registered" in pm.failures[0].error


def test_duplicate_task_name_keeps_the_first(install_plugins):
    """Two plugins registering the same task name: the first wins and a warning names the clash."""
    clash = GOOD_PLUGIN.replace("fx-hello", "fx-hello-2").replace("Invert colours", "Second invert")
    eps = install_plugins(fx_a=GOOD_PLUGIN, fx_b=clash)
    registry = collect(new_plugin_manager(entry_points_to_load=eps, builtins=False))
    assert registry.tasks["fx-invert"].help.startswith("Invert colours")
    assert any("'fx-invert' registered twice" in w for w in registry.warnings)


def test_registry_is_cached_until_reset(install_plugins):
    """get_registry() is built once per process; reset() makes the next call see newly installed plugins."""
    first = get_registry()
    assert get_registry() is first
    assert "fx-flip" not in first.stages
    install_plugins(fx_stage=STAGE_PLUGIN)  # calls reset()
    assert "fx-flip" in get_registry().stages
    imggan.plugins.reset()
    assert get_registry() is not first


def test_builtins_register_run_task_and_stages():
    """The built-in plugins provide the `run` task and the OpenCV stages through the same hooks."""
    registry = get_registry()
    assert "run" in registry.tasks
    assert {"resize", "nlmeans", "clahe", "sharpen", "gaussian-blur", "gamma", "grayscale"} <= set(registry.stages)


def test_plugin_info_rows_for_builtins():
    """plugin_info() reports every built-in as builtin, versioned, without error."""
    rows = plugin_info(get_plugin_manager())
    assert {row["name"] for row in rows} == set(BUILTIN_MODULES)
    assert all(row["builtin"] and row["error"] is None and row["version"] for row in rows)


@pytest.mark.parametrize("name", ["fx_obj"])
def test_plugin_can_be_an_object(install_plugins, name):
    """An entry point may point at an object with hook methods, not only at a module."""
    source = """
        import imggan
        from imggan.stages import Stage


        class _Plugin:
            @imggan.hookimpl
            def register_stages(self, register):
                register(Stage("fx-obj", "From an object.", lambda image: image))


        plugin = _Plugin()
    """
    install_plugins(**{name: source})
    from importlib.metadata import EntryPoint

    ep = EntryPoint(name=name, value=f"{name}:plugin", group="imggan")
    registry = collect(new_plugin_manager(entry_points_to_load=[ep], builtins=False))
    assert "fx-obj" in registry.stages


def test_plugin_cannot_replace_a_builtin(install_plugins, invoke):
    """A plugin stage or task reusing a built-in name is ignored with a warning on stderr; the built-in stays."""
    install_plugins(
        fx_shadow="""
        import imggan
        from imggan.stages import Stage
        from imggan.task import Task


        @imggan.hookimpl
        def register_stages(register):
            register(Stage("resize", "Impostor.", lambda image, **kw: image))


        @imggan.hookimpl
        def register_tasks(register):
            register(Task("run", "Impostor run.", load=lambda ctx: None, process=lambda m, items, ctx: []))
        """
    )
    result = invoke("stages")
    assert "Impostor" not in result.stdout
    assert "stage 'resize' registered twice" in result.stderr
    assert "task 'run' registered twice" in result.stderr
    assert get_registry().tasks["run"].summary.startswith("Run a chain")


def test_plugin_raising_inside_a_hook_is_named_and_the_rest_work(install_plugins, invoke):
    """A plugin that imports fine but raises in register_tasks/register_commands is named; the CLI still runs."""
    install_plugins(
        fx_faulty="""
        import imggan


        @imggan.hookimpl
        def register_tasks(register):
            raise ValueError("no task today")


        @imggan.hookimpl
        def register_commands(cli):
            raise ImportError("optional dependency missing")
        """,
        fx_good=GOOD_PLUGIN,
    )
    result = invoke("--help")
    assert result.exit_code == 0
    assert "fx-hello" in result.stdout and "fx-invert" in result.stdout
    assert "plugin 'fx_faulty' failed in register_commands: ImportError: optional dependency missing" in result.stderr
    assert "plugin 'fx_faulty' failed in register_tasks: ValueError: no task today" in result.stderr
    assert "run" in get_registry().tasks


def test_a_task_clash_names_both_plugins(install_plugins):
    clash = GOOD_PLUGIN.replace("fx-hello", "fx-hello-2")
    eps = install_plugins(fx_a=GOOD_PLUGIN, fx_b=clash)
    registry = collect(new_plugin_manager(entry_points_to_load=eps, builtins=False))
    assert "task 'fx-invert' registered twice: by plugin 'fx_a' and by plugin 'fx_b'; keeping the first" in " ".join(
        registry.warnings
    )


def test_a_stage_named_like_a_task_is_refused_naming_both_plugins(install_plugins):
    stage_clash = STAGE_PLUGIN.replace('"fx-flip"', '"fx-invert"')
    eps = install_plugins(fx_task=GOOD_PLUGIN, fx_stage=stage_clash)
    registry = collect(new_plugin_manager(entry_points_to_load=eps))
    assert "fx-invert" in registry.tasks and "fx-invert" not in registry.stages
    assert (
        "stage 'fx-invert' of plugin 'fx_stage' has the name of a task of plugin 'fx_task'; the stage is ignored"
        in " ".join(registry.warnings)
    )
    assert not set(registry.stages) & set(registry.tasks)  # the built-ins never clash either


def test_a_misspelt_or_unmarked_hook_is_reported_naming_the_plugin(install_plugins, invoke):
    install_plugins(
        fx_typo="""
        import imggan


        @imggan.hookimpl
        def register_task(register):
            raise AssertionError("never called")


        def register_stages(register):
            raise AssertionError("never called either")
        """
    )
    pm = get_plugin_manager()
    assert any("plugin 'fx_typo': register_task is marked @imggan.hookimpl but is no hook" in w for w in pm.warnings)
    assert any("did you mean register_tasks?" in w for w in pm.warnings)
    assert any("plugin 'fx_typo': register_stages is not marked @imggan.hookimpl" in w for w in pm.warnings)
    (row,) = [r for r in plugin_info(pm) if r["name"] == "fx_typo"]
    assert row["hooks"] == []  # not listed as if it were a hook
    assert len(row["warnings"]) == 2
    imggan.plugins.reset()  # the warnings go to stderr once per process
    result = invoke("plugins")
    assert "register_task is marked @imggan.hookimpl but is no hook" in result.stderr
    assert "  warning: plugin 'fx_typo': register_stages is not marked @imggan.hookimpl" in result.stdout


def test_an_unknown_allowlisted_plugin_is_warned_about(install_plugins, monkeypatch, invoke):
    install_plugins(fx_stage=STAGE_PLUGIN)
    monkeypatch.setenv(imggan.plugins.ALLOWLIST_ENV, "fx_stage,nosuchplugin")
    result = invoke("stages")
    assert "fx-flip" in result.stdout
    assert "IMGGAN_LOAD_PLUGINS names 'nosuchplugin', but no installed plugin has that entry-point name" in (
        result.stderr
    )


def test_a_plugin_calling_sys_exit_at_import_is_a_load_failure(install_plugins, invoke):
    install_plugins(fx_exit="import sys\nsys.exit(3)\n", fx_stage=STAGE_PLUGIN)
    result = invoke("stages")
    assert result.exit_code == 0 and "fx-flip" in result.stdout
    assert "plugin 'fx_exit' failed to load: SystemExit(3) at import" in result.stderr
    assert "FAILED TO LOAD: SystemExit(3) at import" in invoke("plugins").stdout
