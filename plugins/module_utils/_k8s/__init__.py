# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
# SPDX-License-Identifier: Apache-2.0
"""Private: the one way the collection's modules reach the cluster (``client``).

Every module that talks to the API server or runs helm takes its options from ``client.argument_spec()``
(documented by the doc fragment ``carto.selfhosted.cluster``) and gets its kubernetes ``ApiClient`` from
``client.api_client()``, which is kubernetes.core's ``get_api_client``. Nothing else turns those options into a
client.
"""
