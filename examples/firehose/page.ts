/**
 * The firehose page: reads a WebSocket that sends 100 000 messages per second
 * (100 to a WebSocket frame) and draws them at the screen's pace, keeping
 * memory flat.
 *
 * - `fromEvents(socket, "message", { capacity, overflow: "drop-oldest" })`
 *   turns the socket's events into an async iterator that holds at most the
 *   newest `capacity` events (about 1024 messages); older ones are dropped
 *   and counted (`onDrop`).
 * - `batch(events, { size: capacity, ms: 16 })` hands them over as one array,
 *   and the loop takes one array per animation frame: the page's work is
 *   bounded per frame however fast the socket is, so frames keep coming.
 * - A separate `requestAnimationFrame` loop draws the chart and the counters.
 *
 * Bundled by `server.ts` with esbuild; `?seconds=N` asks the server for a
 * finite run, `?rate=N` for another rate, `?perFrame=N` for N messages per
 * WebSocket frame.
 */
import { batch, fromEvents } from "../../mod.ts";

const params = new URLSearchParams(location.search);
/** Messages per WebSocket frame the server was asked for (its default is 100). */
const PER_FRAME = Math.max(1, Math.floor(Number(params.get("perFrame") ?? 100)) || 100);
/** The most messages the page takes per animation frame. */
const BUDGET = 1024;
/** Socket events held for the page: about BUDGET messages. */
const CAPACITY = Math.max(1, Math.round(BUDGET / PER_FRAME));
/** Columns kept for the chart: one per data batch (about one per frame), 12 s at 60 fps. */
const COLUMNS = 720;

const $ = (id: string) => document.getElementById(id)!;
$("per-frame").textContent = String(PER_FRAME);
for (const element of document.querySelectorAll(".capacity")) element.textContent = String(CAPACITY);
const format = (n: number) => Math.round(n).toLocaleString("en");

/** Everything the page knows; the counters on the page show these. Also on `window.firehose` for debugging. */
const state = {
  kept: 0,
  dropped: 0,
  /** Sum of the gaps between consecutive sequence numbers drawn: must equal `dropped`. */
  gaps: 0,
  lastSeq: -1,
  /** From the server's close reason `sent <n>`, once the run ends. */
  sent: undefined as number | undefined,
  done: false,
  error: "",
  /** performance.now() of the first and the last message received. */
  firstAt: 0,
  lastAt: 0,
  frames: 0,
  fps: 0,
  longestFrameMs: 0,
  /** One entry per second of the page's life (the last 600): frames drawn, the longest frame, messages taken. */
  seconds: [] as { at: number; frames: number; longestFrameMs: number; received: number; done: boolean }[],
};
(globalThis as unknown as { firehose: typeof state }).firehose = state;

// The chart's memory: fixed-size rings, written one column per batch.
const ring = {
  min: new Float32Array(COLUMNS),
  max: new Float32Array(COLUMNS),
  mean: new Float32Array(COLUMNS),
  kept: new Uint32Array(COLUMNS),
  dropped: new Uint32Array(COLUMNS),
  next: 0,
  size: 0,
};

const socket = new WebSocket(`ws://${location.host}/ws${location.search}`);
socket.addEventListener("open", () => ($("status").textContent = "receiving…"));
socket.addEventListener("close", (event) => {
  const match = /^sent (\d+)$/.exec(event.reason);
  if (match) state.sent = Number(match[1]);
});

/** Resolves at the next animation frame. */
const nextFrame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));

/** Messages in one WebSocket frame: its lines. */
function countLines(text: string): number {
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  return lines;
}

async function consume(): Promise<void> {
  // The newest CAPACITY socket events wait for the page; a socket cannot be slowed down, so older ones are dropped.
  const events = fromEvents<MessageEvent<string>>(socket, "message", {
    capacity: CAPACITY,
    overflow: "drop-oldest",
    endOn: "close",
    onDrop: (event) => (state.dropped += countLines(event.data)),
  });
  let droppedBefore = 0;
  for await (const group of batch(events, { size: CAPACITY, ms: 16 })) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let count = 0;
    for (const event of group) {
      for (const line of event.data.split("\n")) {
        const comma = line.indexOf(",");
        const seq = Number(line.slice(0, comma));
        const value = Number(line.slice(comma + 1));
        state.gaps += seq - state.lastSeq - 1;
        state.lastSeq = seq;
        if (value < min) min = value;
        if (value > max) max = value;
        sum += value;
        count++;
      }
    }
    state.kept += count;
    if (state.firstAt === 0) state.firstAt = performance.now();
    state.lastAt = performance.now();
    const column = ring.next;
    ring.min[column] = min;
    ring.max[column] = max;
    ring.mean[column] = sum / count;
    ring.kept[column] = count;
    ring.dropped[column] = state.dropped - droppedBefore;
    droppedBefore = state.dropped;
    ring.next = (column + 1) % COLUMNS;
    ring.size = Math.min(ring.size + 1, COLUMNS);
    // One batch per animation frame: meanwhile the socket's events wait in `events`, the newest CAPACITY kept.
    await nextFrame();
  }
  state.done = true;
}

const canvas = $("chart") as HTMLCanvasElement;
const context = canvas.getContext("2d")!;

