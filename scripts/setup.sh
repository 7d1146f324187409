#!/usr/bin/env bash
# Create .venv with imggan, its first-party heads and the test tools.
# TORCH_SPEC picks the torch build (default: torch==2.13.0; any torch >= 2.2 works).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/python" -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
# Every head under plugins/ (a folder with a pyproject.toml) is installed: a new head needs no edit here.
HEADS=()
for head in plugins/*/; do [ -f "$head/pyproject.toml" ] && HEADS+=(-e "$head"); done
"$VENV/bin/python" -m pip install -q -e ".[test,serve,serve-test]" "${HEADS[@]}"
# imggan needs OpenCV's contrib build (cv2.xphoto: the FSR and shift-map inpainting anchors). The plain build also
# provides cv2 and must not sit beside it: remove it and restore the contrib files it shared.
if "$VENV/bin/python" -m pip show opencv-python-headless >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip uninstall -y -q opencv-python-headless
    "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "opencv-contrib-python-headless>=4.8"
fi
"$VENV/bin/python" -c "import cv2; cv2.xphoto" || { echo "cv2.xphoto missing: OpenCV contrib build not installed" >&2; exit 1; }
echo "imggan installed in $VENV (activate with: . $VENV/bin/activate)"
