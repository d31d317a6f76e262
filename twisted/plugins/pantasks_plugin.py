# -*- test-case-name: tests.net.test_tap -*-
"""twistd plugin: C{twistd pantasks} runs the pantasks server.

Only a ServiceMaker, so that listing twistd's plugins imports nothing of
pantasks; the work is in L{pantasks.tap}.
"""

from twisted.application.service import ServiceMaker

pantasks = ServiceMaker(
    "pantasks",
    "pantasks.tap",
    "The pantasks task scheduler server (Pan-STARRS IPP).",
    "pantasks",
)
