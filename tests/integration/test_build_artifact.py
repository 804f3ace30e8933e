"""The Galaxy artifact: built, installed into a clean collections dir, and usable with FQCNs from there.

No Galaxy access is needed: the artifact is installed with --no-deps, its dependencies (kubernetes.core,
community.crypto) come from the `ansible` package. The repository's own link (.ansible/collections) is
kept off the path, so everything below resolves from the installed artifact.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

# Module-scoped fixtures (one cluster setup or artifact for the whole file): keep the file on one
# xdist worker (--dist loadgroup); the other tests are spread one by one.
pytestmark = pytest.mark.xdist_group("build_artifact")


ROOT = pathlib.Path(__file__).resolve().parents[2]


def _run(argv, env, cwd, check=True):
    proc = subprocess.run(argv, env=env, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          check=False)
    if check:
        assert proc.returncode == 0, "%s\n%s\n%s" % (argv, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("artifact")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(HOME=str(base / "home"), ANSIBLE_COLLECTIONS_PATH=str(base / "collections"),
               ANSIBLE_CONFIG=str(base / "ansible.cfg"))
    (base / "ansible.cfg").write_text("[defaults]\ninterpreter_python = auto_silent\n", encoding="utf-8")
    _run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(base / "dist"), str(ROOT)],
         env, base)
    artifact = next((base / "dist").glob("carto-selfhosted-*.tar.gz"))
    _run(["ansible-galaxy", "collection", "install", "--no-deps", "--force", "-p", str(base / "collections"),
          str(artifact)], env, base)
    return {"base": base, "env": env, "artifact": artifact,
            "tree": base / "collections" / "ansible_collections" / "carto" / "selfhosted"}


def test_artifact_contents(installed):
    with tarfile.open(installed["artifact"]) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert (info["namespace"], info["name"], info["version"]) == ("carto", "selfhosted", galaxy["version"])
    assert info["dependencies"] == galaxy["dependencies"]
    for required in ("meta/runtime.yml", "playbooks/install.yml", "playbooks/uninstall.yml", "roles/values/README.md",
                     "collections/requirements.yml", "bindep.txt", "execution-environment.yml",
                     "meta/execution-environment.yml", "awx/configure.yml", "awx/tasks/apply.yml", "docs/index.md",
                     "tests/sanity/ignore-2.19.txt", "tests/sanity/ignore-2.21.txt", "CHANGELOG.md"):
        assert required in names, required
    for name in names:
        top = name.split("/", 1)[0]
        # developer tools and benchmarks stay in the repository (galaxy.yml build_ignore)
        assert top not in (".cache", ".git", ".ansible", ".pytest_cache", ".venv", "tools", "benchmarks"), name
        assert not name.startswith("tests/output"), name


def _plugins(kind):
    directory = ROOT / "plugins" / ("modules" if kind == "module" else kind)
    if kind == "module":
        return sorted(p.stem for p in directory.glob("*.py") if p.stem != "__init__")
    return sorted(p.stem for p in directory.glob("*.yml"))


@pytest.mark.parametrize("kind", ["module", "filter"])
def test_ansible_doc_renders_every_plugin_from_the_artifact(installed, kind):
    names = ["carto.selfhosted." + n for n in _plugins(kind)]
    assert names
    proc = _run(["ansible-doc", "--json", "-t", kind] + names, installed["env"], installed["base"])
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted(names)
    for name, data in docs.items():
        assert data["doc"]["short_description"], name
        assert data["doc"]["filename"].startswith(str(installed["tree"])), (name, data["doc"]["filename"])
    # the text renderer too (what a user runs)
    text = _run(["ansible-doc", "-t", kind, names[0]], installed["env"], installed["base"]).stdout
    assert names[0] in text


def test_roles_are_listed_with_their_argument_specs(installed):
    proc = _run(["ansible-doc", "--json", "-t", "role", "-l", "carto.selfhosted"], installed["env"], installed["base"])
    listed = set(json.loads(proc.stdout))
    with_specs = {"carto.selfhosted." + p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml")}
    assert with_specs and with_specs <= listed


@pytest.mark.parametrize("playbook", sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml")))
def test_playbooks_run_by_fqcn_from_the_artifact(installed, playbook):
    proc = _run(["ansible-playbook", "--syntax-check", "-i", "localhost,", "carto.selfhosted." + playbook],
                installed["env"], installed["base"])
    assert "playbook: " in proc.stdout
    # a name that is not in the collection fails: the check above really resolved the artifact's playbook
    missing = _run(["ansible-playbook", "--syntax-check", "-i", "localhost,", "carto.selfhosted.no_such_" + playbook],
                   installed["env"], installed["base"], check=False)
    assert missing.returncode != 0


def test_fqcn_module_runs_from_the_artifact(installed, tmp_path):
    play = [{"name": "FQCN from the artifact", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "Validate values", "carto.selfhosted.carto_values_render": {"values": {}},
                        "register": "result", "failed_when": False},
                       {"name": "Show", "ansible.builtin.debug": {"msg": "RESULT {{ result.failed }}"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play), encoding="utf-8")
    env = dict(installed["env"])
    proc = _run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" +
                 sys.executable, str(tmp_path / "play.yml")], env, installed["base"], check=False)
    assert "couldn't resolve module" not in proc.stdout + proc.stderr
    assert "RESULT" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_docs_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_docs.py"), "--check"], cwd=str(ROOT),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("ansible-builder") is None, reason="ansible-builder not installed")
def test_execution_environment_context(installed, tmp_path):
    """ansible-builder create (no container engine needed) with the built artifact."""
    work = tmp_path / "ee"
    (work / ".cache" / "dist").mkdir(parents=True)
    shutil.copy(installed["artifact"], work / ".cache" / "dist" / "carto-selfhosted.tar.gz")
    for name in ("execution-environment.yml", "bindep.txt"):
        shutil.copy(ROOT / name, work / name)
    (work / "meta").mkdir()
    shutil.copy(ROOT / "meta" / "ee-requirements.txt", work / "meta" / "ee-requirements.txt")
    _run(["ansible-builder", "create", "-f", "execution-environment.yml", "-c", str(work / "context")],
         installed["env"], work)
    containerfile = next(p for p in (work / "context").iterdir() if p.name in ("Containerfile", "Dockerfile"))
    text = containerfile.read_text(encoding="utf-8")
    assert "helm-${HELM_VERSION}-linux-${TARGETARCH}.tar.gz.sha256sum" in text
    assert "sha256sum -c" in text and "/usr/local/bin/kubectl" in text
    requirements = yaml.safe_load((work / "context" / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    names = [c["name"] for c in requirements["collections"]]
    assert "/build/collection/carto-selfhosted.tar.gz" in names
    assert {"kubernetes.core", "community.crypto"} <= set(names)
    assert (work / "context" / "_build" / "collection" / "carto-selfhosted.tar.gz").is_file()
    python = (work / "context" / "_build" / "requirements.txt").read_text(encoding="utf-8")
    assert "kubernetes" in python and "ansible-lint" not in python
