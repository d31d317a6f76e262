"""pantasks: the Pan-STARRS IPP task scheduler, rebuilt on Twisted.

Dependencies are chosen, not collected:
  - twisted: the reactor, processes, protocols, cred, twistd; its [tls]
    extra (pyOpenSSL, service_identity) because the server offers TLS
    endpoints (pantasks.conf tls_key/tls_cert, ssl: endpoint strings);
  - zope.interface: the interfaces between layers (comes with Twisted);
  - configobj: the validated pantasks.conf;
  - google-re2: user regular expressions (status -taskstats) matched in
    time linear in the text, so no pattern can hold the server (Python's
    re backtracks: "(.|.)*Q" took seconds per task name).
  - prometheus_client: /metrics (pantasks.web.metrics) for the registry,
    histograms, process_* series and the exact exposition format; its own
    parser is what the tests read /metrics with, so the format is checked
    by the code Prometheus users trust rather than by our reading of it.
Tests also use pytest and pexpect (see the Makefile).
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

_init = Path(__file__).with_name("pantasks").joinpath("__init__.py").read_text()
__version__ = re.search(r'__version__ = "([^"]+)"', _init).group(1)

setup(
    name="pantasks",
    version=__version__,
    description="Task scheduler of the Pan-STARRS Image Processing Pipeline",
    python_requires=">=3.11",
    packages=find_packages(include=["pantasks", "pantasks.*"]) + ["twisted.plugins"],
    package_data={"pantasks": ["modules/*", "etc/*"]},
    include_package_data=True,
    install_requires=[
        "twisted[tls]>=23.8", "zope.interface", "configobj", "google-re2>=1.1,<2",
        "prometheus_client>=0.20",
    ],
    extras_require={"test": ["pytest", "pexpect", "ruff"]},
    entry_points={
        "console_scripts": [
            "pantasks = pantasks.cli.shell:main",
            "pantasks_server = pantasks.cli.server:main",
            "pantasks_client = pantasks.cli.client:main",
            "pantasks_agent = pantasks.exec.remote.agent:console_main",
        ]
    },
    scripts=["pantasks/cli/bin/start_pantasks_server", "pantasks/cli/bin/start_pantasks_client"],
)
