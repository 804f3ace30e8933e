# -*- coding: utf-8 -*-
# Copyright: (c) 2025, carto.selfhosted maintainers
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by the unit and integration tests: test PKI generated at test time (tests/tools/pki.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools"))

from pki import KeyPool, Pki  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def key_pool():
    """Private keys cached by name for the session (RSA generation is the slow part)."""
    return KeyPool()


@pytest.fixture
def pki(key_pool, tmp_path):  # pylint: disable=redefined-outer-name
    """A :class:`Pki` writing its files under the test's ``tmp_path``."""
    return Pki(key_pool, tmp_path)
