"""carto.selfhosted.carto_report_write as Ansible runs it: the action plugin, in the controller process."""

import json
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[4]

PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
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


def _run(tmp_path, verdict, *args):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"),
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(play), "-i",
                           "localhost,", "-c", "local", "-e", json.dumps({"dest": str(tmp_path / "r.json"),
                                                                          "verdict": verdict,
                                                                          "result": str(tmp_path / "out.json")})] + list(args),
                          capture_output=True, text=True, env=env, cwd=str(REPO), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "out.json").read_text())


def test_writes_on_the_controller_and_check_mode_keeps_the_file(tmp_path):
    first = _run(tmp_path, "passed")
    assert first["changed"] and json.loads((tmp_path / "r.json").read_text())["verdict"] == "passed"
    assert oct((tmp_path / "r.json").stat().st_mode & 0o777) == "0o600"
    checked = _run(tmp_path, "failed", "--check", "--diff")
    assert checked["changed"] and '"failed"' in checked["diff"]["after"]
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "passed"
