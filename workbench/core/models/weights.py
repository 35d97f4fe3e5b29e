"""A model folder's safetensors files, checked from their headers alone (nothing is loaded): a copy cut
short or a saved error page is named before a run starts (training preflight) or before an upload (push)."""

from __future__ import annotations

import json
from pathlib import Path


def safetensors_problem(path: Path) -> str | None:
    """What is wrong with a safetensors file, read from its header only (8 bytes of length, a JSON table of
    tensors with their byte ranges). Loading one cut short fails late, as 'incomplete metadata'."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            if size < 8 or length > size - 8:
                return f"{path} is not a whole safetensors file ({size:,} bytes; cut short?)"
            table = json.loads(handle.read(length))
    except FileNotFoundError:
        return f"{path} is missing"
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return f"{path} is not a readable safetensors file ({error})"
    ends = [
        entry["data_offsets"][1]
        for key, entry in (table.items() if isinstance(table, dict) else [])
        if key != "__metadata__"
        and isinstance(entry, dict)
        and isinstance(entry.get("data_offsets"), list)
        and len(entry["data_offsets"]) == 2
        and isinstance(entry["data_offsets"][1], int)
    ]
    expected = 8 + length + max(ends, default=0)
    if size < expected:
        return f"{path} is cut short: {size:,} of its {expected:,} bytes"
    return None


def weight_files(folder: Path) -> list[Path]:
    """The safetensors files of a model folder: the one file, or the shards its index names."""
    try:
        index = json.loads((folder / "model.safetensors.index.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        index = None
    if isinstance(index, dict) and isinstance(index.get("weight_map"), dict):
        return [folder / name for name in sorted(set(map(str, index["weight_map"].values())))]
    return [folder / "model.safetensors"] if (folder / "model.safetensors").exists() else []
