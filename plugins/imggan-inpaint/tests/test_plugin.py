"""The hook implementations register the tasks and the shipped models without importing torch."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import imggan_inpaint.plugin as plugin
got = []
plugin.register_tasks(got.append)
plugin.register_models(got.append)
assert "torch" not in sys.modules, "registering tasks and models imported torch"
print(sorted({type(obj).__name__ for obj in got}), sum(getattr(obj, "default", False) for obj in got))
"""


def test_tasks_and_models_register_without_torch() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    kinds, defaults = done.stdout.strip().rsplit(" ", 1)
    assert kinds == "['ModelEntry', 'Task']" and int(defaults) == 1  # the default model
