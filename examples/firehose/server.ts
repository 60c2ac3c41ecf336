/**
 * `npm run example:firehose`: a WebSocket firehose and the page that reads it.
 *
 * One HTTP server on loopback serves the page (`index.html` and `page.ts`,
 * bundled in memory with esbuild at start-up) and, at `/ws`, a WebSocket that
 * sends 100 000 small messages per second (`"<seq>,<value>"`, about 15 bytes)
 * to each client, 100 to a WebSocket frame (the lines of one text frame, 1 000
 * frames per second). Open the printed address in a browser.
 *
 * Why 100 to a frame: a browser pays for each WebSocket frame before any page
 * code runs (in Chromium an IPC hop and an event dispatch). On a busy 2-core
 * machine that alone held Chromium's main thread to 8 fps at one message per
 * frame (100 000 frames/s) and 14 fps at 10, against 40-60 fps at 100; no page
 * code can fix that cost, so the page gets the messages in fewer, bigger
 * frames. `?perFrame=1` sends one message per frame to see it.
 *
 * `?seconds=N` in the page's address asks for a finite run: after N seconds the
 * server closes the socket with the reason `sent <count>`, so the page can check
 * that what it drew plus what it dropped adds up to what was sent.
 * `?rate=N` changes the messages per second, `?perFrame=N` the messages per frame.
 *
 * Options: `--port 8080` (0 picks a free port), `--rate 100000`, `--per-frame 100`.
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";
import { WebSocketServer } from "ws";
import type { WebSocket } from "ws";

const here = new URL(".", import.meta.url);

/** Bundles `page.ts` (and the sluice code it imports) into one browser script, in memory. */
export async function bundlePage(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("page.ts", here))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    sourcemap: "inline",
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

/** What the server did for one client connection. */
export interface ConnectionStats {
  /** Messages sent on this connection so far. */
  sent: number;
  /** WebSocket frames sent so far. */
  frames: number;
  /** Messages not produced because more than `maxBuffered` bytes waited in the socket (the client fell behind). */
  heldBack: number;
  /** The most bytes that waited in the socket's send buffer at once. */
  peakBuffered: number;
  /** True once the run ended and the socket was closed by the server. */
  finished: boolean;
  /** True once the socket closed, either way. */
  closed: boolean;
}

export interface FirehoseOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Messages per second per client, unless the page asks for another rate. Default 100 000. */
  rate?: number;
  /** Messages per WebSocket frame, unless the page asks for another number. Default 100. */
  perFrame?: number;
  /** Stop producing for a client while this many bytes wait in its socket. Default 4 MiB. */
  maxBuffered?: number;
}

export interface Firehose {
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** One entry per client connection, in the order they connected. */
  connections: ConnectionStats[];
  /** Stops the server and closes every socket. */
  close(): Promise<void>;
}

/**
 * Sends `rate` messages per second to one client, `perFrame` to a WebSocket frame, on a 5 ms tick, for
 * `seconds` (or until it disconnects). The last frame of a run may carry fewer.
 */
