# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: run a module backend's ``run(runner)`` inside an action plugin, in the controller process.

A backend (module_utils/_values_render.py, module_utils/_tls_certificate_chain.py) is written against a small
runner interface so that the same code runs as a module (its ``main()`` wraps AnsibleModule) and as an action
plugin (how every task of the collection runs it: no payload, no Python start, files read on the controller):

- ``params`` (dict, validated against the backend's ARGUMENT_SPEC), ``check_mode`` and ``diff`` (bool);
- ``fail(msg, **result)`` (does not return), ``warn(msg)``, ``mask(values)`` (secret strings to remove from the
  result, as AnsibleModule's ``no_log_values``).

``BackendAction`` is the action plugin of such a backend: a subclass sets ``ARGUMENT_SPEC``, ``RUN`` (the backend's
``run``), ``NAME`` and optionally ``SECRET_KEYS`` and ``VALIDATION`` (keywords of ``validate_argument_spec``);
``ControllerAction`` is the base of every action of the collection (no connection, no file transfer).
``run_action(action, result, argument_spec, run, ...)`` returns the task result: bad options are a failed result
(as a module's are, so ``failed_when`` and ``ignore_errors`` apply); the values of ``no_log`` options and everything
``mask()`` was given are removed from it with Ansible's own ``remove_values``; the keys listed in ``secret_keys``
are kept out of that masking and, when present, mark the result ``_ansible_no_log`` (Ansible ORs it with the task's
``no_log``, ansible-core ``Task.update_result_no_log``), so the callbacks censor it at every verbosity.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase


class _Failed(Exception):
    def __init__(self, msg, result):
        super(_Failed, self).__init__(msg)
        self.result = dict(result, msg=msg, failed=True)


class ActionRunner(object):
    """The runner interface of a module backend, for an action plugin."""

    def __init__(self, params, check_mode, diff):
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.warnings = []
        self.secrets = set()

    def fail(self, msg, **result):
        raise _Failed(msg, result)

    def warn(self, msg):
        self.warnings.append(msg)

    def mask(self, values):
        self.secrets.update(values)


def run_action(action, result, argument_spec, run, name, secret_keys=(), **validation):
    """Validate the task's options, run ``run(runner)`` and return ``result`` updated with its output.

    ``action`` is the ActionModule, ``result`` what ``ActionBase.run()`` returned, ``validation`` the extra keywords
    of ``validate_argument_spec`` (``mutually_exclusive``, ``required_one_of``). An ``IOError``/``OSError`` the
    backend does not handle is an ``AnsibleActionFail`` named ``<name>: <error>``.
    """
    try:
        checked, params = action.validate_argument_spec(argument_spec=argument_spec, **validation)
    except AnsibleActionFail as exc:
        result.update(failed=True, msg=getattr(exc, "message", None) or str(exc))
        return result
    runner = ActionRunner(params, bool(action._task.check_mode), bool(action._task.diff))  # pylint: disable=protected-access
    try:
        output = run(runner)
    except _Failed as exc:
        output = exc.result
    except (IOError, OSError) as exc:
        raise AnsibleActionFail("%s: %s" % (name, exc))
    # What AnsibleModule masks in a module's output: the values of no_log options and those given to mask().
    secrets = runner.secrets | checked._no_log_values  # pylint: disable=protected-access
    kept = dict((key, output.pop(key)) for key in secret_keys if key in output)
    result.update(remove_values(output, secrets))
    if runner.warnings:
        result["warnings"] = list(result.get("warnings") or []) + remove_values(runner.warnings, secrets)
    if kept:
        result.update(kept, _ansible_no_log=True)
    return result


class ControllerAction(ActionBase):
    """An action that runs in the controller process only: no connection to the host, no file transfer."""

    TRANSFERS_FILES = False
    _requires_connection = False


class BackendAction(ControllerAction):
    """The action plugin of a module backend (see the module docstring); subclasses only set the class attributes."""

    ARGUMENT_SPEC = {}
    RUN = None
    NAME = ""
    SECRET_KEYS = ()
    VALIDATION = {}

    def run(self, tmp=None, task_vars=None):
        result = super(BackendAction, self).run(tmp, task_vars)
        return run_action(self, result, self.ARGUMENT_SPEC, self.RUN, self.NAME, secret_keys=self.SECRET_KEYS,
                          **self.VALIDATION)