function draw(): void {
  const { width, height } = canvas;
  const valueHeight = height - 110;
  const barTop = valueHeight + 20;
  const barHeight = height - barTop - 10;
  context.fillStyle = "#141b22";
  context.fillRect(0, 0, width, height);
  context.strokeStyle = "#26313c";
  context.lineWidth = 1;
  for (let v = 0; v <= 100; v += 25) {
    const y = 10 + (1 - v / 100) * (valueHeight - 20);
    context.beginPath();
    context.moveTo(0, y + 0.5);
    context.lineTo(width, y + 0.5);
    context.stroke();
  }
  const step = width / COLUMNS;
  const yOf = (v: number) => 10 + (1 - Math.max(0, Math.min(100, v)) / 100) * (valueHeight - 20);
  const start = (ring.next - ring.size + COLUMNS) % COLUMNS;
  const x0 = width - ring.size * step;
  // The range of each batch (min to max) as a band, its mean as a line.
  context.fillStyle = "rgba(92, 207, 230, 0.25)";
  for (let i = 0; i < ring.size; i++) {
    const c = (start + i) % COLUMNS;
    const top = yOf(ring.max[c]);
    context.fillRect(x0 + i * step, top, Math.max(1, step), Math.max(1, yOf(ring.min[c]) - top));
  }
  context.strokeStyle = "#5ccfe6";
  context.lineWidth = 1.5;
  context.beginPath();
  for (let i = 0; i < ring.size; i++) {
    const c = (start + i) % COLUMNS;
    const x = x0 + i * step;
    if (i === 0) context.moveTo(x, yOf(ring.mean[c]));
    else context.lineTo(x, yOf(ring.mean[c]));
  }
  context.stroke();
  // Per batch: drawn (cyan) and dropped (red) messages, stacked.
  const scale = barHeight / (BUDGET * 2.5);
  for (let i = 0; i < ring.size; i++) {
    const c = (start + i) % COLUMNS;
    const x = x0 + i * step;
    const kept = Math.min(ring.kept[c] * scale, barHeight);
    const dropped = Math.min(ring.dropped[c] * scale, barHeight - kept);
    context.fillStyle = "#5ccfe6";
    context.fillRect(x, barTop + barHeight - kept, Math.max(1, step), kept);
    context.fillStyle = "#f28779";
    context.fillRect(x, barTop + barHeight - kept - dropped, Math.max(1, step), dropped);
  }
  context.fillStyle = "#8a99a8";
  context.font = "12px system-ui, sans-serif";
  context.fillText("value: range (band) and mean (line) of each batch, last 12 s", 8, 16);
  context.fillText("messages per batch: drawn (cyan), dropped (red)", 8, barTop - 4);
}

let rateWindowStart = performance.now();
let rateWindowCount = 0;
let messagesPerSecond = 0;
let frameWindowStart = performance.now();
let frameWindowFrames = 0;
let frameWindowLongest = 0;
let lastFrame = performance.now();

function showCounters(): void {
  const received = state.kept + state.dropped;
  $("received").textContent = format(received);
  $("kept").textContent = format(state.kept);
  $("dropped").textContent = format(state.dropped);
  $("sent").textContent = state.sent === undefined ? "…" : format(state.sent);
  const average = (received * 1000) / Math.max(1, state.lastAt - state.firstAt);
  $("rate").textContent = state.done ? `${format(average)} avg` : format(messagesPerSecond);
  $("frames").textContent = `${format(state.frames)} · ${state.fps} · ${Math.round(state.longestFrameMs)} ms`;
  $("gaps").textContent = format(state.gaps);
  const memory = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
  if (memory) $("heap").textContent = `${(memory.usedJSHeapSize / 1024 / 1024).toFixed(1)} MB`;
  const status = $("status");
  if (state.error !== "") {
    status.textContent = `error: ${state.error}`;
    status.className = "bad";
  } else if (state.done) {
    const adds = state.sent !== undefined && received === state.sent && state.gaps === state.dropped;
    status.textContent = state.sent === undefined
      ? `socket closed after ${format(received)} messages (the server gave no total)`
      : `done: drawn ${format(state.kept)} + dropped ${format(state.dropped)} = ${format(received)}; ` +
        `server sent ${format(state.sent)} ${adds ? "✓ adds up" : "✗ does not add up"}`;
    status.className = adds ? "" : "bad";
  }
}

function frame(now: number): void {
  state.frames++;
  frameWindowFrames++;
  frameWindowLongest = Math.max(frameWindowLongest, now - lastFrame);
  lastFrame = now;
  if (now - frameWindowStart >= 1000) {
    state.fps = Math.round((frameWindowFrames * 1000) / (now - frameWindowStart));
    state.longestFrameMs = frameWindowLongest;
    state.seconds.push({
      at: Math.round(now),
      frames: frameWindowFrames,
      longestFrameMs: Math.round(frameWindowLongest),
      received: state.kept + state.dropped,
      done: state.done,
    });
    if (state.seconds.length > 600) state.seconds.shift();
    frameWindowStart = now;
    frameWindowFrames = 0;
    frameWindowLongest = 0;
  }
  const received = state.kept + state.dropped;
  if (now - rateWindowStart >= 500) {
    messagesPerSecond = ((received - rateWindowCount) * 1000) / (now - rateWindowStart);
    rateWindowStart = now;
    rateWindowCount = received;
  }
  draw();
  showCounters();
  requestAnimationFrame(frame);
}

requestAnimationFrame(frame);
consume().catch((error: unknown) => {
  state.error = error instanceof Error ? error.message : String(error);
  state.done = true;
});
