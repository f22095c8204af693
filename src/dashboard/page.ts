// The dashboard page: one self-contained HTML document (no CDN, no external file) whose script
// listens to /events (server-sent events, one DashboardState as JSON per event) and redraws the
// figures, the latency histograms online vs target and the difference table. Pure text.

export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tcpcopy</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
  h1 { font-size: 1.3em; margin: 0 0 .6em; }
  h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
  .cards { display: flex; flex-wrap: wrap; gap: .8em; }
  .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6em .9em; min-width: 9em; }
  .card .v { font-size: 1.6em; font-variant-numeric: tabular-nums; }
  .card .k { color: #666; font-size: .85em; }
  .cols { display: flex; flex-wrap: wrap; gap: 2em; }
  table { border-collapse: collapse; background: #fff; }
  th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; font-variant-numeric: tabular-nums; }
  td.n { text-align: right; }
  .bar { display: inline-block; height: .8em; vertical-align: middle; }
  .online { background: #4a7fd0; }
  .target { background: #d07a4a; }
  #status { color: #888; font-size: .85em; }
</style>
</head>
<body>
<h1>tcpcopy: live replication <span id="status">connecting…</span></h1>
<div class="cards">
  <div class="card"><div class="v" id="ratio">–</div><div class="k">replication ratio (sent / captured)</div></div>
  <div class="card"><div class="v" id="captured-rate">–</div><div class="k">captured requests/s</div></div>
  <div class="card"><div class="v" id="sent-rate">–</div><div class="k">sent to the target/s</div></div>
  <div class="card"><div class="v" id="lag">–</div><div class="k">replication lag (ms)</div></div>
  <div class="card"><div class="v" id="active">–</div><div class="k">active sessions</div></div>
  <div class="card"><div class="v" id="compared">–</div><div class="k">responses compared</div></div>
  <div class="card"><div class="v" id="different">–</div><div class="k">different</div></div>
</div>
<div class="cols">
  <div>
    <h2>Latency to the first response byte (ms): <span class="bar online" style="width:1em"></span> online <span class="bar target" style="width:1em"></span> target</h2>
    <table id="latency"><thead><tr><th>≤ ms</th><th>online</th><th>target</th></tr></thead><tbody></tbody></table>
  </div>
  <div>
    <h2>intercept (target replies through the channel)</h2>
    <table id="intercept"><tbody>
      <tr><th>channel connections</th><td class="n" id="i-conn">–</td></tr>
      <tr><th>replies relayed</th><td class="n" id="i-replies">–</td></tr>
      <tr><th>… with payload</th><td class="n" id="i-payload">–</td></tr>
      <tr><th>replies/s</th><td class="n" id="i-rate">–</td></tr>
      <tr><th>channel queued bytes</th><td class="n" id="i-queued">–</td></tr>
    </tbody></table>
  </div>
  <div>
    <h2>intercept's own counters</h2>
    <table id="intercept-own"><thead><tr><th>counter</th></tr></thead><tbody></tbody></table>
    <p id="intercept-own-none">none yet (an intercept sends them when it has the <code>stats</code> feature)</p>
  </div>
</div>
<h2>Differences by endpoint</h2>
<table id="diffs"><thead><tr><th>endpoint</th><th>requests</th><th>different</th><th>missing on the target</th><th>kinds</th></tr></thead><tbody></tbody></table>
<p id="updated"></p>
<script>
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var set = function (id, v) { $(id).textContent = String(v); };
  var cell = function (tr, text, n) { var td = document.createElement('td'); td.textContent = String(text); if (n) td.className = 'n'; tr.appendChild(td); };
  var updates = 0;
  function drawOwn(own) {
    var t = $('intercept-own');
    $('intercept-own-none').style.display = own.length ? 'none' : '';
    var head = t.tHead.rows[0];
    while (head.cells.length > 1) head.deleteCell(1);
    own.forEach(function (i) { var th = document.createElement('th'); th.textContent = i.server; head.appendChild(th); });
    var body = t.tBodies[0];
    body.textContent = '';
    var names = [];
    own.forEach(function (i) { Object.keys(i.counters).forEach(function (k) { if (names.indexOf(k) < 0) names.push(k); }); });
    var row = function (name, label, value) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-counter', name);
      var th = document.createElement('th'); th.textContent = label; tr.appendChild(th);
      own.forEach(function (i) { var td = document.createElement('td'); td.className = 'n'; td.setAttribute('data-server', i.server); td.textContent = String(value(i)); tr.appendChild(td); });
      body.appendChild(tr);
    };
    if (own.length) {
      row('routedPerS', 'routed/s', function (i) { return i.routedPerS; });
      row('ageS', 'age (s)', function (i) { return i.ageS; });
    }
    names.forEach(function (k) { row(k, k, function (i) { return k in i.counters ? i.counters[k] : '–'; }); });
  }
  function draw(s) {
    updates++;
    set('ratio', s.ratio.toFixed(3));
    set('captured-rate', s.capturedPerS);
    set('sent-rate', s.sentPerS);
    set('lag', s.lagMs);
    set('active', s.active);
    set('i-conn', s.intercept.connections);
    set('i-replies', s.intercept.replies);
    set('i-payload', s.intercept.repliesWithPayload);
    set('i-rate', s.intercept.repliesPerS);
    set('i-queued', s.intercept.queuedBytes);
    drawOwn(s.interceptOwn);
    var c = s.compare;
    set('compared', c ? c.compared : 'off');
    set('different', c ? c.different : 'off');
    var lat = $('latency').tBodies[0];
    lat.textContent = '';
    if (c) {
      var most = Math.max.apply(null, c.buckets.online.concat(c.buckets.target).concat([1]));
      for (var i = 0; i < c.buckets.online.length; i++) {
        var tr = document.createElement('tr');
        cell(tr, i < s.bucketsMs.length ? s.bucketsMs[i] : '> ' + s.bucketsMs[s.bucketsMs.length - 1]);
        ['online', 'target'].forEach(function (side) {
          var td = document.createElement('td');
          var n = c.buckets[side][i];
          var bar = document.createElement('span');
          bar.className = 'bar ' + side;
          bar.style.width = Math.round((120 * n) / most) + 'px';
          td.appendChild(bar);
          td.appendChild(document.createTextNode(' ' + n));
          tr.appendChild(td);
        });
        lat.appendChild(tr);
      }
    }
    var body = $('diffs').tBodies[0];
    body.textContent = '';
    (c ? c.rows : []).forEach(function (r) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-endpoint', r.endpoint);
      cell(tr, r.endpoint); cell(tr, r.total, true); cell(tr, r.different, true); cell(tr, r.missingTarget, true); cell(tr, r.kinds);
      body.appendChild(tr);
    });
    document.body.setAttribute('data-updates', String(updates));
    set('updated', 'updated ' + new Date().toLocaleTimeString() + ', up ' + s.uptimeS + ' s');
  }
  var es = new EventSource('events');
  es.onopen = function () { set('status', 'live'); };
  es.onerror = function () { set('status', 'disconnected, retrying…'); };
  es.onmessage = function (e) { draw(JSON.parse(e.data)); };
})();
</script>
</body>
</html>
`;
