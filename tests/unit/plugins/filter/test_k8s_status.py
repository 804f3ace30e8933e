"""Filters over kubernetes.core.k8s_info results (plugins/filter/k8s_status.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.carto.selfhosted.plugins.filter.k8s_status import FilterModule

FILTERS = FilterModule().filters()


def test_every_filter_has_a_doc_file():
    import pathlib
    here = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "filter"
    for name in FILTERS:
        assert (here / ("%s.yml" % name)).is_file(), name


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_filters_reject_non_lists(name):
    args = {"format_table": (["NAME"],), "pods_with_container": ("x",)}.get(name, ())
    with pytest.raises(AnsibleFilterError, match="expects a list of Kubernetes objects, got dict"):
        FILTERS[name]({}, *args)


def test_format_table_through_the_filter():
    rows = [{"NAME": "carto-router-1", "READY": "1/1"}]
    assert FILTERS["format_table"](rows, ("NAME", "READY")) == ["NAME             READY", "carto-router-1   1/1"]
