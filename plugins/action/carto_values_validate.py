# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of carto.selfhosted.carto_values_validate: the validation runs in the controller process.

The values, the customization files and the chart's schema (module_utils/values_schema.json) are all on the
controller, so there is no module payload to build and no Python to start per task. The work is
module_utils/_values_validate.py's ``run()``, the same the module's ``main()`` runs; the options, return values and
errors are the module's (see its documentation). Secret values found in the sources and the merged values are
removed from the result as Ansible removes a module's ``no_log`` values (``remove_values``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils._values_validate import ARGUMENT_SPEC, run


class _Failed(Exception):
    def __init__(self, msg, result):
        super(_Failed, self).__init__(msg)
        self.result = dict(result, msg=msg, failed=True)


class _ActionRunner(object):
    """The runner of module_utils/_values_validate.py's ``run()`` for the action plugin."""

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


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        try:
            validation, params = self.validate_argument_spec(
                argument_spec=ARGUMENT_SPEC, mutually_exclusive=cluster_client.AUTH_MUTUALLY_EXCLUSIVE)
        except AnsibleActionFail as exc:
            # A failed result, as the module returns for bad options: failed_when and ignore_errors apply to it.
            result.update(failed=True, msg=getattr(exc, "message", None) or str(exc))
            return result
        runner = _ActionRunner(params, bool(self._task.check_mode), bool(self._task.diff))
        try:
            output = run(runner)
        except _Failed as exc:
            output = exc.result
        except (IOError, OSError) as exc:
            raise AnsibleActionFail("carto_values_validate: %s" % exc)
        # What AnsibleModule masks in a module's output: the values of no_log options (kubeconfig, api_key) and
        # the secrets run() found in the sources and the merged values.
        secrets = runner.secrets | validation._no_log_values  # pylint: disable=protected-access
        result.update(remove_values(output, secrets))
        if runner.warnings:
            result["warnings"] = list(result.get("warnings") or []) + remove_values(runner.warnings, secrets)
        return result
