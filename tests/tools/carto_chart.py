"""CARTO's real chart beside the checkout, its customization examples, and what a rendered chart is made of.

Shared by the tests that use the real chart ``carto/carto`` 1.287.1 (``<repo>/../shared/carto-chart``, on developer
machines and in CI only; ``$CARTO_SHARED_DIR`` overrides ``<repo>/../shared``) and by the contract test between it
and the offline look-alike tests/charts/carto (tests/unit/test_chart_contract.py):

- where the charts and CARTO's ``customizations-examples/`` are, the example files, and how the files of a
  high-availability profile are combined (CARTO docs, "Customizations" > "High Availability": the profile's
  ``customizations.yaml`` together with its static scaling or autoscaling file);
- ``summary()``: the workloads, Services, Secrets, HPAs, PDBs and Ingresses of a rendered manifest, the container
  and init container names of each workload, and the Secrets each pod reads (env, envFrom, volumes);
- ``values_read()``: the values key paths a chart's templates read (a static scan of ``.Values.<path>``, with the
  template variables that hold a part of ``.Values`` followed; a key the chart reads through a variable key, such as
  ``index .Values $key``, is a ``*`` segment), and ``keys_read()`` of one values file against them.
"""

import os
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
TEST_CHART = REPO / "tests" / "charts" / "carto"
SHARED = pathlib.Path(os.environ.get("CARTO_SHARED_DIR") or str(REPO.parent / "shared"))
REAL_CHART = SHARED / "carto-chart"  # carto/carto 1.287.1, developer machines and CI only
EXAMPLES_DIR = REAL_CHART / "customizations-examples"
HA_PROFILES = ("standard", "standard_with_upgrades")
# A profile's files in merge order (later wins, as with helm -f): anti-affinity, static scaling, autoscaling.
HA_FILES = ("customizations.yaml", "development.yaml", "autoscaling.yaml")

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
CONTRACT_KINDS = WORKLOAD_KINDS + ("Service", "Secret", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress")


def real_chart_present():
    return (REAL_CHART / "Chart.yaml").is_file()


def example_files():
    """Every example customization file, relative to EXAMPLES_DIR (posix), sorted; [] without the real chart."""
    if not EXAMPLES_DIR.is_dir():
        return []
    return sorted(p.relative_to(EXAMPLES_DIR).as_posix() for p in EXAMPLES_DIR.rglob("*.yaml"))


def ha_profile_files(profile, names=HA_FILES):
    """The files of one high-availability profile folder, in merge order."""
    return ["high_availability/%s/%s" % (profile, name) for name in names]


def example_combinations():
    """Case id -> example files (relative, merge order): every file alone, and each high-availability profile as
    CARTO's docs combine it, the anti-affinity file with its static scaling file and with its autoscaling file."""
    cases = {relpath: [relpath] for relpath in example_files()}
    if cases:
        for profile in HA_PROFILES:
            cases["high_availability/%s/+static" % profile] = ha_profile_files(
                profile, ("customizations.yaml", "development.yaml"))
            cases["high_availability/%s/+autoscaling" % profile] = ha_profile_files(
                profile, ("customizations.yaml", "autoscaling.yaml"))
    return cases


# --------------------------------------------------------------------------------------------- rendered manifest


def _pod_spec(obj):
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("spec")) or {}


