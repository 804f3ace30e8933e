# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Private: Helm release state, recovery of stuck releases, safe upgrades and the release lock (not a public API).

Used by the module carto.selfhosted.helm_release_upgrade (and carto_cluster_facts, carto_values_render):

- ``history``: the pure functions (history analysis, recovery plan, version comparison, values diff), no I/O;
- ``lease``: the release lock, a Lease (``LeaseLock``), the kubernetes client and the common argument spec;
- ``cli``: ``HelmRelease`` runs the helm CLI through kubernetes.core's ``AnsibleHelmModule``
  (kubeconfig/context handling) and ``ClusterReader`` reads the diagnostics from the API server;
- ``ops``: the lock, recovery and upgrade decisions each module turns into ``exit_json`` / ``fail_json``.

Sources:
- CARTO's Kubernetes guides (https://github.com/CartoDB/carto-selfhosted-helm/blob/main/customizations/README.md), "Helm upgrade
  fails: another operation (install/upgrade/rollback) is in progress": a release left in ``pending-upgrade`` by an
  upgrade that was not killed gracefully is fixed by ``helm history`` + ``helm rollback
  <release> <last deployed revision>``, then the upgrade is run again.
- CARTO's Kubernetes installation guide (https://docs.carto.com/carto-self-hosted/deployment-guides/kubernetes),
  "Install CARTO" (``helm install`` / ``helm upgrade`` with ``-f carto-values.yaml -f carto-secrets.yaml
  -f customizations.yaml``; pods can take up to 5 minutes) and "Post-installation checks" (workspace-migrations logs).
"""
