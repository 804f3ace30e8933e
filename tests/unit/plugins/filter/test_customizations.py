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


def test_customizations_still_raises_listing_every_problem():
    with pytest.raises(AnsibleFilterError, match="2 problem"):
        FILTERS["customizations"]({"domain": "", "external_redis": {"port": 1}})