function firehose(
  socket: WebSocket,
  stats: ConnectionStats,
  rate: number,
  perFrame: number,
  seconds: number,
  maxBuffered: number,
) {
  const started = performance.now();
  const end = seconds > 0 ? started + seconds * 1000 : Infinity;
  /** Messages due so far by the clock; those not sent because the client fell behind are skipped, not caught up. */
  let scheduled = 0;
  let value = 50;
  const tick = () => {
    if (socket.readyState !== socket.OPEN) return stop();
    const now = Math.min(performance.now(), end);
    const last = now >= end;
    const total = last ? Math.round(seconds * rate) : Math.floor(((now - started) / 1000) * rate);
    let due = total - scheduled;
    // Whole frames only, except at the end of a run.
    if (!last) due -= due % perFrame;
    scheduled += due;
    while (due > 0) {
      if (socket.bufferedAmount > maxBuffered) {
        stats.heldBack += due;
        break;
      }
      const count = Math.min(perFrame, due);
      let frame = "";
      for (let i = 0; i < count; i++) {
        // A slow wave with some noise: something worth drawing.
        const t = (stats.sent / rate) * 2 * Math.PI;
        value = 50 + 30 * Math.sin(t / 4) + 10 * Math.sin(t * 1.7) + (Math.random() - 0.5) * 6;
        frame += `${i === 0 ? "" : "\n"}${stats.sent},${value.toFixed(2)}`;
        stats.sent++;
      }
      socket.send(frame);
      stats.frames++;
      due -= count;
    }
    stats.peakBuffered = Math.max(stats.peakBuffered, socket.bufferedAmount);
    if (last) {
      stop();
      stats.finished = true;
      socket.close(1000, `sent ${stats.sent}`);
    }
  };
  const timer = setInterval(tick, 5);
  const stop = () => clearInterval(timer);
  socket.on("close", () => {
    stop();
    stats.closed = true;
  });
}

/** Starts the page server and the WebSocket firehose on 127.0.0.1. */
export async function startFirehose(options: FirehoseOptions = {}): Promise<Firehose> {
  const defaultRate = options.rate ?? 100_000;
  const defaultPerFrame = options.perFrame ?? 100;
  const maxBuffered = options.maxBuffered ?? 4 * 1024 * 1024;
  const [html, script] = await Promise.all([readFile(new URL("index.html", here), "utf8"), bundlePage()]);
  const connections: ConnectionStats[] = [];

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === "/" || path === "/index.html") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      response.end(html);
    } else if (path === "/page.js") {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      response.end(script);
    } else {
      response.writeHead(404).end();
    }
  });
  const sockets = new WebSocketServer({ server, path: "/ws" });
  sockets.on("connection", (socket, request) => {
    const query = new URL(request.url ?? "/ws", "http://localhost").searchParams;
    const rate = Number(query.get("rate") ?? defaultRate);
    const perFrame = Number(query.get("perFrame") ?? defaultPerFrame);
    const seconds = Number(query.get("seconds") ?? 0);
    const stats: ConnectionStats = { sent: 0, frames: 0, heldBack: 0, peakBuffered: 0, finished: false, closed: false };
    connections.push(stats);
    firehose(
      socket,
      stats,
      rate > 0 ? rate : defaultRate,
      Number.isInteger(perFrame) && perFrame > 0 ? perFrame : defaultPerFrame,
      seconds > 0 ? seconds : 0,
      maxBuffered,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8080" },
      rate: { type: "string", default: "100000" },
      "per-frame": { type: "string", default: "100" },
    },
  });
  const firehoseServer = await startFirehose({
    port: Number(values.port),
    rate: Number(values.rate),
    perFrame: Number(values["per-frame"]),
  });
  console.log(
    `firehose: ${Number(values.rate).toLocaleString("en")} messages/s per client, ${
      values["per-frame"]
    } per WebSocket frame`,
  );
  console.log(`open ${firehoseServer.url} (add ?seconds=10 for a finite run); Ctrl-C stops`);
  const over = new Set<ConnectionStats>();
  setInterval(() => {
    for (const [index, stats] of firehoseServer.connections.entries()) {
      if (over.has(stats)) continue;
      if (stats.closed) over.add(stats);
      const end = stats.finished ? " (run finished)" : stats.closed ? " (client left)" : "";
      console.log(
        `client ${index + 1}: sent ${stats.sent.toLocaleString("en")} in ${
          stats.frames.toLocaleString("en")
        } frames, ` +
          `held back ${stats.heldBack.toLocaleString("en")}, peak socket buffer ` +
          `${(stats.peakBuffered / 1024).toFixed(0)} KiB${end}`,
      );
    }
  }, 1000).unref();
  process.once("SIGINT", () => firehoseServer.close().then(() => process.exit(0)));
}
