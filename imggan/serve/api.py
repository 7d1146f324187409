"""The HTTP API, version 1: ``/api/v1/{health,tasks,models,run/{task},convert}`` (OpenAPI at ``/docs``).

Every error is JSON ``{"detail": "<one line for the user>"}`` with a status that says whose fault it was:
400 bad input (not an image, a mask of another size, an option the task refuses, an unknown model), 404
unknown task, 413 too large (bytes or pixels, refused before decoding), 503 busy (with ``Retry-After``), 500
a task that failed (the server goes on serving). Tasks, their options and their models are read from the
plugin registry on each request, so a plugin's task is served without any change here.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from imggan import __version__
from imggan.errors import ImageTooLargeError, ImgganError, ModelLoadError
from imggan.serve.guards import BodyTooLarge
from imggan.serve.limits import BusyError
from imggan.serve.runner import (
    OUTPUT_FORMATS,
    Encoded,
    TaskFailure,
    check_model,
    decode_sides,
    decode_upload,
    encode_result,
    output_suffix,
    run_upload,
    safe_name,
)
from imggan.serve.schema import OptionError, model_schema, parse_options, task_schema
from imggan.serve.sources import make_image, sources_of
from imggan.serve.steps import check_steps
from imggan.task import ImageInfo

RESERVED_FIELDS = ("image", "model", "format", "jpeg_quality")

router = APIRouter(prefix="/api/v1")

_RUN_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["image"],
                "properties": {
                    "image": {
                        "type": "string",
                        "format": "binary",
                        "description": 'The input image file (a task listed with `"inputs": []` takes none: '
                        "send its options alone, in this form or URL-encoded, or no body).",
                    },
                    "mask": {
                        "type": "string",
                        "format": "binary",
                        "description": "A side input (inpaint's mask: white = hole), the image's size. Every "
                        "side input a task declares (GET /api/v1/tasks, `side_inputs`) is a file field.",
                    },
                    "model": {"type": "string", "description": "A model name registered for the task."},
                    "format": {"type": "string", "enum": list(OUTPUT_FORMATS), "default": "keep"},
                    "jpeg_quality": {"type": "integer", "minimum": 1, "maximum": 100, "default": 95},
                },
                "additionalProperties": {
                    "type": "string",
                    "description": "The task's own options by name (GET /api/v1/tasks, `options`).",
                },
            }
        },
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "description": 'For a task listed with `"inputs": []` (a generator): its options, `model`, '
                "`format` and `jpeg_quality`, and no file.",
                "additionalProperties": {"type": "string"},
            }
        },
    },
}


def _state(request: Request) -> Any:
    return request.app.state.imggan


def _task(request: Request, name: str) -> Any:
    tasks = _state(request).registry.tasks
    if name not in tasks:
        raise HTTPException(404, f"unknown task {name!r} (tasks: {', '.join(sorted(tasks)) or 'none'})")
    return tasks[name]


@router.get("/health", summary="Liveness, device, limits and queue state")
def health(request: Request) -> dict[str, Any]:
    """``{"status": "ok", ...}`` while the server serves; says how busy it is."""
    state = _state(request)
    return {
        "status": "ok",
        "version": __version__,
        "device": state.device,
        "limits": {"max_upload_bytes": state.config.max_upload_bytes, "max_pixels": state.config.max_pixels},
        **state.gate.state(),
    }


@router.get("/tasks", summary="Every registered task with its options, side inputs and models")
def tasks(request: Request) -> list[dict[str, Any]]:
    """One entry per task (plugins' included): the form the page builds for it."""
    registry = _state(request).registry
    models = list(registry.models)
    sources = sources_of(registry)
    return [task_schema(task, models, sources.get(task.name)) for task in registry.tasks.values()]


@router.get("/models", summary="Every registered model")
def models(request: Request) -> list[dict[str, Any]]:
    """Name, task, default flag, description and whether its weights are present."""
    return [model_schema(m) for m in _state(request).registry.models]


async def _read_form(request: Request, needs_image: bool = True) -> tuple[dict[str, tuple[bytes, str]], dict[str, str]]:
    """Split a multipart body into files ``{field: (bytes, client name)}`` and text fields.

    A task that takes no input image (``needs_image=False``) also accepts a URL-encoded form or no body.
    """
    content_type = request.headers.get("content-type", "")
    if not needs_image and not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        if await request.body():
            raise HTTPException(400, "send the options as a form (multipart/form-data or URL-encoded), or no body")
        return {}, {}
    if needs_image and not content_type.startswith("multipart/form-data"):
        raise HTTPException(400, "send multipart/form-data with an `image` file field")
    try:
        form = await request.form(max_files=16, max_fields=64)
    except BodyTooLarge:
        raise
    except Exception as exc:  # malformed multipart
        raise HTTPException(400, f"could not read the form: {exc}") from exc
    files: dict[str, tuple[bytes, str]] = {}
    fields: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = (await value.read(), safe_name(value.filename, f"{key}.png"))
        else:
            fields[key] = value
    return files, fields


def _busy(exc: BusyError) -> HTTPException:
    return HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)})


