# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of carto.selfhosted.carto_report_write: the write happens in the controller process (see the
module's documentation for options, return values and errors)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail

from ansible_collections.carto.selfhosted.plugins.module_utils._report import ARGUMENT_SPEC, write_json
from ansible_collections.carto.selfhosted.plugins.plugin_utils._action_runner import ControllerAction


class ActionModule(ControllerAction):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _spec, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            mode = int(args["mode"], 8)
        except ValueError:
            raise AnsibleActionFail("mode %r is not an octal string such as 0600" % args["mode"])
        try:
            written = write_json(args["dest"], args["content"], mode, self._task.check_mode)
        except (OSError, TypeError, ValueError) as exc:
            raise AnsibleActionFail("cannot write %s: %s" % (args["dest"], exc))
        if not self._task.diff:
            written.pop("diff")
        result.update(written)
        return result
