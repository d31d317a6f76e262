"""The web status page and the Prometheus metrics, served by the daemon.

Read-only by construction: nothing here changes the scheduler.  The
scheduler's observer (L{pantasks.sched.observer}) keeps a
L{snapshot.Snapshot} and the L{metrics.Metrics} up to date, so a page or
a scrape costs what it shows, not a walk over every job.

  - L{snapshot}: what the pages show (recent jobs, rates, problems);
  - L{metrics}: the C{/metrics} registry (C{prometheus_client});
  - L{lag}: how late the reactor fires timers;
  - L{pages}: the HTML (C{twisted.web.template});
  - L{auth}: who may look (the line protocol's users, tokens, VALID_IP);
  - L{service}: the resource tree and the listening service;
  - L{commands}: C{web token}.
"""
