# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Private: commands through ``AnsibleModule.run_command`` (ansible-test 2.21 refuses ``subprocess`` in module code),
with the two things it lacks: a timeout, and work done while the command runs.

run_command reads the command's output until it exits; ``before_communicate_callback`` hands over the started
process first. The timeout is a timer that kills the process, the work a thread (``beside(proc)``), so the output is
drained all along (no pipe fills up, whatever the command prints).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading


def run(module, argv, environ_update=None, timeout=None, beside=None):
    """Run ``argv`` (a list: no shell, no ``~``/``$VAR`` expansion). Returns ``(rc, stdout, stderr, timed_out, value)``.

    ``timeout`` (seconds): the process is killed then (``rc`` -9, ``timed_out`` True). ``beside(proc)`` runs in a
    thread from the start of the process (it may signal it); its return value is ``value``, and what it raises is
    raised here once the command has exited. A command that cannot be started raises OSError.
    """
    state = {"timed_out": False, "timer": None, "thread": None}

    def started(proc):
        if timeout:
            def kill():
                if proc.poll() is None:
                    state["timed_out"] = True
                    proc.kill()
            state["timer"] = threading.Timer(timeout, kill)
            state["timer"].daemon = True
            state["timer"].start()
        if beside is not None:
            def work():
                # What beside() raises is re-raised in the caller's thread.
                try:
                    state["value"] = beside(proc)
                except BaseException as exc:  # pylint: disable=broad-except
                    state["error"] = exc
            state["thread"] = threading.Thread(target=work, name="carto-beside-%s" % argv[0])
            state["thread"].daemon = True
            state["thread"].start()

    try:
        rc, out, err = module.run_command(list(argv), environ_update=environ_update,
                                          before_communicate_callback=started, expand_user_and_vars=False,
                                          handle_exceptions=False)
    finally:
        if state["timer"] is not None:
            state["timer"].cancel()
    if state["thread"] is not None:
        state["thread"].join()
    if "error" in state:
        raise state["error"]
    return rc, out, err, state["timed_out"], state.get("value")
