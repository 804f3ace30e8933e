#!/usr/bin/env python3
"""A real Kubernetes control plane on loopback, for the tests and inventories/local.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the
upstream programs, built from the Go modules pinned in ``go/go.mod``; kwok
(sigs.k8s.io/kwok) plays the kubelets of a few fake nodes and moves pods
through their lifecycle (``kwok-stages.yaml``). Helm 3 and Helm 4 are built from
the pinned modules in ``helm/v3`` and ``helm/v4`` (``HELM_VERSIONS``; ``CARTO_HELM_MAJOR``
picks the one on PATH as ``helm``). A real metrics-server (``sigs.k8s.io/metrics-server`` v0.8.0, pinned in
``metrics-server/go.mod``) is registered as the APIService ``v1beta1.metrics.k8s.io`` and scrapes the kubelet
resource metrics kwok emulates for each node (``kwok-metrics.yaml``), so ``kubectl top`` answers and
HorizontalPodAutoscalers read CPU and memory utilization. Everything is cached outside the repository
(``$CARTO_SELFHOSTED_CACHE``, default ``~/.cache/carto-selfhosted``), keyed by
the hash of its inputs, so a second start with a warm cache takes seconds.

Usage::

    cluster.py tools                # build / fetch the binaries, print their directory
    cluster.py start [--nodes N]    # start everything, print the kubeconfig path
    cluster.py status               # exit 0 when the API answers /readyz
    cluster.py stop [--purge]       # stop everything (and remove etcd data)

``start`` also runs a tiny fake LoadBalancer controller (``cluster.py loadbalancer``,
disable with ``--no-loadbalancer`` or CARTO_LOCALCLUSTER_LOADBALANCER=0): it sets
``status.loadBalancer.ingress`` of every Service of type LoadBalancer to a 127.0.0.x
address, so ``helm --wait`` and the verification see an external IP. Nothing listens on
that address; it is a label, loopback-only. It also runs a local volume provisioner (``cluster.py
provisioner``) for the default StorageClass ``standard`` (provisioner ``carto.selfhosted/local``,
WaitForFirstConsumer): a PersistentVolume per claim, bound to it, deleted when the claim is (reclaim policy
Delete). The class ``no-provisioner`` never binds, for the tests of unbound claims.

It only listens on 127.0.0.1 and never sends traffic elsewhere.
"""

import argparse
import base64
import contextlib
import datetime
import fcntl
import functools
import hashlib
import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
GO_DIR = HERE / "go"
STAGES = HERE / "kwok-stages.yaml"
# kwok CRDs for simulated logs / port-forwarding: tests create ClusterLogs, Logs, ClusterPortForward and
# PortForward objects (kwok.x-k8s.io/v1alpha1) at run time, e.g. to forward a pod port to a local server.
KWOK_CRDS = HERE / "kwok-crds.yaml"
KWOK_CRD_KINDS = ("ClusterLogs", "Logs", "ClusterPortForward", "PortForward", "Metric", "ClusterResourceUsage",
                  "ResourceUsage")
# kwok's emulated kubelet resource metrics (a Metric and a ClusterResourceUsage), scraped by metrics-server.
KWOK_METRICS = HERE / "kwok-metrics.yaml"
# metrics-server, a module of its own (its Kubernetes libraries are v0.33, not the control plane's v0.36).
METRICS_SERVER_DIR = HERE / "metrics-server"
METRICS_SERVER_VERSION = "v0.8.0"
METRICS_APISERVICE = "v1beta1.metrics.k8s.io"
# The fake LoadBalancer controller hands out loopback addresses from this range (127.0.0.2-127.0.0.254).
LB_PREFIX = "127.0.0."
# The local volume provisioner (``cluster.py provisioner``) serves StorageClasses with this provisioner name.
PROVISIONER = "carto.selfhosted/local"

KUBERNETES_VERSION = "v1.36.3"
KUBERNETES_GIT_COMMIT = "0000000000000000000000000000000000000000"  # built from the module, not a git checkout
BUILD_DATE = "2026-01-01T00:00:00Z"  # fixed: builds are reproducible


def _ldflags():
    """Stamp the version like Kubernetes' own build (hack/lib/version.sh) does."""
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        for key, value in (("gitVersion", KUBERNETES_VERSION), ("gitMajor", major), ("gitMinor", minor),
                           ("gitCommit", KUBERNETES_GIT_COMMIT), ("gitTreeState", "clean"),
                           ("buildDate", BUILD_DATE)):
            flags.append("-X=%s.%s=%s" % (pkg, key, value))
    return " ".join(flags)
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok")

# Helm, both majors, built from the pinned modules in helm/v3 and helm/v4 (go.mod with a `tool` line; the
# version stamped like Helm's own Makefile does). CARTO_HELM_MAJOR picks the one linked as `helm` on PATH
# (default 3); both stay available as helm3 and helm4.
HELM_VERSIONS = {"3": "v3.22.0", "4": "v4.3.1"}
HELM_MAJOR_DEFAULT = "3"

