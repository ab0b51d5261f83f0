// The Ablation planning view. fhirclient completes the SMART launch and reads the patient's record
// from the EHR's FHIR server with the searches the patient-view service declares; the application's
// rules evaluate that record (POST api/planning) and this page only draws what they return, with
// the hazard ratios of evidence.json (copied from the project's evidence document).
"use strict";

const charts = {};
window.planningCharts = charts;

const CALL_COLOURS = { mutated: "#cf222e", "wild type": "#1a7f37", unknown: "#9a6700" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (v === undefined || v === null) return;
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  });
  children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(String(c ?? ""))));
  return node;
}

function badge(text, kind) {
  return el("span", { class: "badge " + kind }, text);
}

function day(time) {
  return time ? String(time).substring(0, 10) : "unknown date";
}

function appContextOf(client) {
  const text = (client.state.tokenResponse && client.state.tokenResponse.appContext) || sessionStorage.getItem("crlm.appContext");
  if (!text) return null;
  try {
    return typeof text === "string" ? JSON.parse(text) : text;
  } catch (e) {
    return null;
  }
}

async function readRecord(client, patientId) {
  const { queries } = await fetch("api/queries").then((r) => r.json());
  const byKey = new Map();
  for (const template of Object.values(queries)) {
    const query = template.split("{{context.patientId}}").join(encodeURIComponent(patientId));
    if (query.includes("{{")) continue;
    const result = await client.request(query, { pageLimit: 0, flat: true });
    const resources = Array.isArray(result) ? result : [result];
    resources.filter((r) => r && r.resourceType).forEach((r) => byKey.set(r.resourceType + "/" + r.id, r));
  }
  return [...byKey.values()];
}

async function evaluate(patientId, resources) {
  const bundle = { resourceType: "Bundle", type: "collection", entry: resources.map((r) => ({ resource: r })) };
  const response = await fetch("api/planning?patient=" + encodeURIComponent(patientId), {
    method: "POST",
    headers: { "Content-Type": "application/fhir+json" },
    body: JSON.stringify(bundle),
  });
  if (!response.ok) throw new Error("The rules could not evaluate this record (HTTP " + response.status + ")");
  return response.json();
}

function patientName(resources, patientId) {
  const patient = resources.find((r) => r.resourceType === "Patient" && r.id === patientId);
  const name = patient && patient.name && patient.name[0];
  const text = name ? name.text || [...(name.given || []), name.family].filter(Boolean).join(" ") : patientId;
  return text + (patient && patient.birthDate ? " · born " + patient.birthDate : "") + " · " + patientId;
}

function showLaunchContext(appContext) {
  const node = document.getElementById("launch-context");
  if (!appContext) return;
  node.hidden = false;
  node.dataset.rule = appContext.rule || "";
  node.textContent = "Opened from the card of rule " + (appContext.rule || "?") +
    "; lesions the card names as planned: " + ((appContext.plannedLesions || []).join(", ") || "none") +
    "; resources behind its decision: " + (appContext.resources || []).length + ".";
}

