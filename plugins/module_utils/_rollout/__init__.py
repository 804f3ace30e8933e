# -*- coding: utf-8 -*-
# Copyright (c) carto.selfhosted contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Private: the rollout engine of carto.selfhosted.helm_release_upgrade (not a public API).

- ``classify``: readiness and terminal failure classes of a release's objects (pure functions on the API's JSON);
- ``watch``: watches of the release's objects, failure logs captured as they happen, the verdict;
- ``storage``: marking a first install that the engine stopped ``failed`` in Helm's release storage;
- ``secrets``: the Secret checksums on the pod templates, so a changed Secret rolls exactly its consumers.
"""