def _secret_refs(pod):
    refs = set()
    for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                refs.add("env %s/%s" % (ref.get("name"), ref.get("key")))
        for source in container.get("envFrom") or []:
            if source.get("secretRef"):
                refs.add("envFrom %s" % source["secretRef"].get("name"))
    for volume in pod.get("volumes") or []:
        if volume.get("secret"):
            refs.add("volume %s" % volume["secret"].get("secretName"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            if source.get("secret"):
                refs.add("volume %s" % source["secret"].get("name"))
    return refs


def summary(docs):
    """What the contract compares of a rendered manifest (list of objects): {"objects": {"Kind/name"},
    "containers": {"Kind/name": "containers=[..] initContainers=[..]"}, "secret_refs": {"Kind/name ref"}}."""
    objects, containers, secret_refs = set(), {}, set()
    for obj in docs:
        if not isinstance(obj, dict) or obj.get("kind") not in CONTRACT_KINDS:
            continue
        ident = "%s/%s" % (obj["kind"], obj["metadata"]["name"])
        objects.add(ident)
        if obj["kind"] in WORKLOAD_KINDS:
            pod = _pod_spec(obj)
            containers[ident] = "containers=%s initContainers=%s" % (
                sorted(c["name"] for c in pod.get("containers") or []),
                sorted(c["name"] for c in pod.get("initContainers") or []))
            secret_refs.update("%s %s" % (ident, ref) for ref in _secret_refs(pod))
    return {"objects": objects, "containers": containers, "secret_refs": secret_refs}


# ------------------------------------------------------------------------------------------ value keys read


_ACTION = re.compile(r"{{-?(.*?)-?}}", re.S)
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_SEG = r"(?:\.[A-Za-z_][A-Za-z0-9_]*)"
_VALUES = re.compile(r"(?<![A-Za-z0-9_])(?:\$[A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*)*?\.Values(%s*)" % _SEG)
_VAR_CHAIN = re.compile(r"\$([A-Za-z0-9_]+)(%s+)" % _SEG)
_ARG = r'(?:"[^"]*"|\$[A-Za-z0-9_]*%s*|\.[A-Za-z_][A-Za-z0-9_]*%s*)' % (_SEG, _SEG)
_BASE = r"(\$[A-Za-z0-9_]*%s*|(?:\$[A-Za-z0-9_]*)?%s*\.Values%s*)" % (_SEG, _SEG, _SEG)
_INDEX = re.compile(r"\b(?:index|get|hasKey)\s+%s((?:\s+%s)+)" % (_BASE, _ARG))
_DIG = re.compile(r'\bdig((?:\s+"[^"]*")+)\s+%s\s+%s' % (_ARG.replace('"[^"]*"|', '"[^"]*"|[A-Za-z0-9_]+|'), _BASE))
_ASSIGN = re.compile(r"\$([A-Za-z0-9_]+)\s*:?=\s*\(?\s*(.*)$", re.S)
_RANGE = re.compile(r"^\s*range\s+(?:\$[A-Za-z0-9_]+\s*,\s*)?\$([A-Za-z0-9_]+)\s*:=\s*(.*)$", re.S)


def _literal(arg):
    return arg[1:-1] if arg.startswith('"') else "*"


class _Scope:
    """Template variables that hold a part of .Values (path tuples, "*" for a variable key)."""

    def __init__(self):
        self.aliases = {}

    def base(self, text):
        """A base expression (``.Values.a.b``, ``$.Values.a``, ``$.context.Values``, ``$v.c``) -> path or None."""
        text = text.strip()
        match = re.match(r"^(?:\$[A-Za-z0-9_]*)?%s*\.Values(%s*)$" % (_SEG, _SEG), text)
        if match:
            return tuple(s for s in match.group(1).split(".") if s)
        match = re.match(r"^\$([A-Za-z0-9_]+)(%s*)$" % _SEG, text)
        if match and match.group(1) in self.aliases:
            return self.aliases[match.group(1)] + tuple(s for s in match.group(2).split(".") if s)
        return None

    def expression(self, text):
        """The path an assigned expression stands for (first command of a pipeline), or None."""
        text = text.split("|")[0].strip().lstrip("(").strip()
        match = _INDEX.match(text)
        if match and match.start() == 0:
            base = self.base(match.group(1))
            args = re.findall(_ARG, match.group(2))
            return None if base is None else base + tuple(_literal(a) for a in args)
        match = _DIG.match(text)
        if match and match.start() == 0:
            base = self.base(match.group(2))
            return None if base is None else base + tuple(re.findall(r'"([^"]*)"', match.group(1)))
        return self.base(text.split()[0].rstrip(")")) if text.split() else None

    def references(self, action):
        """The .Values paths one template action reads."""
        refs = set()
        for match in _VALUES.finditer(action):
            path = tuple(s for s in match.group(1).split(".") if s)
            if path:
                refs.add(path)
        for match in _VAR_CHAIN.finditer(action):
            path = self.base(match.group(0))
            if path:
                refs.add(path)
        for match in _INDEX.finditer(action):
            base = self.base(match.group(1))
            if base is not None:
                path = base + tuple(_literal(a) for a in re.findall(_ARG, match.group(2)))
                refs.add(path if match.group(0).startswith("index") else path[:len(base) + 1])
        for match in _DIG.finditer(action):
            base = self.base(match.group(2))
            if base is not None:
                refs.add(base + tuple(re.findall(r'"([^"]*)"', match.group(1))))
        return {r for r in refs if r and set(r) != {"*"}}

    def assign(self, action):
        match = _RANGE.match(action)
        if match:
            path = self.expression(match.group(2))
            if path is not None:
                self.aliases[match.group(1)] = path + ("*",)
            return
        match = _ASSIGN.search(action)
        if match:
            path = self.expression(match.group(2))
            if path is not None:
                self.aliases[match.group(1)] = path
            else:
                self.aliases.pop(match.group(1), None)


def _template_files(chart):
    for path in sorted((chart / "templates").rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".tpl", ".txt"):
            yield path


def _subcharts(chart):
    """(subchart directory, values prefix): an aliased dependency reads its own values under its alias; a library
    chart (Bitnami common) is called with its parent's context and reads the parent's values."""
    meta = yaml.safe_load((chart / "Chart.yaml").read_text()) or {}
    for dep in meta.get("dependencies") or []:
        directory = chart / "charts" / dep["name"]
        if not directory.is_dir():
            continue
        library = (yaml.safe_load((directory / "Chart.yaml").read_text()) or {}).get("type") == "library"
        yield directory, () if library else (dep.get("alias") or dep["name"],)


def values_read(chart, prefix=()):
    """Every .Values path (tuple) the templates of ``chart`` and of its subcharts reference."""
    chart = pathlib.Path(chart)
    refs = set()
    for path in _template_files(chart):
        scope = _Scope()
        for action in _ACTION.findall(_COMMENT.sub("", path.read_text())):
            scope.assign(action)
            refs.update(prefix + r for r in scope.references(action))
    for directory, sub_prefix in _subcharts(chart):
        refs.update(values_read(directory, prefix + sub_prefix))
    return refs


def leaves(values, prefix=()):
    """Dotted paths (tuples) of the leaves of a values tree (a list or a scalar is a leaf)."""
    if isinstance(values, dict) and values:
        for key, value in values.items():
            yield from leaves(value, prefix + (str(key),))
    elif prefix:
        yield prefix


def _matches(ref, leaf):
    return all(r in ("*", l) for r, l in zip(ref, leaf))


def keys_read(values, refs):
    """The leaves of ``values`` a chart reads: a referenced path is the leaf, a prefix of it, or below it."""
    return {".".join(leaf) for leaf in leaves(values) if any(_matches(ref, leaf) for ref in refs)}