function drawLesions(view, appContext) {
  const cardPlanned = new Set((appContext && appContext.plannedLesions) || []);
  const lesions = (view.lesions || []).filter((l) => l.liver || l.planned || cardPlanned.has(l.lesion));
  const threshold = Number(view.thresholdMm);
  const names = lesions.map((l) => l.name);
  const planned = (l) => l.planned || cardPlanned.has(l.lesion);
  const history = (view.measurements || []).filter((m) => lesions.some((l) => l.lesion === m.lesion));
  const chart = echarts.init(document.getElementById("lesion-chart"));
  charts.lesions = chart;
  chart.setOption({
    animation: false,
    grid: { left: 220, right: 60, top: 30, bottom: 40 },
    legend: { data: ["Latest maximum diameter", "Each measurement"] },
    tooltip: { trigger: "item" },
    xAxis: { type: "value", name: "mm", min: 0, max: (v) => Math.max(v.max, threshold) + 10 },
    yAxis: { type: "category", data: names, inverse: true },
    series: [
      {
        name: "Latest maximum diameter",
        type: "bar",
        barMaxWidth: 36,
        data: lesions.map((l) => ({
          value: l.mm === null || l.mm === undefined ? null : Number(l.mm),
          itemStyle: { color: planned(l) ? "#0969da" : "#8c959f" },
          label: {
            show: true, position: "right",
            formatter: () => (l.mm == null ? "not measured" : l.mm + " mm · " + day(l.time)) + (planned(l) ? " · planned" : ""),
          },
        })),
        markLine: {
          symbol: "none",
          lineStyle: { color: "#cf222e", type: "dashed", width: 2 },
          label: { formatter: threshold + " mm" },
          data: [{ name: "threshold", xAxis: threshold }],
        },
      },
      {
        name: "Each measurement",
        type: "scatter",
        symbolSize: 8,
        itemStyle: { color: "#1b1f24" },
        data: history.filter((m) => m.mm != null).map((m) => ({
          value: [Number(m.mm), lesions.find((l) => l.lesion === m.lesion).name],
          time: m.time,
        })),
        tooltip: { formatter: (p) => p.value[1] + ": " + p.value[0] + " mm on " + day(p.data.time) },
      },
    ],
  });
  const body = document.querySelector("#lesion-table tbody");
  lesions.forEach((l) => {
    const measurements = history.filter((m) => m.lesion === l.lesion)
      .map((m) => (m.mm == null ? "unreadable" : m.mm + " mm") + " on " + day(m.time)).join("; ");
    body.append(el("tr", { "data-lesion": l.lesion, "data-planned": String(planned(l)), "data-mm": l.mm ?? "" },
      el("td", {}, l.name),
      el("td", {}, l.mm == null ? badge("not measured", "gap") : [l.mm + " mm", Number(l.mm) >= threshold ? badge("≥ " + threshold + " mm", "mutated") : ""]),
      el("td", {}, day(l.time), l.time && !l.recent ? badge("older than the measurement window", "gap") : ""),
      el("td", {}, planned(l) ? badge("planned", "planned") : "no"),
      el("td", {}, measurements || "none")));
  });
  if (!lesions.length) body.append(el("tr", {}, el("td", { colSpan: 5 }, "No liver lesion measurement in the record.")));
}

function drawGenes(view) {
  const results = view.geneResults || [];
  const genes = ["KRAS", "NRAS", "BRAF"];
  const chart = echarts.init(document.getElementById("gene-chart"));
  charts.genes = chart;
  chart.setOption({
    animation: false,
    grid: { left: 60, right: 30, top: 20, bottom: 40 },
    tooltip: { trigger: "item", formatter: (p) => p.data.gene + " " + p.data.call + " on " + day(p.data.time) },
    // A few months either side, so that results on one day still read as dates.
    xAxis: { type: "time", min: (v) => v.min - 90 * 86400000, max: (v) => v.max + 90 * 86400000 },
    yAxis: { type: "category", data: genes, inverse: true },
    series: [{
      type: "scatter",
      symbolSize: 14,
      data: results.filter((r) => r.time).map((r) => ({
        value: [r.time, r.gene], gene: r.gene, call: r.call, time: r.time,
        symbol: r.deciding ? "diamond" : "circle",
        itemStyle: { color: CALL_COLOURS[r.call] || "#8c959f" },
      })),
    }],
  });
  const body = document.querySelector("#gene-table tbody");
  (view.geneReadings || []).forEach((g) => {
    const rows = results.filter((r) => r.gene === g.gene);
    const reading = [badge(g.status, g.status.replace(" ", "-"))];
    if (g.change) reading.push(" " + g.change);
    if (g.discordant) reading.push(badge("discordant results", "discordant"));
    if (!g.tested) reading.push(badge("not tested", "gap"));
    else if (g.status === "unknown") reading.push(badge(g.reason || "unreadable", "gap"));
    const list = el("ul", {}, rows.map((r) => el("li", { "data-observation": r.observation },
      day(r.time) + ": " + r.call + (r.reason ? " (" + r.reason + ")" : "") + " · " + (r.resultStatus || "") +
      (r.method ? " · " + r.method : "") + (r.deciding ? " · deciding result" : "") +
      (r.correction ? " · corrected" : ""))));
    body.append(el("tr", { "data-gene": g.gene, "data-status": g.status, "data-discordant": String(g.discordant), "data-tested": String(g.tested) },
      el("td", {}, g.gene), el("td", {}, reading), el("td", {}, rows.length ? list : "no result")));
  });
}

