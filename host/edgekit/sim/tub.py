"""DonkeyCar tub v2: writer and reader (docs/SOURCES.md §7; layout of donkeycar/parts/tub_v2.py and
datastore_v2.py, re-implemented here).

Layout of a tub folder:
- `manifest.json`: 5 JSON lines — inputs, types, user metadata, `{"created_at", "sessions"}`,
  `{"paths", "current_index", "max_len", "deleted_indexes"}`.
- `catalog_<n>.catalog`: one record per line, `json.dumps(record, sort_keys=True)`, at most
  `max_len` (1000) lines; `catalog_<n>.catalog_manifest`: one line
  `{"created_at", "line_lengths", "path", "start_index"}` (sort_keys; `path` is the manifest's own
  file name, as DonkeyCar writes it).
- `images/<index>_cam_image_array_.jpg`.
Lines end with "\\r\\n" (DonkeyCar's NEWLINE) and `line_lengths` count those two characters.
Deleting only appends to `deleted_indexes`; readers skip those records.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from edgekit.errors import UserError

NEWLINE = "\r\n"
INPUTS = ["cam/image_array", "user/angle", "user/throttle", "user/mode"]
TYPES = ["image_array", "float", "float", "str"]
MAX_LEN = 1000


def _line(obj, sort_keys=False) -> str:
    return json.dumps(obj, allow_nan=False, sort_keys=sort_keys) + NEWLINE


def image_file_name(index: int, key: str) -> str:
    return f"{index}_{key.replace('/', '_')}_.jpg"


class TubWriter:
    """Appends records to a (new or existing) tub; every write updates the manifests on disk as
    DonkeyCar does, so a tub is readable even if recording stops abruptly."""

    def __init__(self, path, inputs=INPUTS, types=TYPES, metadata: dict | None = None, max_len: int = MAX_LEN,
                 clock=time.time):
        # `clock`: where timestamps come from (a pulled capture passes its recorded times, so the
        # same captures always give the same tub bytes)
        self.path, self.clock = Path(path), clock
        (self.path / "images").mkdir(parents=True, exist_ok=True)
        self.manifest_path = self.path / "manifest.json"
        if self.manifest_path.exists():
            lines = self.manifest_path.read_text().splitlines()
            self.inputs, self.types, self.metadata, self.manifest_meta = (json.loads(x) for x in lines[:4])
            cat = json.loads(lines[4])
            self.paths, self.index, self.max_len = cat["paths"], cat["current_index"], cat["max_len"]
            self.deleted = set(cat["deleted_indexes"])
        else:
            self.inputs, self.types, self.metadata = list(inputs), list(types), dict(metadata or {})
            self.manifest_meta = {"created_at": self.clock()}
            self.paths, self.index, self.max_len, self.deleted = [], 0, max_len, set()
        sessions = self.manifest_meta.get("sessions")
        session_id = sessions["last_id"] + 1 if sessions else 0
        self.session = (session_id, f"{time.strftime('%y-%m-%d', time.localtime(self.clock()))}_{session_id}")
        self._wrote = False
        self._line_lengths: list[int] = []
        self._cat_meta: dict | None = None
        if self.paths:
            self._open_catalog(self.paths[-1], reopen=True)
        else:
            self._new_catalog()
        self._write_manifest()

    # -- catalogs
    def _new_catalog(self):
        name = f"catalog_{len(self.paths)}.catalog"
        self.paths.append(name)
        self._open_catalog(name, reopen=False)

    def _open_catalog(self, name: str, reopen: bool):
        cat_manifest = self.path / name.replace(".catalog", ".catalog_manifest")
        if reopen and cat_manifest.exists():
            self._cat_meta = json.loads(cat_manifest.read_text().splitlines()[0])
        else:
            self._cat_meta = {"path": cat_manifest.name, "created_at": self.clock(),
                              "start_index": self.index, "line_lengths": []}
        self._catalog = self.path / name
        self._cat_manifest = cat_manifest
        self._catalog.touch()
        self._write_catalog_manifest()

    def _write_catalog_manifest(self):
        self._cat_manifest.write_text(_line(self._cat_meta, sort_keys=True), newline="")

    def _write_manifest(self):
        catalog_meta = {"paths": self.paths, "current_index": self.index, "max_len": self.max_len,
                        "deleted_indexes": sorted(self.deleted)}
        text = "".join(_line(x) for x in (self.inputs, self.types, self.metadata, self.manifest_meta, catalog_meta))
        self.manifest_path.write_text(text, newline="")

    # -- records
    def write_record(self, record: dict) -> int:
        """`record` maps input names to values (images as uint8 H×W×3); returns the new index."""
        from PIL import Image

        if self.index > 0 and self.index % self.max_len == 0:
            self._new_catalog()
        contents = {}
        for key, kind in zip(self.inputs, self.types):
            value = record.get(key)
            if value is None:
                continue
            if kind == "image_array":
                name = image_file_name(self.index, key)
                Image.fromarray(np.asarray(value, np.uint8)).save(self.path / "images" / name)
                contents[key] = name
            elif kind == "float":
                contents[key] = float(value)
            elif kind == "int":
                contents[key] = int(value)
            elif kind == "boolean":
                contents[key] = bool(value)
            elif kind in ("list", "vector", "nparray"):
                contents[key] = np.asarray(value).tolist()
            else:
                contents[key] = value
        contents["_timestamp_ms"] = int(round(self.clock() * 1000))
        contents["_index"] = self.index
        contents["_session_id"] = self.session[1]
        line = _line(contents, sort_keys=True)
        with open(self._catalog, "a", newline="") as f:
            f.write(line)
        self._cat_meta["line_lengths"].append(len(line))
        self._write_catalog_manifest()
        self.index += 1
        self._wrote = True
        self._write_manifest()
        return self.index

    def delete_records(self, indexes) -> None:
        self.deleted.update(int(i) for i in indexes)
        self._write_manifest()

    def close(self) -> None:
        if self._wrote:  # register this session, as DonkeyCar does on close
            sessions = self.manifest_meta.get("sessions") or {"all_full_ids": []}
            sessions["last_id"], sessions["last_full_id"] = self.session
            sessions["all_full_ids"].append(self.session[1])
            self.manifest_meta["sessions"] = sessions
            self._write_manifest()
            self._wrote = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_manifest(path) -> dict:
    path = Path(path)
    try:
        lines = (path / "manifest.json").read_text().splitlines()
        inputs, types, metadata, manifest_meta, catalog_meta = (json.loads(x) for x in lines[:5])
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is not a DonkeyCar tub v2 (manifest.json: {exc})") from None
    return {"inputs": inputs, "types": types, "metadata": metadata, "manifest": manifest_meta, **catalog_meta}


def read_records(path) -> list[dict]:
    """All records of a tub in index order, without the deleted ones."""
    path = Path(path)
    man = read_manifest(path)
    deleted = set(man["deleted_indexes"])
    records, position = [], 0
    for name in man["paths"]:
        catalog = path / name
        if not catalog.exists():
            continue
        with open(catalog, newline="") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if not line:
                    continue
                rec = json.loads(line)
                index = rec.get("_index", position)
                position += 1
                if index not in deleted:
                    records.append(rec)
    return records


def load_image(tub, record: dict, key: str = "cam/image_array") -> np.ndarray:
    from PIL import Image

    with Image.open(Path(tub) / "images" / record[key]) as im:
        return np.asarray(im.convert("RGB"))


def read_frames(tub_dirs, limit: int | None = None, seed: int = 0):
    """Frames (uint8 N×H×W×3), angles and throttles (float32 N) from one or more tubs; with
    `limit`, a seeded random subset of that many records (for calibration sets)."""
    if isinstance(tub_dirs, (str, Path)):
        tub_dirs = [tub_dirs]
    items = [(Path(t), r) for t in tub_dirs for r in read_records(t)]
    if not items:
        raise UserError(f"no records in {', '.join(map(str, tub_dirs))}")
    if limit is not None and limit < len(items):
        pick = np.sort(np.random.default_rng(seed).choice(len(items), limit, replace=False))
        items = [items[i] for i in pick]
    frames = np.stack([load_image(t, r) for t, r in items])
    angles = np.array([r.get("user/angle", 0.0) for _, r in items], np.float32)
    throttles = np.array([r.get("user/throttle", 0.0) for _, r in items], np.float32)
    return frames, angles, throttles
