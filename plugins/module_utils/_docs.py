# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""The public documents the collection's messages cite, in one place (str URLs).

``INSTALL``: CARTO's Kubernetes + Helm deployment guide; ``REQUIREMENTS``: its hardware and software requirements;
``GUIDE``: CARTO's Helm customization guide (the customizations README of carto-selfhosted-helm), whose sections are
``GUIDE + "#<anchor>"`` (GitHub's anchors of its headings, e.g. ``#access-to-carto-from-outside-the-cluster``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

INSTALL = "https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes"
REQUIREMENTS = "https://docs.carto.com/carto-self-hosted/key-concepts/deployment-requirements"
GUIDE = "https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md"
