# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see LICENSE)
"""Action plugin of carto.selfhosted.tls_certificate_chain: the certificate checks in the controller process.

The certificate, key, extra certificate and CA bundle files are the operator's files on the controller (the secrets
role reads the same files there to create the TLS Secret), so they are read where they are, with no module payload
and no Python start per task. The work is module_utils/_tls_certificate_chain.py's ``run()``, the same the module's
``main()`` runs; options, return values and errors are the module's (see its documentation). The private key (the
no_log option ``private_key_content``, or the content of the ``private_key`` file) is removed from the result and the
warnings (plugin_utils/_action_runner.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.carto.selfhosted.plugins.module_utils._tls_certificate_chain import (
    ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_ONE_OF, run,
)
from ansible_collections.carto.selfhosted.plugins.plugin_utils._action_runner import BackendAction


class ActionModule(BackendAction):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    RUN = staticmethod(run)
    NAME = "tls_certificate_chain"
    VALIDATION = {"mutually_exclusive": MUTUALLY_EXCLUSIVE, "required_one_of": REQUIRED_ONE_OF}
