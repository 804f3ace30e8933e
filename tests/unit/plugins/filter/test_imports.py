"""The filter plugin files import no backend at load time (plugins/module_utils/_lazy.py says why: Ansible's filter
loader imports every filter file of the collection in the worker of every task that calls one of its filters)."""

import glob
import json
import os
import subprocess
import sys

import pytest

FILTER_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "filter")
FILTER_FILES = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(FILTER_DIR, "*.py")))
# What a filter's backend pulls in; none of it may be loaded by merely loading the filter files.
HEAVY = ("jsonschema", "cryptography", "kubernetes", "yaml",
         "ansible_collections.carto.selfhosted.plugins.module_utils._values",
         "ansible_collections.carto.selfhosted.plugins.module_utils._customizations",
         "ansible_collections.carto.selfhosted.plugins.module_utils._tls",
         "ansible_collections.carto.selfhosted.plugins.module_utils.carto_preflight",
         "ansible_collections.carto.selfhosted.plugins.module_utils.carto_verify",
         "ansible_collections.carto.selfhosted.plugins.module_utils.k8s_status")

PROBE = """
import importlib, json, sys
before = set(sys.modules)
for name in sys.argv[1:]:
    importlib.import_module("ansible_collections.carto.selfhosted.plugins.filter." + name).FilterModule().filters()
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _loaded_by(names):
    out = subprocess.run([sys.executable, "-c", PROBE] + list(names), check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return json.loads(out.stdout)


@pytest.mark.parametrize("name", FILTER_FILES)
def test_loading_a_filter_file_imports_no_backend(name):
    loaded = _loaded_by([name])
    heavy = [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == [], "plugins/filter/%s.py imports %s when loaded; import it inside the filter (_lazy.backend)" % (
        name, ", ".join(heavy))


def test_the_probe_sees_a_backend_once_a_filter_runs():
    # The same probe, after calling a filter: the backend is then loaded, so the check above can fail.
    probe = PROBE.replace(".filters()", ".filters()['checks_summary']([])")
    out = subprocess.run([sys.executable, "-c", probe, "checks"], check=True, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert "ansible_collections.carto.selfhosted.plugins.module_utils.carto_checks" in out.stdout
