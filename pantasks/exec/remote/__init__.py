"""Jobs on other hosts: the agent that runs them there, and the controller's
slots that talk to it.

- L{pantasks.exec.remote.wire}: the framed protocol (Twisted AMP boxes over
  the agent's standard input and output);
- L{pantasks.exec.remote.agent}: C{pantasks_agent}, the program on the host;
- L{pantasks.exec.remote.slot}: one slot = one connection to one agent;
- L{pantasks.exec.remote.runner}: L{RemoteRunner}, the L{IJobRunner} that
  places jobs on slots.
"""