async function drawEvidence(view, appContext) {
  const evidence = await fetch("evidence.json").then((r) => r.json());
  const fired = view.rules.filter((r) => r.status === "FIRED");
  const shown = new Set(fired.map((r) => r.ruleId));
  if (appContext && appContext.rule) shown.add(appContext.rule);
  const firedList = document.getElementById("fired-rules");
  fired.forEach((r) => firedList.append(el("li", { "data-rule": r.ruleId }, r.ruleId + ": " + r.summary)));
  if (!fired.length) firedList.append(el("li", {}, "No rule fired on the record as it stands."));
  const estimates = evidence.estimates.filter((e) => e.rules.some((id) => shown.has(id)));
  const labels = estimates.map((e) => e.label);
  const chart = echarts.init(document.getElementById("forest-chart"));
  charts.forest = chart;
  chart.setOption({
    animation: false,
    grid: { left: 420, right: 40, top: 20, bottom: 50 },
    tooltip: { trigger: "item" },
    xAxis: { type: "log", name: "Hazard ratio (log scale)", nameLocation: "middle", nameGap: 30, min: 0.001, max: 100 },
    yAxis: { type: "category", data: labels, inverse: true, axisLabel: { width: 400, overflow: "truncate" } },
    series: [
      {
        name: "95% CI",
        type: "custom",
        renderItem: (params, api) => {
          const low = api.coord([api.value(0), api.value(2)]);
          const high = api.coord([api.value(1), api.value(2)]);
          return { type: "line", shape: { x1: low[0], y1: low[1], x2: high[0], y2: high[1] }, style: { stroke: "#1b1f24", lineWidth: 2 } };
        },
        encode: { x: [0, 1], y: 2 },
        data: estimates.map((e) => [Number(e.low), Number(e.high), e.label]),
      },
      {
        name: "Hazard ratio",
        type: "scatter",
        symbol: "rect",
        symbolSize: 12,
        itemStyle: { color: "#0969da" },
        data: estimates.map((e) => ({ value: [Number(e.hr), e.label], estimate: e })),
        tooltip: { formatter: (p) => p.data.estimate.label + ": HR " + p.data.estimate.hr + " (95% CI " + p.data.estimate.low + "–" + p.data.estimate.high + ", p = " + p.data.estimate.p + ")" },
        markLine: { symbol: "none", lineStyle: { color: "#57606a" }, label: { formatter: "HR 1" }, data: [{ xAxis: 1 }] },
      },
    ],
  });
  const body = document.querySelector("#forest-table tbody");
  estimates.forEach((e) => body.append(el("tr", { "data-estimate": e.id },
    el("td", {}, e.label), el("td", {}, e.hr + " (" + e.low + "–" + e.high + ")"), el("td", {}, e.p),
    el("td", {}, e.study + ": " + evidence.studies[e.study]), el("td", {}, e.rules.filter((id) => shown.has(id)).join(", ")))));
  if (!estimates.length) {
    body.append(el("tr", {}, el("td", { colSpan: 5 }, shown.size
      ? "The rules that fired quote findings reported with p-values only (" + evidence.studies.S1 + "): no hazard ratio to plot."
      : "No rule fired: no evidence to show.")));
  }
  const levels = document.getElementById("levels");
  // Only the statements that are levels of evidence (the GAPS rule's text is not one).
  view.rules.filter((r) => shown.has(r.ruleId) && /level of evidence/i.test(r.levelOfEvidence || "")).forEach((r) =>
    levels.append(el("li", { "data-rule": r.ruleId }, r.ruleId + ": " + r.levelOfEvidence.replace(/\*\*/g, ""))));
}

function drawGaps(view) {
  const list = document.getElementById("gaps");
  (view.gaps || []).forEach((g) => list.append(el("li", { class: "gap" }, g)));
  (view.failures || []).forEach((f) => list.append(el("li", { class: "gap failure" }, "Could not evaluate " + f)));
  view.rules.filter((r) => r.status === "FAILED").forEach((r) =>
    list.append(el("li", { class: "gap failure" }, "Rule " + r.ruleId + " could not be evaluated")));
  if (!list.children.length) list.append(el("li", { class: "none" }, "The rules report nothing they could not assess."));
}

(async function main() {
  try {
    const client = await FHIR.oauth2.ready();
    const patientId = client.patient.id;
    if (!patientId) throw new Error("The launch gave no patient");
    const appContext = appContextOf(client);
    showLaunchContext(appContext);
    const resources = await readRecord(client, patientId);
    document.getElementById("patient").textContent = patientName(resources, patientId);
    const view = await evaluate(patientId, resources);
    drawLesions(view, appContext);
    drawGenes(view);
    await drawEvidence(view, appContext);
    drawGaps(view);
    document.body.dataset.state = "ready";
  } catch (e) {
    const error = document.getElementById("error");
    error.hidden = false;
    error.textContent = "The planning view could not be shown: " + e.message;
    document.body.dataset.state = "error";
  }
})();