def _http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, ImageTooLargeError):
        return HTTPException(413, str(exc))
    if isinstance(exc, ModelLoadError):  # a registered model whose weights are broken: the server's fault
        return HTTPException(500, str(exc))
    if isinstance(exc, ImgganError):  # not an image, wrong mask size, refused option, the task's own refusals
        return HTTPException(400, str(exc))
    if isinstance(exc, TaskFailure):
        return HTTPException(500, str(exc))
    raise exc


def _image_response(encoded: Any, name: str, seconds: float) -> Response:
    stem = name.rsplit(".", 1)[0] or "image"
    return Response(
        content=encoded.data,
        media_type=encoded.media_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(stem + encoded.suffix)}",
            "X-Imggan-Width": str(encoded.width),
            "X-Imggan-Height": str(encoded.height),
            "X-Imggan-Channels": str(encoded.channels),
            "X-Imggan-Dtype": encoded.dtype,
            "X-Imggan-Seconds": f"{seconds:.3f}",
        },
    )


def _jpeg_quality(fields: dict[str, str]) -> int:
    raw = fields.get("jpeg_quality") or "95"
    try:
        quality = int(raw)
    except ValueError:
        raise OptionError(f"jpeg_quality {raw!r}: give a whole number 1-100") from None
    if not 1 <= quality <= 100:
        raise OptionError(f"jpeg_quality {quality}: give a whole number 1-100")
    return quality


async def _run_form(state: Any, task: Any, files: dict, fields: dict[str, str]) -> tuple[str, Any, float]:
    """Check a run's form, then decode, wait for the device, run and encode (off the event loop).

    Returns the image's client name, the encoded result and the model's seconds.
    """
    if "image" not in files:
        raise HTTPException(400, "no `image` file in the form")
    image_bytes, name = files.pop("image")
    try:
        options = parse_options(task, {k: v for k, v in fields.items() if k not in RESERVED_FIELDS})
        model = check_model(task, fields.get("model"), list(state.registry.models))
        if task.name == "run" and options.get("steps"):  # the built-in chain: its steps may not name files
            check_steps(str(options["steps"]), state.registry)
        quality = _jpeg_quality(fields)
    except OptionError as exc:
        raise HTTPException(400, str(exc)) from exc
    max_pixels = state.config.max_pixels

    def work() -> tuple[Any, float]:
        image, info = decode_upload(image_bytes, name, max_pixels)
        suffix = output_suffix(fields.get("format", "keep"), info)
        sides = decode_sides(task, files, image.shape[:2], max_pixels)
        with state.gate.running():
            started = time.perf_counter()
            result = run_upload(task, image, sides, options, device=state.device, model=model, tile=state.config.tile)
            seconds = time.perf_counter() - started
        return encode_result(result, suffix, quality), seconds

    try:
        encoded, seconds = await run_in_threadpool(work)
    except (ImgganError, TaskFailure) as exc:
        raise _http_error(exc) from exc
    return name, encoded, seconds


