"""Read a YAML file into a pydantic model with one-line errors naming the file and the field.

Shared by every validated YAML edgekit reads (boards, rigs), so a bad file always reads
`FILE: field 'a.b': message` and exits 2.
"""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edgekit.errors import UserError

M = TypeVar("M", bound=BaseModel)


def one_line(path: Path, exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{path}: field '{field}': {err['msg']}{more}"


def load_validated(path: Path, model: type[M], what: str) -> M:
    """Parse `path` and validate it as `model`; `what` names the kind of file in messages."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of {what} fields, got {type(data).__name__}")
    try:
        return model.model_validate({**data, "path": str(path)})
    except ValidationError as exc:
        raise UserError(one_line(path, exc)) from None