NODE_ANNOTATION = "kwok.x-k8s.io/node"
# What each fake node offers: enough for CARTO's documented minimum (6 CPUs, 16 GiB) on one node.
NODE_RESOURCES = {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "200Gi"}


def log(msg):
    print("[localcluster] %s" % msg, file=sys.stderr, flush=True)


def cache_dir():
    base = os.environ.get("CARTO_SELFHOSTED_CACHE")
    if not base:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "carto-selfhosted")
    path = pathlib.Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir():
    path = pathlib.Path(os.environ.get("CARTO_LOCALCLUSTER_DIR") or (REPO / ".cache" / "localcluster"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- binaries


@functools.lru_cache(maxsize=None)
def _go_version():
    """``go env GOVERSION``, once per process: every cache key of a Go build includes it."""
    return subprocess.run(["go", "env", "GOVERSION"], check=True, capture_output=True, text=True).stdout.strip()


def _sources_key():
    digest = hashlib.sha256()
    files = [GO_DIR / "go.mod", GO_DIR / "go.sum"] + sorted(GO_DIR.glob("cmd/*/*.go"))
    for path in files:
        digest.update(str(path.relative_to(GO_DIR)).encode())
        digest.update(path.read_bytes())
    digest.update(_go_version().encode())
    digest.update(_ldflags().encode())
    return "%s-%s" % (KUBERNETES_VERSION, digest.hexdigest()[:12])


@contextlib.contextmanager
def _build_lock(name):
    """An exclusive lock (flock) on ``<cache>/locks/<name>.lock`` for one build: test sessions, helpers and
    ``tools/dev.py`` started together wait for the first one's build instead of running the same ``go build`` side
    by side (each then slower on 2 cores, and writing the same output path)."""
    locks = cache_dir() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(str(locks / (name + ".lock")), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_components():
    """Build the control-plane binaries from the pinned modules unless cached."""
    if shutil.which("go") is None:
        raise SystemExit("go is required to build the local control plane (https://go.dev/dl/ or apt-get install golang)")
    target = cache_dir() / "bin" / _sources_key()
    if all((target / name).is_file() for name in COMPONENTS):
        return target
    with _build_lock("components-" + target.name):
        if all((target / name).is_file() for name in COMPONENTS):  # built by another process while we waited
            return target
        return _build_components(target)


def _build_components(target):
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="build-", dir=target.parent))
    log("building %s from pinned Go modules into %s (cold: ~5-15 min on 2 cores)" % (", ".join(COMPONENTS), target))
    started = time.monotonic()
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    subprocess.run(
        ["go", "build", "-trimpath", "-ldflags=" + _ldflags(), "-o", str(tmp) + os.sep, "./cmd/..."],
        cwd=GO_DIR, env=env, check=True,
    )
    missing = [name for name in COMPONENTS if not (tmp / name).is_file()]
    if missing:
        raise SystemExit("go build did not produce %s" % ", ".join(missing))
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    log("built in %.0f s" % (time.monotonic() - started))
    return target


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def helm_major():
    major = os.environ.get("CARTO_HELM_MAJOR") or HELM_MAJOR_DEFAULT
    if major not in HELM_VERSIONS:
        raise SystemExit("CARTO_HELM_MAJOR must be one of %s, not %r" % (", ".join(sorted(HELM_VERSIONS)), major))
    return major


def _helm_ldflags(major, version, module_dir):
    """Helm's Makefile flags: the version, and for Helm 3 the default Kubernetes version of ``helm template``
    (``chartutil.k8sVersionMajor/Minor``, from the client-go it is built with; Helm 4 reads it from the build info).
    Without them Helm 3 renders offline as Kubernetes v1.20.0."""
    pkg = "helm.sh/helm/v%s/internal/version" % major
    flags = ["-s", "-w", "-X %s.version=%s" % (pkg, version), "-X %s.metadata=" % pkg,
             "-X %s.gitTreeState=clean" % pkg]
    if major == "3":
        client_go = [line.split()[1] for line in (module_dir / "go.mod").read_text().splitlines()
                     if line.strip().startswith("k8s.io/client-go ")][0]
        minor = client_go.lstrip("v").split(".")[1]
        for var in ("pkg/lint/rules", "pkg/chartutil"):
            flags += ["-X helm.sh/helm/v3/%s.k8sVersionMajor=1" % var, "-X helm.sh/helm/v3/%s.k8sVersionMinor=%s" % (
                var, minor)]
    return " ".join(flags)


def _go_binary(name, version, module_dir, package, ldflags, inputs, what, cold):
    """Build ``package`` of the pinned module ``module_dir`` into the cache as ``name`` unless a build with the
    same ``inputs`` (files of the module), Go version and ``ldflags`` is there; return the binary's path."""
    digest = hashlib.sha256()
    for relpath in inputs:
        digest.update((module_dir / relpath).read_bytes())
    digest.update(_go_version().encode())
    digest.update(ldflags.encode())
    binary = cache_dir() / ("%s-%s-%s" % (name, version, digest.hexdigest()[:12])) / name
    if binary.is_file():
        return binary
    with _build_lock(binary.parent.name):
        if binary.is_file():  # built by another process while we waited
            return binary
        return _build_go_binary(binary, version, module_dir, package, ldflags, what, cold)


def _build_go_binary(binary, version, module_dir, package, ldflags, what, cold):
    binary.parent.mkdir(parents=True, exist_ok=True)
    log("building %s %s from the pinned module %s (cold: %s on 2 cores)" % (what, version, package, cold))
    started = time.monotonic()
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    subprocess.run(["go", "build", "-trimpath", "-ldflags=" + ldflags, "-o", str(binary) + ".part", package],
                   cwd=module_dir, env=env, check=True)
    os.replace(str(binary) + ".part", binary)
    log("%s %s built in %.0f s" % (what, version, time.monotonic() - started))
    return binary


def ensure_helm(major):
    """Build Helm ``major`` (3 or 4) from its pinned module (helm/v<major>/go.mod) unless cached; return its
    directory."""
    version = HELM_VERSIONS[major]
    module_dir = HERE / "helm" / ("v" + major)
    return _go_binary("helm", version, module_dir, "helm.sh/helm/v%s/cmd/helm" % major,
                      _helm_ldflags(major, version, module_dir), ("go.mod", "go.sum"), "Helm", "~2-4 min").parent


def ensure_metrics_server():
    """Build metrics-server from its pinned module (metrics-server/go.mod) unless cached; return its path."""
    return _go_binary("metrics-server", METRICS_SERVER_VERSION, METRICS_SERVER_DIR, "./cmd/metrics-server", "-s -w",
                      ("go.mod", "go.sum", "cmd/metrics-server/main.go"), "metrics-server", "~3-8 min")


def ensure_tools():
    """Return a directory with helm, kubectl, metrics-server and the control-plane binaries (a PATH entry)."""
    components = ensure_components()
    helm_dirs = {major: ensure_helm(major) for major in sorted(HELM_VERSIONS)}
    metrics_server = ensure_metrics_server()
    major = helm_major()
    tools = cache_dir() / "path" / ("%s-helm%s" % (components.name, major))
    tools.mkdir(parents=True, exist_ok=True)
    for name in COMPONENTS:
        _link(components / name, tools / name)
    for each, helm_dir in helm_dirs.items():
        _link(helm_dir / "helm", tools / ("helm" + each))
    _link(helm_dirs[major] / "helm", tools / "helm")
    _link(metrics_server, tools / "metrics-server")
    return tools


def _link(src, dst):
    if dst.is_symlink() or dst.exists():
        if dst.is_symlink() and os.readlink(dst) == str(src):
            return
        dst.unlink()
    dst.symlink_to(src)


# --------------------------------------------------------------------------- PKI


def _write_pki(pki):
    """CA, one admin/serving certificate (system:masters) and the service-account key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    import ipaddress

    pki.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carto-selfhosted-localcluster-ca")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-admin"),
        ]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default"),
            x509.DNSName("kubernetes.default.svc"), x509.DNSName("kubernetes.default.svc.cluster.local"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("10.96.0.1")),
        ]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        # Python >= 3.13 verifies with VERIFY_X509_STRICT (RFC 5280), which requires the key identifiers.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    sa_key = ec.generate_private_key(ec.SECP256R1())

    def pem_key(k):
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())

    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "admin.crt": cert.public_bytes(serialization.Encoding.PEM),
        "admin.key": pem_key(key),
        "sa.key": pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    for name, data in files.items():
        path = pki / name
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def _kubeconfig(pki, port):
    def b64(name):
        return base64.b64encode((pki / name).read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "carto-local", "cluster": {
            "server": "https://127.0.0.1:%d" % port, "certificate-authority-data": b64("ca.crt")}}],
        "users": [{"name": "carto-local-admin", "user": {
            "client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key")}}],
        "contexts": [{"name": "carto-local", "context": {"cluster": "carto-local", "user": "carto-local-admin"}}],
        "current-context": "carto-local",
    }


# --------------------------------------------------------------------------- processes


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(name, argv, state):
    logs = state / "logs"
    logs.mkdir(exist_ok=True)
    handle = open(logs / ("%s.log" % name), "ab")
    proc = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=str(state))
    handle.close()
    return proc.pid


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours is not alive
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def _wait(what, check, timeout, state=None, pid=None, name=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if pid is not None and not _alive(pid):
            tail = ""
            if state is not None:
                tail = "\n".join((state / "logs" / ("%s.log" % name)).read_text(errors="replace").splitlines()[-25:])
            raise SystemExit("%s exited while waiting for %s:\n%s" % (name, what, tail))
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            last = exc
        time.sleep(0.25)
    raise SystemExit("timed out after %d s waiting for %s (last error: %s)" % (timeout, what, last))


def _https_get(port, path, pki):
    """(status, body) of GET ``path`` on the API server at 127.0.0.1:``port``, as the admin of ``pki``."""
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _https_ok(port, path, pki):
    return _https_get(port, path, pki)[0] == 200


def _http_ok(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    finally:
        conn.close()


def _read_state(state):
    path = state / "state.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def status(state=None):
    state = state or state_dir()
    info = _read_state(state)
    if not info:
        return False
    if not all(_alive(pid) for pid in info.get("pids", {}).values()):
        return False
    try:
        return _https_ok(info["apiserver_port"], "/readyz", state / "pki")
    except Exception:  # noqa: BLE001
        return False


def _kubectl(tools, kubeconfig, *args, stdin=None):
    return subprocess.run([str(tools / "kubectl"), "--kubeconfig", str(kubeconfig)] + list(args),
                          input=stdin, capture_output=True, text=True, check=False)


def _nodes_manifest(count):
    items = []
    for index in range(count):
        name = "kwok-node-%d" % index
        items.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name,
                # metrics-server v0.8.0 scrapes the path of this annotation instead of /metrics/resource: kwok
                # serves every node's kubelet metrics on one port, under /metrics/nodes/<node>/.
                "annotations": {NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0",
                                "metrics.k8s.io/resource-metrics-path": "/metrics/nodes/%s/metrics/resource" % name},
                "labels": {"type": "kwok", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                           "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": "zone-%d" % (index % 3)},
            },
        })
    # A default StorageClass, as managed clusters have (the preflight asks for one when the chart's internal
    # PostgreSQL is enabled), served by the local provisioner (``cluster.py provisioner``); and one without a
    # provisioner, whose claims never bind, for the tests of unbound claims.
    items.append({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": PROVISIONER, "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Delete",
    })
    items.append({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "no-provisioner"},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
    })
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def _metrics_apiservice_manifest(port):
    """metrics-server's APIService, as its own manifest registers it, behind an ExternalName Service to loopback
    (as kwokctl's binary runtime does): the aggregation layer calls https://127.0.0.1:<port>."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "metrics-server", "namespace": "kube-system", "labels": {"k8s-app": "metrics-server"}},
         "spec": {"type": "ExternalName", "externalName": "127.0.0.1"}},
        {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
         "metadata": {"name": METRICS_APISERVICE, "labels": {"k8s-app": "metrics-server"}},
         "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                  "insecureSkipTLSVerify": True,
                  "service": {"namespace": "kube-system", "name": "metrics-server", "port": port}}},
    ]})


