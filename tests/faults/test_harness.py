"""The corpus harness itself: it must be able to fail."""

from pathlib import Path

import pytest

from tests.faults.harness import (
    CliOutcome,
    assert_clean_failure,
    assert_previous_or_nothing,
    run_cli,
    snapshot,
)


def test_clean_failure_rejects_a_traceback_and_a_wrong_status():
    tb = CliOutcome(1, "", "Traceback (most recent call last):\n  ...\nKeyError: 'x'\n")
    with pytest.raises(AssertionError, match="traceback"):
        assert_clean_failure(tb, code=1)
    with pytest.raises(AssertionError, match="exit status 1, expected 2"):
        assert_clean_failure(CliOutcome(1, "", "error: panel.csv row 3"), code=2)
    with pytest.raises(AssertionError, match="does not name 'row 4'"):
        assert_clean_failure(CliOutcome(2, "", "error: panel.csv row 3"), names=["row 4"])
    assert_clean_failure(CliOutcome(2, "", "error: panel.csv row 3"), names=["panel.csv", "row 3"])


def test_previous_or_nothing(tmp_path: Path):
    out = tmp_path / "out"
    assert snapshot(out) is None
    assert_previous_or_nothing(out, None)
    out.mkdir()
    (out / "a.csv").write_text("1")
    before = snapshot(out)
    assert before == {"a.csv": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"}
    assert_previous_or_nothing(out, before)
    (out / "b.tmp").write_text("half")
    with pytest.raises(AssertionError, match=r"added \['b.tmp'\]"):
        assert_previous_or_nothing(out, before)
    with pytest.raises(AssertionError, match="after a failed first run"):
        assert_previous_or_nothing(out, None)
    for f in out.iterdir():
        f.unlink()
    with pytest.raises(AssertionError, match=r"removed \['a.csv'\]"):
        assert_previous_or_nothing(out, before)  # the previous result lost


def test_run_cli_in_process_and_as_a_process(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    for sub in (False, True):
        out = run_cli(["validate", missing], subprocess=sub)
        assert out.code != 0
        assert not out.exception
        assert "nope.yaml" in out.text
