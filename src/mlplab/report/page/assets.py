"""The CSS and the small inline scripts of the run page, the gallery and a sweep's page (no external assets, works
from file://); templates/base.html.j2 puts them in the page."""

from __future__ import annotations

STYLE = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #dde1e8; --soft: #f4f6f9; --accent: #2f5fb3; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 1.5em 2em 4em;
       max-width: 1200px; color: var(--fg); }
h1 { font-size: 1.7em; margin: 0 0 0.2em; }
h2 { font-size: 1.25em; margin: 1.8em 0 0.6em; padding-bottom: 0.2em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.02em; margin: 1.2em 0 0.4em; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.88em; }
.crumb { color: var(--muted); font-size: 0.9em; margin-bottom: 0.6em; }
.meta { display: flex; flex-wrap: wrap; gap: 0.4em 1.4em; color: var(--muted); margin: 0.4em 0 0.9em; }
.meta b { color: var(--fg); font-weight: 600; }
.badge { display: inline-block; padding: 0.05em 0.6em; border-radius: 1em; font-size: 0.85em; font-weight: 600;
         background: #e6e9ef; color: #333; }
.badge.finished { background: #dcf3e3; color: #17622f; } .badge.resumed { background: #e0ebfb; color: #1f4c96; }
.badge.failed, .badge.interrupted { background: #fbe1e1; color: #8d1f1f; }
.badge.running { background: #fff1cc; color: #7a5600; }
.cmd { display: flex; align-items: stretch; gap: 0.5em; margin: 0.3em 0 0.5em; }
.cmd pre { flex: 1; margin: 0; padding: 0.55em 0.8em; background: var(--soft); border: 1px solid var(--line);
           border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
button { font: inherit; font-size: 0.85em; padding: 0.3em 0.9em; border: 1px solid var(--line); border-radius: 6px;
         background: #fff; cursor: pointer; }
button:hover { background: var(--soft); }
.error { background: #fdf0f0; border-left: 4px solid #c44; padding: 0.5em 1em; white-space: pre-wrap; }
.tiles { display: flex; flex-wrap: wrap; gap: 1em; margin: 1em 0; }
.tile { flex: 0 1 220px; padding: 0.8em 1em; border: 1px solid var(--line); border-radius: 10px; background: #fff; }
.tile .value { font-size: 1.9em; font-weight: 650; line-height: 1.2; font-variant-numeric: tabular-nums; }
.tile .label { color: var(--muted); font-size: 0.85em; overflow-wrap: anywhere; }
.finding { background: #f5f7fc; border-left: 4px solid #7d93c6; padding: 0.5em 1em; margin: 0.7em 0;
           white-space: pre-wrap; }
.finding b { display: block; margin-bottom: 0.2em; white-space: normal; }
.scroll { overflow: auto; max-width: 100%; max-height: 520px; margin-bottom: 1em; }
.scroll table { margin: 0; }
.scroll th { position: sticky; top: 0; }
table.kv td.num { text-align: left; }
.scroll.all { max-height: none; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.9em; font-variant-numeric: tabular-nums; }
td, th { border-bottom: 1px solid var(--line); padding: 0.3em 0.8em; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
.files { font-size: 0.85em; color: var(--muted); }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 1.2em;
        grid-auto-flow: dense; align-items: start; }
figure.wide { grid-column: 1 / -1; }
figure.wide > a > img { max-height: 420px; width: auto; }
figure.anim video, figure.anim img { width: 100%; max-height: 70vh; object-fit: contain; image-rendering: pixelated;
                                     cursor: pointer; background: #000; }
figure { margin: 0; padding: 0.6em; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
figure img, figure video { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: 0.88em; color: var(--muted); margin-top: 0.4em; }
details { margin: 0.6em 0; border: 1px solid var(--line); border-radius: 8px; padding: 0.4em 0.9em; }
summary { cursor: pointer; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 1em; }
.card { display: block; border: 1px solid var(--line); border-radius: 10px; padding: 0.7em; color: inherit;
        text-decoration: none; background: #fff; }
.card:hover { border-color: var(--accent); box-shadow: 0 2px 8px rgba(0,0,0,0.08); }
.card .thumb { height: 150px; display: flex; align-items: center; justify-content: center; background: var(--soft);
               border-radius: 6px; overflow: hidden; margin-bottom: 0.5em; color: var(--muted); font-size: 0.85em; }
.card .thumb img { max-width: 100%; max-height: 150px; }
.card .title { font-weight: 650; } .card .sub { color: var(--muted); font-size: 0.85em; }
.card .metric { font-size: 1.25em; font-weight: 650; margin-top: 0.2em; font-variant-numeric: tabular-nums; }
.controls { margin: 0.6em 0; display: flex; gap: 0.6em; align-items: center; }
.controls input { font: inherit; padding: 0.3em 0.6em; border: 1px solid var(--line); border-radius: 6px;
                  min-width: 26em; }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
th.sortable::after { content: " \\2195"; color: #9aa3b2; }
th.asc::after { content: " \\25B2"; color: var(--fg); } th.desc::after { content: " \\25BC"; color: var(--fg); }
"""

COPY_SCRIPT = """
<script>
document.querySelectorAll('figure.anim video').forEach(function (v) {
  v.addEventListener('click', function () { if (v.paused) { v.play().catch(function () {}); } else { v.pause(); } });
});
document.querySelectorAll('button[data-copy]').forEach(function (btn) {
  btn.addEventListener('click', function () {
    var text = document.getElementById(btn.dataset.copy).textContent;
    function done(ok) { btn.textContent = ok ? 'Copied' : 'Select and copy'; }
    function fallback() {
      var area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      var ok = false; try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      area.remove(); done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else { fallback(); }
  });
});
</script>
"""

TABLE_SCRIPT = """
<script>
(function () {
  var table = document.getElementById('runs');
  if (!table) { return; }
  var body = table.tBodies[0];
  table.querySelectorAll('th.sortable').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = !th.classList.contains('asc');
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(asc ? 'asc' : 'desc');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
        if (x === '' || y === '') { return (x === '') - (y === ''); }  // blanks last, either way
        var nx = Number(x), ny = Number(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  var filter = document.getElementById('filter');
  filter.addEventListener('input', function () {
    var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      var text = r.textContent.toLowerCase();
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
      r.hidden = !ok; if (ok) { shown += 1; }
    });
    document.querySelectorAll('.card').forEach(function (c) {
      var text = c.textContent.toLowerCase();
      c.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    document.getElementById('shown').textContent = shown;
  });
})();
</script>
"""
