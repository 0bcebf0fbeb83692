// The initiator's live status page: one HTML document that polls /status and renders it.
#include "status_page.h"

namespace lbmail {
namespace {

// Plain DOM calls, no framework: the page must load from an admin port on a host with no
// network. Text from /status reaches the page only through textContent and setAttribute, so a
// domain or gateway name is never parsed as markup. The source stays ASCII; symbols are
// entities or \u escapes.
constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lbmail initiator</title>
<link rel="icon" href="data:,">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em; color: #222; }
header { font-size: 15px; }
#rate, #state { font-weight: bold; }
#updated { color: #777; }
#error { background: #fdd; color: #900; padding: 0.3em 0.6em; margin: 0.5em 0; font-weight: bold; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
p.legend { color: #555; margin: 1em 0 0.3em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th { background: #f4f4f4; }
th.name { text-align: left; }
.up { color: #070; }
.down { color: #b00; font-weight: bold; }
td.cell.est { font-style: italic; }
td.cell.unknown { background: #ddd; color: #777; }
td.cell.current { outline: 2px solid #000; outline-offset: -2px; font-weight: bold; }
</style>
</head>
<body>
<header>
  <b id="node">?</b> &middot; campaign <b id="campaign">&ndash;</b> <span id="state">&ndash;</span>
  &middot; <span id="rate">&ndash;</span> msg/s
  &middot; sent <span id="sent">&ndash;</span> of <span id="total">?</span>
  &middot; delivered <span id="delivered">&ndash;</span> &middot; deferred <span id="deferred">&ndash;</span>
  &middot; bounced <span id="bounced">&ndash;</span> &middot; failed <span id="failed">&ndash;</span>
  &middot; in flight <span id="in-flight">&ndash;</span> &middot; ETA <span id="eta">&ndash;</span>
  &middot; <span id="updated">never updated</span>
</header>
<div id="error" hidden>status unavailable <span id="error-detail"></span></div>
<p class="legend">gateways</p>
<table id="gateways">
  <thead><tr><th class="name">gateway</th><th>address</th><th>link</th><th>credit</th><th>in flight</th>
    <th>RTT ms</th></tr></thead>
  <tbody></tbody>
</table>
<p class="legend">expected delivery time in ms by domain and gateway; <i>italics</i>: estimated without
  samples of its own; <b>outlined</b>: the gateway the domain uses now</p>
<table id="ewma">
  <thead><tr></tr></thead>
  <tbody></tbody>
</table>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const count = (v) => (isNum(v) ? String(v) : "?");

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function fmtMs(ms) { return ms < 100 ? ms.toFixed(1) : String(Math.round(ms)); }

function fmtEta(s) {
  if (!isNum(s)) return "unknown";
  s = Math.round(s);
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

function renderSummary(st) {
  const c = st.campaign || {};
  $("node").textContent = st.node ?? "?";
  $("campaign").textContent = c.name ?? "none";
  $("state").textContent = c.state ?? st.state ?? "?";
  $("rate").textContent = isNum(c.rate_per_second) ? c.rate_per_second.toFixed(1) : "?";
  for (const k of ["sent", "total", "delivered", "deferred", "bounced", "failed", "in_flight"]) {
    $(k.replace("_", "-")).textContent = count(c[k]);
  }
  $("eta").textContent = fmtEta(c.eta_seconds);
}

function renderGateways(list) {
  const rows = (Array.isArray(list) ? list : []).map((g) => {
    const tr = el("tr");
    tr.append(el("th", g.name, "name"), el("td", g.address), el("td", g.up ? "up" : "down", g.up ? "up" : "down"),
              el("td", count(g.credit)), el("td", count(g.in_flight)),
              el("td", isNum(g.rtt_ms) ? g.rtt_ms.toFixed(2) : "?"));
    return tr;
  });
  $("gateways").tBodies[0].replaceChildren(...rows);
}

// Delivery times span orders of magnitude (a nearby MX in milliseconds, a slow one in seconds);
// on a linear scale one slow cell would paint all the others the same green, so the hue follows
// log(1 + ms): 120 (green) for the fastest cell in the table, 0 (red) for the slowest.
function hue(ms, lo, hi) {
  if (!(hi > lo)) return 120;
  return 120 * (1 - (Math.log1p(ms) - Math.log1p(lo)) / (Math.log1p(hi) - Math.log1p(lo)));
}

function renderTable(t) {
  const gws = Array.isArray(t?.gateways) ? t.gateways : [];
  const doms = Array.isArray(t?.domains) ? t.domains : [];
  const head = el("tr");
  head.append(el("th", "domain", "name"), el("th", "sent"), ...gws.map((g) => el("th", g)));
  const known = doms.flatMap((d) => (Array.isArray(d.expected_ms) ? d.expected_ms.filter(isNum) : []));
  const lo = Math.min(...known), hi = Math.max(...known);
  const rows = doms.map((d) => {
    const ms = Array.isArray(d.expected_ms) ? d.expected_ms : [];
    const src = Array.isArray(d.source) ? d.source : [];
    const tr = el("tr");
    tr.append(el("th", d.domain, "name"), el("td", count(d.sent)));
    gws.forEach((g, i) => {
      const v = isNum(ms[i]) ? ms[i] : null;
      const td = el("td", v === null ? "\u2013" : fmtMs(v), "cell");
      td.dataset.gateway = String(g);
      td.dataset.domain = String(d.domain);
      td.dataset.ms = v === null ? "" : String(v);
      td.dataset.source = String(src[i] ?? "none");
      td.title = td.dataset.source;
      if (v === null) td.classList.add("unknown");
      else td.style.backgroundColor = "hsl(" + hue(v, lo, hi).toFixed(0) + ", 70%, 78%)";
      if (td.dataset.source !== "samples") td.classList.add("est");
      if (d.current === i) td.classList.add("current");
      tr.append(td);
    });
    return tr;
  });
  const table = $("ewma");
  table.tHead.rows[0].replaceWith(head);
  table.tBodies[0].replaceChildren(...rows);
}

// The next poll starts a second after the last one ends, so a slow initiator never gets a pile
// of overlapping requests; the timeout keeps a hung connection from freezing the page.
async function poll() {
  try {
    const r = await fetch("status", { cache: "no-store", signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const st = await r.json();
    renderSummary(st);
    renderGateways(st.gateways);
    renderTable(st.table);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("error").hidden = true;
  } catch (e) {
    // The last table stays: stale figures under a warning beat an empty page.
    $("error-detail").textContent = "(" + (e && e.message ? e.message : String(e)) + ")";
    $("error").hidden = false;
  } finally {
    setTimeout(poll, 1000);
  }
}
poll();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view statusPageHtml() { return kPage; }

}  // namespace lbmail
