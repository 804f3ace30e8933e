# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Private: import a module_utils module of this collection on first use (for the filter plugins).

Ansible's filter loader imports every filter file of a collection, in the worker process of every task that calls
any of its filters (ansible-core forks one worker per task and host), to find the one it names. A filter file that
imports its backend at the top makes every such task import all the backends: jsonschema, cryptography, the
preflight and verify code, about 0.25 s of CPU per task (measured with py-spy on ansible-core 2.21). The filter
files therefore import nothing heavy at the top and call ``backend(name)`` inside the filter.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib

_PACKAGE = "ansible_collections.carto.selfhosted.plugins.module_utils."


def backend(name):
    """The module ``plugins/module_utils/<name>`` (dotted, e.g. ``_values.merge``), imported once per process.

    Raises ImportError as ``import`` would.
    """
    return importlib.import_module(_PACKAGE + name)
