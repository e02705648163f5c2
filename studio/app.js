// kaygraph studio: the page at /_kaygraph/. Everything it asks the server goes through the kaygraph/client
// runtime (served from the package next to this file) with the token typed into the header.
import { createClient, KaygraphApiError, Transport } from "../client/index.js";

const $ = (selector) => document.querySelector(selector);

/** An element with text children only: nothing from the server is ever parsed as HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

const pretty = (value) => JSON.stringify(value, null, 2);
const describeError = (error) => (error instanceof KaygraphApiError ? `${error.error_code} (${error.status}): ${error.message}` : String(error?.message ?? error));

const state = { token: sessionStorage.getItem("kaygraph.token") ?? "", graphs: [], loadedAt: undefined, current: undefined, diagrams: 0, task: undefined };
const options = () => ({ baseUrl: location.origin, token: () => state.token || undefined });
const client = () => createClient(options());

// #region graphs

async function loadGraphs() {
  const answer = await new Transport(options()).json("GET", "/_kaygraph/api/graphs", { options: {} });
  if (state.loadedAt !== undefined && answer.loaded_at !== state.loadedAt) $("#reloaded").textContent = `reloaded ${new Date().toLocaleTimeString()}`;
  const changed = answer.loaded_at !== state.loadedAt;
  state.loadedAt = answer.loaded_at;
  state.graphs = answer.graphs;
  if (!changed) return;
  renderNav();
  const again = state.current && state.graphs.find((g) => g.name === state.current.name && g.version === state.current.version);
  if (again) void showGraph(again);
  else if (state.graphs[0] && !state.current) void showGraph(state.graphs[0]);
  renderTaskFilters();
}

function renderNav() {
  const nav = $("#graphs");
  nav.replaceChildren(
    ...state.graphs.map((g) =>
      el("button", { type: "button", "data-graph": `${g.name}@${g.version}`, class: state.current?.name === g.name && state.current?.version === g.version ? "current" : undefined, onclick: () => showGraph(g) }, `${g.name} v${g.version}${g.deprecated ? " (deprecated)" : ""}`),
    ),
  );
}

async function showGraph(graph) {
  state.current = graph;
  renderNav();
  const diagram = el("div", { class: "diagram", id: "diagram" });
  const section = $("#graph");
  section.replaceChildren(
    el("h2", {}, `${graph.name} v${graph.version}`),
    graph.description ? el("p", { id: "description" }, graph.description) : "",
    diagram,
    el("h3", {}, "Run"),
    inputForm(graph),
    el("h3", {}, "Timeline"),
    el("p", { id: "run-status", "data-state": "idle" }, "Not run yet."),
    el("ol", { class: "timeline", id: "timeline" }),
    el("details", {}, el("summary", {}, "Input schema"), el("pre", {}, pretty(graph.input))),
    el("details", {}, el("summary", {}, "Output schema"), el("pre", {}, pretty(graph.output))),
  );
  if (graph.mermaid && window.mermaid) {
    try {
      const { svg } = await window.mermaid.render(`kg-diagram-${++state.diagrams}`, graph.mermaid);
      diagram.innerHTML = svg; // Mermaid's own output (strict security level) from the server's diagram text.
    } catch (error) {
      diagram.replaceChildren(el("p", { class: "error" }, `Diagram: ${describeError(error)}`));
    }
  } else diagram.replaceChildren(el("p", {}, "No diagram for this graph."));
}

// #endregion
// #region the run form

/** A field per top-level property of the input schema (strings, numbers, booleans, enums; JSON otherwise). */
function inputForm(graph) {
  const properties = graph.input?.properties ?? {};
  const required = new Set(graph.input?.required ?? []);
  const fields = Object.entries(properties).map(([name, schema]) => field(name, schema, required.has(name)));
  const form = el("form", { id: "run-form", onsubmit: (event) => event.preventDefault() }, ...fields.map((f) => f.node));
  const run = (mode) => () => {
    const input = {};
    try {
      for (const f of fields) {
        const value = f.read();
        if (value !== undefined) input[f.name] = value;
      }
    } catch (error) {
      setStatus("failed", `Input: ${describeError(error)}`);
      return;
    }
    void startRun(graph, input, mode);
  };
  form.append(
    el("div", { class: "buttons" },
      el("button", { type: "button", class: "action", id: "run-sync", onclick: run("sync") }, "Run"),
      el("button", { type: "button", class: "action", id: "run-stream", onclick: run("stream") }, "Stream"),
      el("button", { type: "button", class: "action", id: "run-task", onclick: run("task") }, "Background"),
    ),
  );
  return form;
}

