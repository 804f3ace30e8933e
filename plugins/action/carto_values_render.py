# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of carto.selfhosted.carto_values_render: rendering, validation and merge in the controller process.

The structured variables, the values files and the chart's schema (module_utils/values_schema.json) are all on the
controller, and customizations.yaml is written there, so there is no module payload to build and no Python to start
per task. The work is module_utils/_values_render.py's ``run()``, the same the module's ``main()`` runs; the options,
return values and errors are the module's (see its documentation).

Secrets: the secret values found in the inputs and the merged values are removed from the result as Ansible removes
a module's ``no_log`` values. A valid run returns the merged values themselves (RV(merged_values), for Helm); that result is
marked ``_ansible_no_log`` (plugin_utils/_action_runner.py), so it is censored in every callback whatever the
verbosity, while a failed run's problems (which hold no secret value) are shown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils._k8s import client as cluster_client
from ansible_collections.carto.selfhosted.plugins.module_utils._values_render import ARGUMENT_SPEC, run
from ansible_collections.carto.selfhosted.plugins.plugin_utils._action_runner import BackendAction


class ActionModule(BackendAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    RUN = staticmethod(run)
    NAME = "carto_values_render"
    SECRET_KEYS = ("merged_values",)
    VALIDATION = {"mutually_exclusive": cluster_client.AUTH_MUTUALLY_EXCLUSIVE}