def wait_for_metrics(timeout=90):
    """Wait until the metrics API of the running control plane (``state_dir()``) serves node metrics: metrics-server
    has scraped every node twice, ~15-25 s after ``start``. Returns the seconds waited; raises SystemExit on
    timeout."""
    state = state_dir()
    port = _read_state(state)["apiserver_port"]
    started = time.monotonic()

    def serving():
        status, body = _https_get(port, "/apis/metrics.k8s.io/v1beta1/nodes", state / "pki")
        return status == 200 and bool(json.loads(body).get("items"))

    _wait("the metrics API (%s) serving node metrics" % METRICS_APISERVICE, serving, timeout)
    return time.monotonic() - started


# What a component logs when the port it was given has been taken since _free_port() chose it (etcd, Go's net).
PORT_TAKEN = "address already in use"


def start(nodes=3, fresh=True, loadbalancer=None, attempts=3):
    """Start the control plane; return the kubeconfig path. Idempotent when already running.

    The ports are chosen free (``_free_port``) and bound by the components a moment later; another process (a second
    test session starting its own control plane) can take one in between. A start that fails with a component's
    log saying "address already in use" is retried with new ports, up to ``attempts`` times; any other failure
    raises at once (SystemExit with the component's log tail)."""
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(nodes, fresh, loadbalancer)
        except SystemExit:
            logs = state_dir() / "logs"
            taken = sorted(path.stem for path in logs.glob("*.log")
                           if PORT_TAKEN in path.read_text(errors="replace")) if logs.is_dir() else []
            if attempt == attempts or not taken:
                raise
            log("%s: a port chosen for it was taken before it could bind it; starting again with new ports "
                "(attempt %d of %d)" % (", ".join(taken), attempt + 1, attempts))
            shutil.rmtree(logs, ignore_errors=True)
    raise AssertionError("unreachable")


