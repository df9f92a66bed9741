"""Reading the images of one request while it streams: multipart files or one raw image body.

Limits hold as the bytes arrive: the body limit in :mod:`foveal.serve.limits`, the number of
files and form fields here (the part that crosses a limit is refused before it is read).
"""

from __future__ import annotations

from dataclasses import dataclass

from foveal.serve.errors import ApiError

MAX_FIELD_BYTES = 1024
RAW_TYPES = (b"application/octet-stream",)
_MALFORMED_FIX = "send multipart/form-data with one file part per image, or one raw image body"


@dataclass
class Upload:
    """One uploaded image: the name the client gave it (echoed back only) and its bytes."""

    name: str
    data: bytes


def client_name(raw: bytes | None, fallback: str) -> str:
    """A display name from the client's file name: last path component, printable, at most 255 characters."""
    if not raw:
        return fallback
    text = raw.decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if ch.isprintable())[:255]
    return text or fallback


class _FormCollector:
    """python-multipart callbacks that gather file parts and count everything against the limits."""

    def __init__(self, max_files: int, max_fields: int) -> None:
        self.max_files, self.max_fields = max_files, max_fields
        self.uploads: list[Upload] = []
        self.fields = 0
        self.finished = False
        self._reset()

    def _reset(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self._field, self._value = bytearray(), bytearray()
        self._data = bytearray()
        self._filename: bytes | None = None
        self._is_file = False

    def callbacks(self) -> dict:
        return {"on_part_begin": self._reset, "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value, "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished, "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end, "on_end": self._on_end}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        self.headers[bytes(self._field).lower()] = bytes(self._value)
        self._field, self._value = bytearray(), bytearray()

    def _on_headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        kind, params = parse_options_header(self.headers.get(b"content-disposition"))
        if kind != b"form-data" or b"name" not in params:
            raise ApiError(400, "malformed_multipart", "a multipart part has no form-data name", _MALFORMED_FIX)
        self._is_file = b"filename" in params
        if self._is_file:
            self._filename = params[b"filename"]
            if len(self.uploads) >= self.max_files:
                raise ApiError(413, "too_many_files", f"more than {self.max_files} files in one request",
                               f"send at most {self.max_files} images per request")
        else:
            self.fields += 1
            if self.fields > self.max_fields:
                raise ApiError(413, "too_many_fields", f"more than {self.max_fields} form fields in one request",
                               "send only file parts (options go in the query string)")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]
        if not self._is_file and len(self._data) > MAX_FIELD_BYTES:
            raise ApiError(413, "field_too_large", f"a form field is longer than {MAX_FIELD_BYTES} bytes",
                           "send images as file parts (with a filename)")

    def _on_part_end(self) -> None:
        if self._is_file:
            name = client_name(self._filename, f"upload-{len(self.uploads) + 1}")
            self.uploads.append(Upload(name, bytes(self._data)))
        self._data = bytearray()

    def _on_end(self) -> None:
        self.finished = True


async def read_uploads(request, max_files: int, max_fields: int) -> list[Upload]:
    """The images of ``request`` (a Starlette request), read as they stream in."""
    from python_multipart.multipart import parse_options_header

    media, params = parse_options_header(request.headers.get("content-type"))
    if media == b"multipart/form-data":
        uploads = await _read_multipart(request, params.get(b"boundary"), max_files, max_fields)
    elif media.startswith(b"image/") or media in RAW_TYPES:
        data = b"".join([chunk async for chunk in request.stream()])
        uploads = [Upload(client_name(request.query_params.get("name", "").encode(), "upload"), data)]
    else:
        shown = media.decode("latin-1") or "none"
        raise ApiError(415, "unsupported_media_type", f"content type {shown} is not an image upload",
                       _MALFORMED_FIX)
    if not uploads:
        raise ApiError(422, "no_image", "the request holds no image file", _MALFORMED_FIX)
    return uploads


async def _read_multipart(request, boundary: bytes | None, max_files: int, max_fields: int) -> list[Upload]:
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser

    if not boundary:
        raise ApiError(400, "malformed_multipart", "multipart/form-data without a boundary", _MALFORMED_FIX)
    collector = _FormCollector(max_files, max_fields)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except FormParserError as err:
        raise ApiError(400, "malformed_multipart", f"the multipart body cannot be parsed ({err})",
                       _MALFORMED_FIX) from None
    if not collector.finished:
        raise ApiError(400, "malformed_multipart", "the multipart body ends before its closing boundary",
                       _MALFORMED_FIX)
    return collector.uploads