function field(name, schema, required) {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  const label = `${name}${required ? " *" : ""}${schema.description ? ` — ${schema.description}` : ""}`;
  let input;
  let read;
  if (Array.isArray(schema.enum)) {
    input = el("select", { name }, required ? "" : el("option", { value: "" }, "—"), ...schema.enum.map((v) => el("option", { value: JSON.stringify(v), selected: v === schema.default }, String(v))));
    read = () => (input.value === "" ? undefined : JSON.parse(input.value));
  } else if (type === "boolean") {
    input = el("input", { name, type: "checkbox", checked: schema.default === true });
    read = () => input.checked;
  } else if (type === "number" || type === "integer") {
    input = el("input", { name, type: "number", step: type === "integer" ? "1" : "any", value: schema.default });
    read = () => (input.value === "" ? undefined : Number(input.value));
  } else if (type === "string") {
    input = el("input", { name, type: "text", value: schema.default });
    read = () => (input.value === "" && !required ? undefined : input.value);
  } else {
    input = el("textarea", { name, placeholder: "JSON" }, schema.default === undefined ? "" : pretty(schema.default));
    read = () => (input.value.trim() === "" ? undefined : JSON.parse(input.value));
  }
  return { name, read, node: el("label", {}, label, " ", input) };
}

// #endregion
// #region runs and the timeline

function setStatus(kind, text) {
  const status = $("#run-status");
  if (!status) return;
  status.dataset.state = kind;
  status.textContent = text;
}

function highlight(node, kind) {
  for (const group of document.querySelectorAll("#diagram g.node")) {
    if (group.textContent.trim() !== node) continue;
    group.classList.remove("active", "done", "failed");
    group.classList.add(kind);
  }
}

/** Appends one event to a timeline (and lights its node on the diagram). */
function showEvent(list, event) {
  let text = `#${event.seq} ${event.type}`;
  if (event.node) text += ` ${event.node}`;
  if (event.type === "node_end") text += ` → ${event.action} (${event.duration_ms} ms${event.retries ? `, ${event.retries} retries` : ""})`;
  if (event.type === "data") text += ` ${JSON.stringify(event.chunk)}`;
  if (event.type === "error") text += ` ${event.error_code}: ${event.error}`;
  if (event.type === "retry") text += ` attempt ${event.attempt}: ${event.error_code} ${event.error}`;
  if (event.type === "interrupt") text += ` asks ${JSON.stringify(event.value)}`;
  if (event.type === "result") text += ` ${JSON.stringify(event.result)}`;
  list.append(el("li", { class: event.type, "data-type": event.type }, text));
  if (event.type === "node_start") highlight(event.node, "active");
  if (event.type === "node_end") highlight(event.node, "done");
  if (event.type === "error" && event.node) highlight(event.node, "failed");
}

async function startRun(graph, input, mode) {
  const list = $("#timeline");
  list.replaceChildren();
  for (const group of document.querySelectorAll("#diagram g.node")) group.classList.remove("active", "done", "failed");
  const calls = client().graph(graph.name, graph.version);
  setStatus("running", `Running (${mode})…`);
  try {
    if (mode === "sync") {
      const result = await calls.run(input);
      list.append(el("li", { class: "result", "data-type": "result" }, `result ${JSON.stringify(result)}`));
      setStatus("done", "Completed.");
    } else if (mode === "stream") {
      let last;
      for await (const event of calls.stream(input)) {
        showEvent(list, event);
        last = event;
      }
      setStatus(last?.type === "result" ? "done" : last?.type ?? "done", last?.type === "result" ? "Completed." : `Ended: ${last?.type}.`);
    } else {
      const accepted = await calls.submit(input);
      setStatus("done", `Task ${accepted.task_id} submitted.`);
      void refreshTasks();
      void openTask(accepted.task_id);
    }
  } catch (error) {
    setStatus("failed", describeError(error));
  }
}

// #endregion
// #region tasks

function renderTaskFilters() {
  const section = $("#tasks");
  if ($("#task-list")) {
    const graphFilter = $("#task-graph");
    const chosen = graphFilter.value;
    graphFilter.replaceChildren(el("option", { value: "" }, "all graphs"), ...[...new Set(state.graphs.map((g) => g.name))].map((n) => el("option", { value: n, selected: n === chosen }, n)));
    return;
  }
  section.replaceChildren(
    el("h2", {}, "Tasks"),
    el("div", { class: "buttons" },
      el("select", { id: "task-status", onchange: () => refreshTasks() }, ...["", "pending", "running", "interrupted", "completed", "failed", "cancelled"].map((s) => el("option", { value: s }, s || "any status"))),
      el("select", { id: "task-graph", onchange: () => refreshTasks() }, el("option", { value: "" }, "all graphs"), ...[...new Set(state.graphs.map((g) => g.name))].map((n) => el("option", { value: n }, n))),
    ),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "task"), el("th", {}, "graph"), el("th", {}, "status"), el("th", {}, "created"))), el("tbody", { id: "task-list" })),
    el("div", { id: "task" }),
  );
}

