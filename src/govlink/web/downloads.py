"""A file handed to the browser to save: its name, its media type, its bytes as they come."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from fastapi.responses import StreamingResponse


def attachment(name: str, media_type: str, chunks: Iterable[bytes] | AsyncIterable[bytes]) -> StreamingResponse:
    """``chunks`` streamed as a download named ``name`` (a name GovLink made, never one a user typed)."""
    return StreamingResponse(chunks, media_type=media_type,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
