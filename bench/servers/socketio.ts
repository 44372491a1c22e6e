// Socket.IO for comparison, in its own process, WebSocket transport only: a client joins a room with
// `join` (acknowledged); `publish` broadcasts a chat.event-shaped event to the room with
// io.to(room).emit, which encodes the packet once for all recipients. Tells the parent its port over
// IPC; exits with the parent.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { benchEvent, type Published } from "./event.ts";

const http = createServer();
const io = new Server(http, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
});
let eventId = 0;

io.on("connection", (socket) => {
  socket.on("join", (room: unknown, ack: unknown) => {
    if (typeof room !== "string") return;
    void socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("publish", ({ channel, body }: Published) => {
    io.to(channel).emit("chat.event", benchEvent(channel, body, ++eventId));
  });
});

http.listen(0, "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo;
  process.send?.({ ok: true, scheme: "http", port, path: "" });
});
process.on("disconnect", () => process.exit(0));
