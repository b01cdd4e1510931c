"""What a simulated firmware update installs."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlparse

__all__ = ["firmware_version_of"]


def firmware_version_of(location: str) -> str:
    """The version a firmware file stands for: its file name without the extension.

    "https://fw.example/acme-2.1.0.bin" → "acme-2.1.0", so the BootNotification after the
    update shows a new firmwareVersion the central system can match to the job.
    """
    name = PurePosixPath(urlparse(location).path).name
    return (name.rsplit(".", 1)[0] if "." in name else name)[:50] or "updated"
