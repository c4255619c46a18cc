from pathlib import Path

import pytest
import yaml

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture
def mini_raw() -> dict:
    """The small test scheme (tests/fixtures/mini.yaml) as a dict, to break in tests."""
    return yaml.safe_load((FIX / "mini.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def mini_path() -> Path:
    return FIX / "mini.yaml"


def write_yaml(tmp_path: Path, raw: dict, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p
