"""Stand-in for https://ci-files.testing.ansible.com/ansible-test/get-pip-<version>.py (unreachable here).

ansible-test bootstraps pip in each sanity virtualenv by running that script, cached as
~/.ansible/test/cache/get_pip_<version>.py. This one does the same job from the standard library
(ensurepip) and PyPI: it installs pip, then the exact packages ansible-test asks for.
tests/sanity/run.py copies it into the cache when the real script is not there.
"""

import subprocess
import sys


def main(argv):
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True,
                   stdout=subprocess.DEVNULL)
    args = [a for a in argv if a not in ("--no-setuptools", "--no-wheel")]
    return subprocess.run([sys.executable, "-m", "pip", "install"] + args, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
