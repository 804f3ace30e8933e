# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Unit tests of plugins/module_utils/_rollout/storage.py: Helm's release storage format round trip."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import json

from ansible_collections.carto.selfhosted.plugins.module_utils._rollout import storage


def test_release_round_trip_matches_helms_encoding():
    release = {"name": "carto", "version": 1, "info": {"status": "pending-install"}}
    # Helm's secrets driver: base64(gzip(json)) (pkg/storage/driver/util.go encodeRelease).
    helm_encoded = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    assert storage.decode_release(helm_encoded) == release
    assert storage.decode_release(storage.encode_release(release)) == release
