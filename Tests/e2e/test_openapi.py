"""The REST contract (docs/openapi.yaml, issue 9): the spec is valid OpenAPI 3.1, and a live broker
keeps it under schemathesis's stateful and negative tests."""

from __future__ import annotations

from pathlib import Path

import yaml
from openapi_spec_validator import validate

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def load_spec() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def test_the_spec_is_valid_openapi_3_1():
    spec = load_spec()
    assert spec["openapi"].startswith("3.1"), spec["openapi"]
    validate(spec)   # raises OpenAPIValidationError naming the path of the first problem
