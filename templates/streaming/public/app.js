// The page's logic: send the prompt, read the run's events over SSE or a WebSocket, show each token.
// Plain JavaScript, no build step: the kaygraph server serves this folder as it is.

const form = document.querySelector("#chat");
const reply = document.querySelector("#reply");
const status = document.querySelector("#status");
const send = document.querySelector("#send");
const stop = document.querySelector("#stop");

/** Reads a text/event-stream response and calls onEvent with each event's JSON data. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) onEvent(JSON.parse(data));
    }
  }
}

/** POST /api/v1/chat/stream: the run's events as server-sent events. Aborting the fetch ends the run. */
async function viaSse(input, onEvent, signal) {
  const response = await fetch("/api/v1/chat/stream", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify(input),
    signal,
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(`${response.status} ${body.error_code ?? ""} ${body.error ?? response.statusText}`);
  }
  await readEvents(response, onEvent);
}

/** WS /ws/{client_id}: one socket, a "run" message, events tagged with our id; "cancel" stops the run. */
function viaWebSocket(input, onEvent, signal) {
  return new Promise((resolve, reject) => {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const clientId = `page-${Math.random().toString(36).slice(2)}`;
    const socket = new WebSocket(`${scheme}//${window.location.host}/ws/${clientId}`);
    const id = "run-1";
    let finished = false;
    socket.addEventListener("open", () => socket.send(JSON.stringify({ type: "run", id, graph: "chat", input })));
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.id !== id) return;
      onEvent(event);
      if (event.type === "result" || event.type === "error") {
        finished = true;
        socket.close(1000);
      }
    });
    socket.addEventListener("close", (close) => (finished || signal.aborted ? resolve() : reject(new Error(`the WebSocket closed (${close.code})`))));
    socket.addEventListener("error", () => reject(new Error("the WebSocket failed")));
    signal.addEventListener("abort", () => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "cancel", id }));
    });
  });
}

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

form.addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const input = { prompt: form.querySelector("#prompt").value };
  const transport = form.querySelector("input[name=transport]:checked").value === "ws" ? viaWebSocket : viaSse;
  const controller = new AbortController();
  const onStop = () => controller.abort();
  stop.addEventListener("click", onStop);
  reply.textContent = "";
  send.disabled = true;
  stop.disabled = false;
  setStatus("streaming", "Streaming…");
  try {
    await transport(
      input,
      (event) => {
        if (event.type === "data") reply.textContent += event.chunk.token;
        else if (event.type === "result") setStatus("done", `Done: ${event.result.tokens} tokens (${event.result.finish}).`);
        else if (event.type === "error") setStatus("error", `The run failed: ${event.error_code} ${event.error}`);
      },
      controller.signal,
    );
    if (controller.signal.aborted) setStatus("stopped", "Stopped.");
  } catch (error) {
    if (controller.signal.aborted) setStatus("stopped", "Stopped.");
    else setStatus("error", String(error.message ?? error));
  } finally {
    stop.removeEventListener("click", onStop);
    send.disabled = false;
    stop.disabled = true;
  }
});
