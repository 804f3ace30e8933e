# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Private: kubernetes.core's cluster options for the collection's modules, with ``kubeconfig`` kept out of the logs
on every kubernetes.core 6.x.

kubernetes.core up to 6.5 (the ``ansible`` 12 package, ansible-core 2.19) declares ``kubeconfig`` ``no_log``: it may
be a whole kubeconfig as a dict, with tokens and client keys. 6.6 (``ansible`` 14, ansible-core 2.21) no longer does;
only its AnsibleK8SModule hides the secret fields of such a dict, and most modules here are AnsibleHelmModule ones.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy


def auth_argument_spec(spec):
    """A deep copy of ``spec`` (kubernetes.core's ``AUTH_ARG_SPEC`` or ``HELM_AUTH_ARG_SPEC``) with
    ``kubeconfig`` ``no_log``, whichever kubernetes.core 6.x provided it."""
    spec = copy.deepcopy(spec)
    spec["kubeconfig"] = dict(spec["kubeconfig"], no_log=True)
    return spec