async function refreshTasks() {
  const body = $("#task-list");
  if (!body) return;
  const query = { limit: 20, status: $("#task-status").value || undefined, graph: $("#task-graph").value || undefined };
  try {
    const page = await client().tasks(query);
    body.replaceChildren(
      ...page.tasks.map((t) =>
        el("tr", { class: "task", "data-task": t.id, onclick: () => openTask(t.id) }, el("td", {}, t.id.slice(0, 8)), el("td", {}, `${t.graph} v${t.version}`), el("td", { class: "status" }, t.status), el("td", {}, new Date(t.created_at).toLocaleTimeString())),
      ),
    );
  } catch (error) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "error" }, describeError(error))));
  }
}

async function openTask(id) {
  const box = $("#task");
  const events = el("ol", { class: "timeline", id: "task-events" });
  const record = el("div", { id: "task-record" });
  box.replaceChildren(el("h3", {}, `Task ${id}`), record, el("h3", {}, "Events"), events);
  await follow(id, events, record, undefined);
}

/**
 * Shows the task's events after `after` and its record after each final or interrupt event. A subscription ends
 * at an interrupt; a task already resumed by then (a resume clicked before its interrupt event arrived) is
 * followed on, so its next attempt's events continue the same timeline.
 */
async function follow(id, events, record, after) {
  state.task?.abort();
  const controller = new AbortController();
  state.task = controller;
  let last = after;
  const resumed = () => follow(id, events, record, last);
  await showRecord(id, record, resumed);
  try {
    for (;;) {
      let ended;
      for await (const event of client().subscribe(id, { signal: controller.signal, after: last })) {
        showEvent(events, event);
        last = event.seq;
        ended = event.type;
      }
      const status = await showRecord(id, record, resumed);
      if (ended !== "interrupt" || status === "interrupted" || controller.signal.aborted) return;
    }
  } catch (error) {
    if (!controller.signal.aborted) events.append(el("li", { class: "error" }, describeError(error)));
  }
}

/** Shows the task's record (and a resume form while it is interrupted); resolves to its status. */
async function showRecord(id, box, resumed) {
  const c = client();
  try {
    const task = await c.task(id);
    const parts = [el("p", {}, "Status: ", el("span", { class: "status", id: "task-status-text" }, task.status), ` · attempts ${task.attempts}`)];
    if (task.result !== null && task.result !== undefined) parts.push(el("pre", { id: "task-result" }, pretty(task.result)));
    if (task.error) parts.push(el("p", { class: "error", id: "task-error" }, `${task.error.error_code}: ${task.error.message}`));
    try {
      const checkpoint = await c.state(id);
      parts.push(el("details", {}, el("summary", {}, `Latest checkpoint (step ${checkpoint.step}, next ${checkpoint.next_node ?? "—"})`), el("pre", { id: "task-checkpoint" }, pretty(checkpoint.shared))));
    } catch (error) {
      parts.push(el("p", {}, `No checkpoint (${error instanceof KaygraphApiError ? error.error_code : describeError(error)}).`));
    }
    if (task.status === "interrupted") parts.push(resumeForm(task, box, resumed ?? (() => openTask(id))));
    if (!["completed", "failed", "cancelled"].includes(task.status)) {
      parts.push(el("button", { type: "button", class: "action", id: "task-cancel", onclick: async () => {
        try { await c.cancel(id); } catch (error) { box.append(el("p", { class: "error" }, describeError(error))); }
        await showRecord(id, box);
        void refreshTasks();
      } }, "Cancel"));
    }
    box.replaceChildren(...parts);
    return task.status;
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, describeError(error)));
    return undefined;
  }
}

function resumeForm(task, box, resumed) {
  const value = el("textarea", { id: "resume-value", placeholder: "resume value (JSON)" });
  return el("form", { id: "resume-form", onsubmit: (event) => event.preventDefault() },
    el("p", {}, `Waiting at ${task.interrupt?.node ?? "?"}: `, el("code", {}, JSON.stringify(task.interrupt?.value ?? null))),
    value,
    el("button", { type: "button", class: "action", id: "resume", onclick: async () => {
      try {
        await client().resume(task.id, value.value.trim() === "" ? null : JSON.parse(value.value));
        void refreshTasks();
        void resumed();
      } catch (error) {
        box.append(el("p", { class: "error" }, describeError(error)));
      }
    } }, "Resume"),
  );
}

// #endregion

const tokenInput = $("#token");
tokenInput.value = state.token;
tokenInput.addEventListener("change", () => {
  state.token = tokenInput.value.trim();
  sessionStorage.setItem("kaygraph.token", state.token);
  state.loadedAt = undefined;
  void loadGraphs().catch(showLoadError);
  void refreshTasks();
});

function showLoadError(error) {
  $("#graph").replaceChildren(el("p", { class: "error", id: "load-error" }, describeError(error)));
}

window.mermaid?.initialize({ startOnLoad: false, securityLevel: "strict" });
renderTaskFilters();
await loadGraphs().catch(showLoadError);
void refreshTasks();
// Live: task statuses, and the graphs after a hot reload (which answers with a new loaded_at).
setInterval(() => {
  void refreshTasks();
  void loadGraphs().catch(showLoadError);
}, 2000);
document.body.dataset.ready = "true";
