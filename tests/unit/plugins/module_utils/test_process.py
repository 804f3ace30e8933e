# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
# SPDX-License-Identifier: Apache-2.0
"""module_utils/_process.py: run_command with a timeout and work beside the command (real processes)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal
import sys
import time

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.carto.selfhosted.plugins.module_utils import _process


@pytest.fixture
def module():
    with patch_module_args({}):
        return AnsibleModule(argument_spec={})


def test_output_and_environment(module):
    rc, out, err, timed_out, value = _process.run(
        module, [sys.executable, "-c", "import os, sys; print(os.environ['CARTO_T']); sys.stderr.write('e')"],
        environ_update={"CARTO_T": "$HOME ~"})
    assert (rc, out, err, timed_out, value) == (0, "$HOME ~\n", "e", False, None)


def test_arguments_are_not_expanded(module):
    rc, out, _err, _t, _v = _process.run(module, [sys.executable, "-c", "import sys; print(sys.argv[1])", "$HOME/~x"])
    assert rc == 0 and out == "$HOME/~x\n"


def test_timeout_kills_the_command(module):
    started = time.monotonic()
    rc, _out, _err, timed_out, _value = _process.run(module, [sys.executable, "-c", "import time; time.sleep(30)"],
                                                     timeout=0.5)
    assert timed_out and rc == -signal.SIGKILL
    assert time.monotonic() - started < 10


def test_beside_runs_while_the_command_prints_more_than_a_pipe_holds(module):
    """The work beside waits for the command to end: the output (1 MB) is read meanwhile, nothing blocks."""
    def beside(proc):
        while proc.poll() is None:
            time.sleep(0.05)
        return "seen exit"
    rc, out, _err, timed_out, value = _process.run(
        module, [sys.executable, "-c", "import sys; sys.stdout.write('x' * 1000000)"], timeout=60, beside=beside)
    assert (rc, len(out), timed_out, value) == (0, 1000000, False, "seen exit")


def test_beside_can_stop_the_command(module):
    def beside(proc):
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        return "stopped"
    rc, _out, _err, _t, value = _process.run(module, [sys.executable, "-c", "import time; time.sleep(30)"],
                                             beside=beside)
    assert rc == -signal.SIGTERM and value == "stopped"


def test_what_beside_raises_is_raised_after_the_command(module):
    def beside(_proc):
        raise RuntimeError("lock lost")
    with pytest.raises(RuntimeError, match="lock lost"):
        _process.run(module, [sys.executable, "-c", "pass"], beside=beside)


def test_a_missing_command_raises_oserror(module):
    with pytest.raises(OSError):
        _process.run(module, ["/nonexistent/carto-no-such-binary"])
