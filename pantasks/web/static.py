"""The page's style sheet and its one small script, served under C{/static/}.

They are here as text (not files) so an installed server always has them.
The script is the only JavaScript: on each server-sent event it fetches
the page's fragment again and puts it in place; the Content-Security-Policy
allows no other script.
"""

LIVE_JS = b"""\
// pantasks: live updates.  The server sends an event when something
// changed; the page's fragment is fetched again and put in place.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource || !window.fetch) { return; }
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var url = location.pathname + location.search +
      (location.search ? "&" : "?") + "fragment=1";
    fetch(url, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        live.innerHTML = html;
        document.body.setAttribute("data-updated", String(Date.now()));
      })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var events = new EventSource("/events");
  events.onmessage = refresh;
  events.onopen = function () { document.body.setAttribute("data-live", "1"); };
})();
"""

STYLE_CSS = b"""\
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { display: flex; gap: 1.5em; align-items: center; padding: .5em 1em;
         background: #234; color: #fff; }
header a { color: #cde; text-decoration: none; margin-right: 1em; }
header a.here { color: #fff; font-weight: bold; }
header .user { margin-left: auto; color: #9ab; }
main { padding: .5em 1.5em 2em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: .9em; }
th, td { padding: .2em .6em; border-bottom: 1px solid #ddd; text-align: left; }
th a { color: inherit; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dl.facts dt { font-weight: bold; }
.good, .success { color: #175; } .bad, .failure, .crash, .timeout, .killed { color: #b22; }
.problem { color: #b22; } .running { color: #136; }
dd.state.running { color: #175; font-weight: bold; }
dd.state.stopped, dd.state.harvesting { color: #b60; font-weight: bold; }
svg.chart { width: 100%; max-width: 720px; height: 140px; background: #fff;
            border: 1px solid #ddd; }
svg.chart rect.good { fill: #4a8; } svg.chart rect.bad { fill: #d55; }
svg.chart text.axis { font-size: 9px; fill: #666; }
tr.output pre { margin: .2em 0; max-height: 12em; overflow: auto; background: #f0f0f0;
                padding: .3em; white-space: pre-wrap; }
tr.output .label { font-size: .8em; color: #666; }
.flags { font-family: monospace; color: #666; }
form { margin: .5em 0; }
"""
