// The baseline for fan-out and memory: a bare `ws` server in its own process. Any message a client
// sends is published to every other client as a frame shaped (and sized) like Parley's chat.event,
// encoded once per broadcast and shared by every recipient. No auth, no log, no limits: what a
// WebSocket fan-out costs at the least. Tells the parent its port over IPC; exits with the parent.
import { WebSocket, WebSocketServer } from "ws";
import { benchEvent, type Published } from "./event.ts";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 64 * 1024 });
let eventId = 0;

wss.on("connection", (ws) => {
  ws.on("message", (data) => {
    const { channel, body } = JSON.parse(String(data)) as Published;
    const frame = Buffer.from(JSON.stringify(["chat.event", benchEvent(channel, body, ++eventId)]));
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(frame, { binary: false });
    }
  });
  ws.on("error", () => {});
});

wss.on("listening", () => {
  const address = wss.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  process.send?.({ ok: true, scheme: "ws", port, path: "/" });
});
process.on("disconnect", () => process.exit(0));
