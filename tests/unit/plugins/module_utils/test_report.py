"""carto.selfhosted.carto_report_write's backend (plugins/module_utils/_report.py)."""

import json
import os
import stat

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils import _report


def _mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_writes_0600_then_reports_no_change_for_the_same_content(tmp_path):
    dest = str(tmp_path / "verify-report.json")
    first = _report.write_json(dest, {"verdict": "passed", "checks": [{"name": "pods", "status": "passed"}]})
    assert first["changed"] and _mode(dest) == 0o600
    assert json.loads(open(dest).read())["verdict"] == "passed"
    assert open(dest).read().endswith("}\n") and first["bytes"] == os.path.getsize(dest)
    again = _report.write_json(dest, {"checks": [{"status": "passed", "name": "pods"}], "verdict": "passed"})
    assert not again["changed"], "same document, other key order: sorted keys make it the same file"


def test_changed_content_or_mode_is_a_change_and_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / "r.json"
    _report.write_json(str(dest), {"a": 1})
    checked = _report.write_json(str(dest), {"a": 2}, check_mode=True)
    assert checked["changed"] and json.loads(dest.read_text()) == {"a": 1}
    assert '"a": 2' in checked["diff"]["after"] and '"a": 1' in checked["diff"]["before"]
    os.chmod(str(dest), 0o644)
    assert _report.write_json(str(dest), {"a": 1})["changed"] and _mode(dest) == 0o600


def test_a_missing_directory_or_a_bad_document_raises_and_leaves_no_temporary_file(tmp_path):
    with pytest.raises(OSError):
        _report.write_json(str(tmp_path / "missing" / "r.json"), {})
    with pytest.raises(TypeError):
        _report.write_json(str(tmp_path / "r.json"), {"when": object()})
    assert list(tmp_path.iterdir()) == []
