"""The documents the messages cite (plugins/module_utils/_docs.py and the DOC_* constants built on it): public
https URLs, one section anchor at most, never a path of the repository's reference material."""

import re

import pytest

from ansible_collections.carto.selfhosted.plugins.module_utils import (
    _docs, _endpoint_check, carto_preflight, carto_verify)
from ansible_collections.carto.selfhosted.plugins.module_utils._customizations import common
from ansible_collections.carto.selfhosted.plugins.module_utils._tls import certs
from ansible_collections.carto.selfhosted.plugins.module_utils._values import problems

MODULES = [_docs, _endpoint_check, carto_preflight, carto_verify, common, certs, problems]


def _citations():
    for module in MODULES:
        for name, value in sorted(vars(module).items()):
            if isinstance(value, str) and value.startswith("https://"):
                yield "%s.%s" % (module.__name__.rsplit(".", 1)[-1], name), value


@pytest.mark.parametrize("name,url", list(_citations()))
def test_a_citation_is_one_public_url_with_one_section_at_most(name, url):
    link = url.split(",")[0].split(" ")[0]
    assert re.match(r"^https://(docs\.carto\.com|github\.com/CartoDB|access\.crunchydata\.com)/", link), (name, url)
    assert link.count("#") <= 1, "%s: %s has two section anchors" % (name, url)
    assert not re.search(r"shared/|carto-[a-z-]+\.md|pgo-helm-chart", url), (name, url)


def test_the_sections_hang_off_the_guide():
    assert problems.DOC_ACCESS == _docs.GUIDE + "#access-to-carto-from-outside-the-cluster"
    assert problems.DOC_INGRESS == _docs.GUIDE + "#expose-carto-with-ingress-and-your-own-tls-certificates"