async def _run_source(
    state: Any, task: Any, source: Any, files: dict, fields: dict[str, str]
) -> tuple[str, Any, float]:
    """Make the image of a task that takes no input image from its options (off the event loop).

    Returns the result's name (``<task>.png``), the encoded result and the model's seconds.
    """
    if files:
        raise HTTPException(400, f"task {task.name!r} takes no input image or file (got {', '.join(sorted(files))})")
    try:
        options = parse_options(task, {k: v for k, v in fields.items() if k not in RESERVED_FIELDS}, source.options)
        model = check_model(task, fields.get("model"), list(state.registry.models))
        quality = _jpeg_quality(fields)
        suffix = output_suffix(fields.get("format", "keep"), ImageInfo(format=".png"))
    except ImgganError as exc:  # an option, model or format the request may not have
        raise HTTPException(400, str(exc)) from exc

    def work() -> tuple[Encoded, float]:
        with state.gate.running():
            started = time.perf_counter()
            try:
                image = make_image(
                    task,
                    source,
                    options,
                    device=state.device,
                    model=model,
                    max_pixels=state.config.max_pixels,
                    models=state.source_models,
                )
            except ImgganError:
                raise
            except Exception as exc:  # a model's failure must not take the server down
                raise TaskFailure(f"task {task.name!r} failed: {type(exc).__name__}: {exc}") from exc
            seconds = time.perf_counter() - started
        return encode_result(image, suffix, quality), seconds

    try:
        encoded, seconds = await run_in_threadpool(work)
    except (ImgganError, TaskFailure) as exc:
        raise _http_error(exc) from exc
    return f"{task.name}.png", encoded, seconds


@router.post(
    "/run/{task_name}",
    summary="Run a task on an uploaded image; the response body is the result image",
    openapi_extra={"requestBody": _RUN_BODY},
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "The result image."},
        400: {"description": "Not an image, a side input of another size, a refused option or model."},
        404: {"description": "No such task."},
        413: {"description": "Upload over the byte limit, or image over the pixel limit."},
        500: {"description": "The task failed on this input; the server goes on serving."},
        503: {"description": "Busy: the queue is full; see Retry-After."},
    },
)
async def run(task_name: str, request: Request) -> Response:
    """Multipart ``image`` [+ side inputs such as ``mask``] + options -> the image the CLI would write.

    A task listed with ``"inputs": []`` (a generator) takes its options alone (multipart, URL-encoded or no
    body) and answers with the image they make, a PNG unless ``format`` says otherwise.

    The output keeps the input's format unless ``format`` says otherwise, and follows the CLI's rules for
    bit depth and alpha (16-bit stays 16-bit where the format can hold it; alpha is kept or, for inpaint
    without a mask, used as the hole).
    """
    state = _state(request)
    task = _task(request, task_name)
    source = sources_of(state.registry).get(task_name)
    try:
        with state.gate.place():  # a place in the queue first: a crowd is turned away before its bodies are read
            files, fields = await _read_form(request, needs_image=source is None)
            if source is not None:
                name, encoded, seconds = await _run_source(state, task, source, files, fields)
            else:
                name, encoded, seconds = await _run_form(state, task, files, fields)
    except BusyError as exc:
        raise _busy(exc) from exc
    return _image_response(encoded, name, seconds)


@router.post(
    "/convert",
    summary="Re-encode an image in another format (the page's download in the input's format)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image", "format"],
                        "properties": {
                            "image": {"type": "string", "format": "binary"},
                            "format": {"type": "string", "enum": list(OUTPUT_FORMATS[1:])},
                            "jpeg_quality": {"type": "integer", "minimum": 1, "maximum": 100, "default": 95},
                        },
                    }
                }
            },
        }
    },
    response_class=Response,
)
async def convert(request: Request) -> Response:
    """Decode ``image`` and encode it as ``format`` (16-bit and alpha kept where the format can hold them)."""
    state = _state(request)
    started = time.perf_counter()
    try:
        with state.gate.place():
            files, fields = await _read_form(request)
            if "image" not in files:
                raise HTTPException(400, "no `image` file in the form")
            image_bytes, name = files["image"]

            def work() -> Any:
                image, info = decode_upload(image_bytes, name, state.config.max_pixels)
                fmt = fields.get("format") or "keep"
                return encode_result(image, output_suffix(fmt, info), _jpeg_quality(fields))

            encoded = await run_in_threadpool(work)
    except BusyError as exc:
        raise _busy(exc) from exc
    except ImgganError as exc:
        raise _http_error(exc) from exc
    return _image_response(encoded, name, time.perf_counter() - started)
