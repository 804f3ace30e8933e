"""carto.selfhosted.carto_report_write as Ansible runs it: the action plugin, in the controller process."""

import json

TASKS = """
    - name: Write
      carto.selfhosted.carto_report_write:
        dest: "{{ dest }}"
        content: "{{ {'verdict': verdict, 'checks': [{'name': 'pods', 'status': verdict}]} }}"
      register: written
    - name: Result
      ansible.builtin.copy:
        content: "{{ written | to_json }}"
        dest: "{{ result }}"
        mode: "0600"
      check_mode: false
"""


def _run(run_play, tmp_path, verdict, *args):
    rc, output = run_play(TASKS, {"dest": str(tmp_path / "r.json"), "verdict": verdict,
                                  "result": str(tmp_path / "out.json")}, *args)
    assert rc == 0, output
    return json.loads((tmp_path / "out.json").read_text())


def test_writes_on_the_controller_and_check_mode_keeps_the_file(run_play, tmp_path):
    first = _run(run_play, tmp_path, "passed")
    assert first["changed"] and json.loads((tmp_path / "r.json").read_text())["verdict"] == "passed"
    assert oct((tmp_path / "r.json").stat().st_mode & 0o777) == "0o600"
    checked = _run(run_play, tmp_path, "failed", "--check", "--diff")
    assert checked["changed"] and '"failed"' in checked["diff"]["after"]
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "passed"
