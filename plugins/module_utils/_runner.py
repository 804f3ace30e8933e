# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: the runner of a module backend's ``run(runner)`` for a bare module run (not a public API).

The backends behind an action plugin (module_utils/_values_render.py, module_utils/_tls_certificate_chain.py) take a
runner: ``params``, ``check_mode``, ``diff``, ``fail(msg, **result)``, ``warn(msg)``, ``mask(values)``. The action
plugins use plugin_utils/_action_runner.py; a module's ``main()`` uses :class:`ModuleRunner` over AnsibleModule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleRunner(object):
    """The runner interface over an AnsibleModule: fail_json, warn and no_log_values."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.diff = module._diff  # pylint: disable=protected-access

    def fail(self, msg, **result):
        self.module.fail_json(msg=msg, **result)

    def warn(self, msg):
        self.module.warn(msg)

    def mask(self, values):
        self.module.no_log_values.update(values)
