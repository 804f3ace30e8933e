"""Filters carto.selfhosted.customizations and autoscaling_enabled (plugins/filter/customizations.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.carto.selfhosted.plugins.filter.customizations import FilterModule

FILTERS = FilterModule().filters()


def test_autoscaling_enabled():
    assert FILTERS["autoscaling_enabled"]({"mapsApi": {"autoscaling": {"enabled": True}}}) is True
    assert FILTERS["autoscaling_enabled"]({"mapsApi": {"autoscaling": {"enabled": False}}, "x": 1}) is False
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        FILTERS["autoscaling_enabled"]([])
