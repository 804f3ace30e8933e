# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Private: build CARTO's ``customizations.yaml`` from the collection's structured variables (not a public API).

Every block mirrors a section of CARTO's Kubernetes guides: the customizations (CC) and the access from
outside the cluster (AO) (https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md) or the
installation guide (KI) (https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes); the
produced keys are the chart's own (see the chart's ``values.yaml``). Secret values never
enter the produced document: credentials are referenced through ``existingSecret`` and
created as Kubernetes Secrets by the ``carto.selfhosted.secrets`` role, so
``customizations.yaml`` can be kept and diffed.

Entry points:

* :func:`build.build_customizations` returns ``(values, problems)``; ``problems`` lists every
  input error at once, each naming the variable, the key and the fix.
* :func:`build.build` returns a dict with the values, the problems in the format of
  ``_values`` (``source``/``path``/``message``/``fix``/``doc``/``rule``), the Secrets
  the ``secrets`` role will create in the same run (name -> keys) and whether TLS is
  terminated in front of the router.

Modules: ``common`` (choices, defaults, doc references, problems, the builder), ``exposure`` (router Service,
Ingress, TLS), ``databases`` (external Postgres, Cloud SQL Auth Proxy, external Redis), ``integrations`` (buckets,
Google Maps, BigQuery OAuth, Redshift imports, service account) and ``build`` (scaling and the whole build).
"""
