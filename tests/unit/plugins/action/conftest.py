"""Fixtures of the action plugin tests: a one-task play on localhost, run by ansible-playbook as Ansible runs it."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[4]

PLAY_HEAD = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
"""


@pytest.fixture
def run_play(tmp_path):
    """run_play(tasks, extra_vars, *args) -> (rc, output): ``tasks`` is the YAML of the play's tasks (indented four
    spaces), run with this repository's collection, ansible.cfg and the JSON extra vars."""

    def run(tasks, extra_vars, *args):
        play = tmp_path / "play.yml"
        play.write_text(PLAY_HEAD + tasks)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"),
                   ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(play), "-i",
                               "localhost,", "-c", "local", "-e", json.dumps(extra_vars)] + list(args),
                              capture_output=True, text=True, env=env, cwd=str(REPO), check=False)
        return proc.returncode, proc.stdout + proc.stderr

    return run