def _start_once(nodes, fresh, loadbalancer):
    if loadbalancer is None:
        loadbalancer = os.environ.get("CARTO_LOCALCLUSTER_LOADBALANCER", "1") not in ("0", "false", "no")
    state = state_dir()
    kubeconfig = state / "kubeconfig"
    if status(state):
        log("already running (%s)" % kubeconfig)
        return kubeconfig
    stop(purge=fresh)
    tools = ensure_tools()
    started = time.monotonic()
    pki = state / "pki"
    if not (pki / "admin.key").is_file():
        _write_pki(pki)
    ports = {name: _free_port() for name in ("etcd", "etcd_peer", "apiserver", "kcm", "scheduler", "kwok",
                                             "metrics_server")}
    pids = {}
    try:
        data = state / "etcd-data"
        pids["etcd"] = _spawn("etcd", [
            str(tools / "etcd"), "--name=node0", "--data-dir=%s" % data,
            "--listen-client-urls=http://127.0.0.1:%d" % ports["etcd"],
            "--advertise-client-urls=http://127.0.0.1:%d" % ports["etcd"],
            "--listen-peer-urls=http://127.0.0.1:%d" % ports["etcd_peer"],
            "--initial-advertise-peer-urls=http://127.0.0.1:%d" % ports["etcd_peer"],
            "--initial-cluster=node0=http://127.0.0.1:%d" % ports["etcd_peer"],
            "--auto-compaction-retention=1", "--quota-backend-bytes=%d" % (2 << 30),
            "--unsafe-no-fsync=true", "--log-level=warn",
        ], state)
        _wait("etcd", lambda: _http_ok(ports["etcd"], "/health"), 60, state, pids["etcd"], "etcd")

        pids["kube-apiserver"] = _spawn("kube-apiserver", [
            str(tools / "kube-apiserver"),
            "--etcd-servers=http://127.0.0.1:%d" % ports["etcd"],
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            "--secure-port=%d" % ports["apiserver"],
            "--tls-cert-file=%s" % (pki / "admin.crt"), "--tls-private-key-file=%s" % (pki / "admin.key"),
            "--client-ca-file=%s" % (pki / "ca.crt"),
            "--kubelet-client-certificate=%s" % (pki / "admin.crt"),
            "--kubelet-client-key=%s" % (pki / "admin.key"),
            "--kubelet-certificate-authority=%s" % (pki / "ca.crt"),
            "--kubelet-preferred-address-types=InternalIP",
            # The aggregation layer (metrics-server's APIService) authenticates to it with this certificate.
            "--proxy-client-cert-file=%s" % (pki / "admin.crt"), "--proxy-client-key-file=%s" % (pki / "admin.key"),
            "--service-account-key-file=%s" % (pki / "sa.pub"),
            "--service-account-signing-key-file=%s" % (pki / "sa.key"),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
            "--max-requests-inflight=0", "--max-mutating-requests-inflight=0",
            "--enable-priority-and-fairness=false", "--profiling=false", "--v=1",
        ], state)
        _wait("kube-apiserver /readyz", lambda: _https_ok(ports["apiserver"], "/readyz", pki), 120, state,
              pids["kube-apiserver"], "kube-apiserver")
        kubeconfig_tmp = state / "kubeconfig.tmp"
        fd = os.open(str(kubeconfig_tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(_kubeconfig(pki, ports["apiserver"]), handle, indent=2)
        os.replace(kubeconfig_tmp, kubeconfig)

        result = _kubectl(tools, kubeconfig, "apply", "--server-side", "-f", str(KWOK_CRDS))
        if result.returncode:
            raise SystemExit("creating the kwok CRDs failed: %s" % result.stderr)
        # kubectl wait fails at once ("<nil> is of the type <nil>") on a CRD whose status the API server has not
        # written yet: ask again until the 60 s are over.
        deadline = time.monotonic() + 60
        while True:
            result = _kubectl(tools, kubeconfig, "wait", "--for=condition=Established", "--timeout=60s",
                              "crd/metrics.kwok.x-k8s.io", "crd/clusterresourceusages.kwok.x-k8s.io")
            if result.returncode == 0 or "accessor error" not in result.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        result = result if result.returncode else _kubectl(tools, kubeconfig, "apply", "--server-side", "-f",
                                                           str(KWOK_METRICS))
        if result.returncode:
            raise SystemExit("creating kwok's resource metrics failed: %s" % result.stderr)

        pids["kube-controller-manager"] = _spawn("kube-controller-manager", [
            str(tools / "kube-controller-manager"), "--kubeconfig=%s" % kubeconfig,
            "--authentication-kubeconfig=%s" % kubeconfig, "--authorization-kubeconfig=%s" % kubeconfig,
            "--bind-address=127.0.0.1", "--secure-port=%d" % ports["kcm"],
            "--leader-elect=false", "--use-service-account-credentials=false",
            "--root-ca-file=%s" % (pki / "ca.crt"),
            "--service-account-private-key-file=%s" % (pki / "sa.key"),
            "--kube-api-qps=500", "--kube-api-burst=1000",
            "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
            # HorizontalPodAutoscalers read the metrics API every 5 s (default 15 s): tests see a scale sooner.
            "--horizontal-pod-autoscaler-sync-period=5s",
            "--v=1",
        ], state)
        pids["kube-scheduler"] = _spawn("kube-scheduler", [
            str(tools / "kube-scheduler"), "--kubeconfig=%s" % kubeconfig,
            "--authentication-kubeconfig=%s" % kubeconfig, "--authorization-kubeconfig=%s" % kubeconfig,
            "--bind-address=127.0.0.1", "--secure-port=%d" % ports["scheduler"],
            "--leader-elect=false", "--kube-api-qps=500", "--kube-api-burst=1000", "--v=1",
        ], state)
        pids["kwok"] = _spawn("kwok", [
            str(tools / "kwok"), "--kubeconfig=%s" % kubeconfig, "--config=%s" % STAGES,
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=%s=fake" % NODE_ANNOTATION,
            "--node-ip=127.0.0.1", "--node-port=%d" % ports["kwok"],
            "--server-address=127.0.0.1:%d" % ports["kwok"],
            "--tls-cert-file=%s" % (pki / "admin.crt"), "--tls-private-key-file=%s" % (pki / "admin.key"),
            "--node-lease-duration-seconds=40",
            "--enable-crds=%s" % ",".join(KWOK_CRD_KINDS),
        ], state)
        pids["metrics-server"] = _spawn("metrics-server", [
            str(tools / "metrics-server"), "--bind-address=127.0.0.1", "--secure-port=%d" % ports["metrics_server"],
            "--kubeconfig=%s" % kubeconfig, "--authentication-kubeconfig=%s" % kubeconfig,
            "--authorization-kubeconfig=%s" % kubeconfig,
            "--tls-cert-file=%s" % (pki / "admin.crt"), "--tls-private-key-file=%s" % (pki / "admin.key"),
            # kwok's kubelet endpoint: the node's InternalIP (127.0.0.1) and its status port (kwok's server).
            "--kubelet-preferred-address-types=InternalIP", "--kubelet-use-node-status-port",
            "--kubelet-insecure-tls", "--metric-resolution=10s", "--kubelet-request-timeout=5s", "--v=1",
        ], state)
        result = _kubectl(tools, kubeconfig, "apply", "--server-side", "-f", "-",
                          stdin=_metrics_apiservice_manifest(ports["metrics_server"]))
        if result.returncode:
            raise SystemExit("registering metrics-server failed: %s" % result.stderr)
        if loadbalancer:
            pids["loadbalancer"] = _spawn("loadbalancer", [
                sys.executable, str(pathlib.Path(__file__).resolve()), "loadbalancer",
                "--state-dir=%s" % state, "--port=%d" % ports["apiserver"]], state)
        pids["provisioner"] = _spawn("provisioner", [
            sys.executable, str(pathlib.Path(__file__).resolve()), "provisioner",
            "--state-dir=%s" % state, "--port=%d" % ports["apiserver"]], state)
        _write_state(state, pids, ports)

        result = _kubectl(tools, kubeconfig, "apply", "-f", "-", stdin=_nodes_manifest(nodes))
        if result.returncode:
            raise SystemExit("creating kwok nodes failed: %s" % result.stderr)
        # Status is dropped on create; kwok keeps capacity that is already there.
        resources = json.dumps({"status": {"capacity": NODE_RESOURCES, "allocatable": NODE_RESOURCES}})
        for index in range(nodes):
            result = _kubectl(tools, kubeconfig, "patch", "node", "kwok-node-%d" % index, "--subresource=status",
                              "--type=merge", "-p", resources)
            if result.returncode:
                raise SystemExit("setting kwok node capacity failed: %s" % result.stderr)

        def nodes_ready():
            out = _kubectl(tools, kubeconfig, "get", "nodes", "-o", "json").stdout
            items = json.loads(out)["items"]
            ready = [n for n in items for c in n.get("status", {}).get("conditions", [])
                     if c["type"] == "Ready" and c["status"] == "True"]
            return len(ready) >= nodes

        _wait("%d kwok nodes Ready" % nodes, nodes_ready, 60, state, pids["kwok"], "kwok")
        _wait("the default ServiceAccount (controller-manager running)",
              lambda: _kubectl(tools, kubeconfig, "get", "serviceaccount", "default",
                               "-n", "default").returncode == 0,
              60, state, pids["kube-controller-manager"], "kube-controller-manager")
        for name in ("kube-scheduler", "kube-controller-manager", "kwok", "metrics-server"):
            if not _alive(pids[name]):
                raise SystemExit("%s exited; see %s" % (name, state / "logs" / ("%s.log" % name)))
    except BaseException:
        _write_state(state, pids, ports)
        stop(purge=False)
        raise
    log("control plane %s ready in %.1f s: kubeconfig %s" % (KUBERNETES_VERSION, time.monotonic() - started,
                                                            kubeconfig))
    return kubeconfig


def _write_state(state, pids, ports):
    (state / "state.json").write_text(json.dumps({"pids": pids, "apiserver_port": ports["apiserver"],
                                                  "ports": ports}, indent=2))


def stop(purge=False):
    state = state_dir()
    info = _read_state(state)
    pids = info.get("pids", {})
    for name in reversed(list(pids)):
        pid = pids[name]
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
    # etcd gets time to close its data cleanly (unless the data is thrown away); the other components keep
    # no state, and kube-apiserver's graceful shutdown alone takes more than 20 s: they get 2 s.
    started = time.monotonic()
    grace = {name: (2 if purge else 15) if name == "etcd" else 2 for name in pids}
    while any(_alive(pid) and time.monotonic() - started < grace[name] for name, pid in pids.items()):
        time.sleep(0.1)
    for pid in pids.values():
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    for name in ("state.json", "kubeconfig"):
        path = state / name
        if path.exists():
            path.unlink()
    if purge:
        for name in ("etcd-data", "pki", "logs"):
            shutil.rmtree(state / name, ignore_errors=True)
    if pids:
        log("stopped")


# --------------------------------------------------------------------------- the helpers' API access


def _admin_context(state):
    pki = pathlib.Path(state) / "pki"
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    return ctx


def _watch_wakes(ctx, port, path, wake, name, timeout=300):
    """Keep a watch on the collection ``path`` open (loopback API, admin certificate; reconnect after an error or
    the server's timeoutSeconds) and set ``wake`` on every event, including the ADDED events of the objects that
    exist when the watch starts. Runs in a daemon thread: the helpers react to changes instead of polling."""
    while True:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout + 30)
        try:
            conn.request("GET", "%s?watch=1&timeoutSeconds=%d" % (path, timeout))
            resp = conn.getresponse()
            if resp.status != 200:
                resp.read()
                raise http.client.HTTPException("watch %s: HTTP %d" % (path, resp.status))
            while True:
                line = resp.readline()
                if not line:
                    break
                wake.set()
        except (OSError, http.client.HTTPException) as exc:
            log("%s: %s" % (name, exc))
            time.sleep(1)
        finally:
            conn.close()
        wake.set()


class _ApiClient(object):
    """One kept-alive HTTPS connection to the loopback API server (reopened after an error): each TLS handshake
    costs the API server more than the small requests the helpers make."""

    def __init__(self, ctx, port):
        self.ctx, self.port, self.conn = ctx, port, None

    def request(self, method, path, body=None, content_type="application/json"):
        """(HTTP status, body bytes) of one request."""
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        try:
            self.conn.request(method, path, body=body, headers={"Content-Type": content_type} if body else {})
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def items(self, path):
        status, body = self.request("GET", path)
        return json.loads(body).get("items") or [] if status == 200 else []

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _run_on_changes(state, port, watched, reconcile, name, resync=30.0):
    """Call ``reconcile(client)`` once, then each time one of the ``watched`` collections changes (events less than
    50 ms apart are handled together), and at least every ``resync`` seconds."""
    ctx = _admin_context(state)
    wake = threading.Event()
    for path in watched:
        threading.Thread(target=_watch_wakes, args=(ctx, port, path, wake, name), daemon=True).start()
    client = _ApiClient(ctx, port)
    while True:
        try:
            reconcile(client)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            log("%s: %s" % (name, exc))
            time.sleep(0.5)
        wake.wait(resync)
        time.sleep(0.05)
        wake.clear()


# --------------------------------------------------------------------------- fake LoadBalancer


def lb_address(service, used):
    """The loopback address for a LoadBalancer Service: its spec.loadBalancerIP when loopback, else the
    first free 127.0.0.x (x in 2..254). ``used`` is the set of addresses already handed out."""
    wanted = (service.get("spec") or {}).get("loadBalancerIP") or ""
    if wanted.startswith(LB_PREFIX):
        return wanted
    for last in range(2, 255):
        candidate = "%s%d" % (LB_PREFIX, last)
        if candidate not in used:
            return candidate
    return None


def lb_patches(services):
    """(namespace, name, status patch) for each LoadBalancer Service without an ingress address."""
    used = set()
    for svc in services:
        for ing in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []:
            if ing.get("ip"):
                used.add(ing["ip"])
    out = []
    for svc in services:
        if (svc.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        if ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
            continue
        address = lb_address(svc, used)
        if address is None:
            continue
        used.add(address)
        out.append((svc["metadata"]["namespace"], svc["metadata"]["name"],
                    {"status": {"loadBalancer": {"ingress": [{"ip": address, "ipMode": "VIP"}]}}}))
    return out


def run_loadbalancer(state, port):
    """Give LoadBalancer Services a 127.0.0.x address (loopback API, admin certificate), on every change of the
    Services (a watch) and every 30 s."""
    log("fake LoadBalancer controller watching Services on 127.0.0.1:%d" % port)

    def reconcile(client):
        for namespace, name, patch in lb_patches(client.items("/api/v1/services")):
            status, _ = client.request("PATCH", "/api/v1/namespaces/%s/services/%s/status" % (namespace, name),
                                       body=json.dumps(patch), content_type="application/merge-patch+json")
            log("Service %s/%s: LoadBalancer ingress %s (HTTP %d)"
                % (namespace, name, patch["status"]["loadBalancer"]["ingress"][0]["ip"], status))

    _run_on_changes(state, port, ["/api/v1/services"], reconcile, "fake LoadBalancer")


# --------------------------------------------------------------------------- local volume provisioner


def pv_for_claim(pvc, storage_class, volumes_dir):
    """The PersistentVolume that provisions ``pvc`` (a dict from the API), pre-bound to it through claimRef, or
    None while it must wait: WaitForFirstConsumer claims wait for the scheduler's
    ``volume.kubernetes.io/selected-node`` annotation, and the PV gets that node as its node affinity (as a real
    local provisioner does). Nothing is written under ``volumes_dir``: kwok runs no container."""
    meta, spec = pvc["metadata"], pvc.get("spec") or {}
    node = (meta.get("annotations") or {}).get("volume.kubernetes.io/selected-node")
    if storage_class.get("volumeBindingMode") == "WaitForFirstConsumer" and not node:
        return None
    name = "pvc-%s" % meta["uid"]
    pv = {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
                     "labels": {"carto.selfhosted/local-volume": "true"}},
        "spec": {
            "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")},
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
            "storageClassName": storage_class["metadata"]["name"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "hostPath": {"path": "%s/%s/%s" % (volumes_dir, meta["namespace"], meta["name"])},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                         "name": meta["name"], "uid": meta["uid"]},
        },
    }
    if node:
        pv["spec"]["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
    return pv


def provisioner_actions(claims, classes, volumes, volumes_dir):
    """(creates, deletes): PVs to create for Pending claims of our StorageClasses, and our Released PVs whose
    reclaim policy is Delete (Retain keeps them, as the reclaim policy says)."""
    ours = {c["metadata"]["name"]: c for c in classes if c.get("provisioner") == PROVISIONER}
    existing = {v["metadata"]["name"] for v in volumes}
    creates = []
    for pvc in claims:
        if (pvc.get("status") or {}).get("phase") != "Pending" or (pvc.get("spec") or {}).get("volumeName"):
            continue
        storage_class = ours.get((pvc.get("spec") or {}).get("storageClassName"))
        if storage_class is None or "pvc-%s" % pvc["metadata"]["uid"] in existing:
            continue
        pv = pv_for_claim(pvc, storage_class, volumes_dir)
        if pv:
            creates.append(pv)
    deletes = [v["metadata"]["name"] for v in volumes
               if (v["metadata"].get("annotations") or {}).get("pv.kubernetes.io/provisioned-by") == PROVISIONER
               and (v.get("status") or {}).get("phase") == "Released"
               and (v.get("spec") or {}).get("persistentVolumeReclaimPolicy", "Delete") == "Delete"]
    return creates, deletes


def run_provisioner(state, port):
    """Create PVs for claims and delete Released ones (loopback API, admin certificate), on every change of the
    claims, volumes or StorageClasses (watches) and every 30 s."""
    volumes_dir = str(pathlib.Path(state) / "volumes")
    log("local volume provisioner (%s) on 127.0.0.1:%d" % (PROVISIONER, port))
    collections = ["/api/v1/persistentvolumeclaims", "/apis/storage.k8s.io/v1/storageclasses",
                   "/api/v1/persistentvolumes"]

    def reconcile(client):
        creates, deletes = provisioner_actions(*[client.items(path) for path in collections],
                                               volumes_dir=volumes_dir)
        for pv in creates:
            status, _ = client.request("POST", "/api/v1/persistentvolumes", body=json.dumps(pv))
            log("PersistentVolume %s for claim %s/%s (HTTP %d)" % (
                pv["metadata"]["name"], pv["spec"]["claimRef"]["namespace"], pv["spec"]["claimRef"]["name"], status))
        for name in deletes:
            status, _ = client.request("DELETE", "/api/v1/persistentvolumes/%s" % name)
            log("PersistentVolume %s released, deleted (reclaim policy Delete, HTTP %d)" % (name, status))

    _run_on_changes(state, port, collections, reconcile, "provisioner")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("tools", help="build/fetch the binaries and print the directory to put on PATH")
    p_start = sub.add_parser("start", help="start the control plane and print the kubeconfig path")
    p_start.add_argument("--nodes", type=int, default=int(os.environ.get("CARTO_LOCALCLUSTER_NODES", "3")))
    p_start.add_argument("--keep-data", action="store_true", help="reuse the etcd data of a previous run")
    p_start.add_argument("--no-loadbalancer", action="store_true",
                         help="do not run the fake LoadBalancer controller")
    sub.add_parser("status", help="exit 0 when the control plane answers")
    p_lb = sub.add_parser("loadbalancer", help="run the fake LoadBalancer controller in the foreground (start runs it)")
    p_lb.add_argument("--state-dir", default=None, help="state directory of the running cluster")
    p_lb.add_argument("--port", type=int, default=None, help="kube-apiserver port (default: from state.json)")
    p_pv = sub.add_parser("provisioner", help="run the local volume provisioner in the foreground (start runs it)")
    p_pv.add_argument("--state-dir", default=None, help="state directory of the running cluster")
    p_pv.add_argument("--port", type=int, default=None, help="kube-apiserver port (default: from state.json)")
    p_stop = sub.add_parser("stop", help="stop the control plane")
    p_stop.add_argument("--purge", action="store_true", help="also remove etcd data, PKI and logs")
    sub.add_parser("kubeconfig", help="print the kubeconfig path")
    args = parser.parse_args(argv)
    if args.command == "tools":
        print(ensure_tools())
    elif args.command == "start":
        print(start(nodes=args.nodes, fresh=not args.keep_data, loadbalancer=False if args.no_loadbalancer else None))
    elif args.command == "loadbalancer":
        state = pathlib.Path(args.state_dir) if args.state_dir else state_dir()
        run_loadbalancer(state, args.port or _read_state(state)["apiserver_port"])
    elif args.command == "provisioner":
        state = pathlib.Path(args.state_dir) if args.state_dir else state_dir()
        run_provisioner(state, args.port or _read_state(state)["apiserver_port"])
    elif args.command == "status":
        running = status()
        print("running" if running else "stopped")
        return 0 if running else 1
    elif args.command == "stop":
        stop(purge=args.purge)
    elif args.command == "kubeconfig":
        print(state_dir() / "kubeconfig")
    return 0


if __name__ == "__main__":
    sys.exit(main())
