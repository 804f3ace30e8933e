# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Private: PyYAML with the fastest safe loader available (libyaml's ``CSafeLoader`` when PyYAML was built with it,
else ``SafeLoader``). ``yaml`` and ``LOADER`` are None without PyYAML (a requirement of ansible-core)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import yaml

    LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
except ImportError:  # pragma: no cover - PyYAML is a requirement of ansible-core
    yaml = None
    LOADER = None
