// The web chat page, built on @parley/client. Guests by default (a client id kept in
// localStorage); `#token=<JWT>` logs in as a native user instead: the fragment never reaches a
// server or a Referer, and the page removes it from the address bar at once. `?channel=NAME`
// opens a channel; `&embed=1` shows that one channel alone, for a live-event player's page.
import { type Authenticated, type Channel, ParleyClient } from "../../packages/client/src/index.ts";
import { ChannelList, isDirect } from "./channels.ts";
import { Composer } from "./composer.ts";
import { byId, describeError } from "./dom.ts";
import { Room } from "./room.ts";
import { People, type Session } from "./session.ts";

const params = new URLSearchParams(location.search);
const wsPath = document.querySelector<HTMLMetaElement>('meta[name="parley-ws-path"]')?.content ?? "/chat";
const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${wsPath}`;
const token = new URLSearchParams(location.hash.slice(1)).get("token");
if (location.hash) history.replaceState(null, "", location.pathname + location.search);
const embed = params.get("embed") === "1" && Boolean(params.get("channel"));
if (embed) document.body.classList.add("embed");

const client = new ParleyClient({ url, ...(token ? { token } : {}) });
const statusLine = byId<HTMLParagraphElement>("status");
const errorLine = byId<HTMLParagraphElement>("error");
let errorTimer: ReturnType<typeof setTimeout> | undefined;

const session: Session = {
  client,
  people: new People(),
  embed,
  me: () => client.user,
  fail(error) {
    errorLine.textContent = typeof error === "string" ? error : describeError(error);
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => {
      errorLine.textContent = "";
    }, 8000);
  },
};

const composer = new Composer(session);
const channels = new ChannelList(session, (name) => void open(name));
let room: Room | undefined;

function setStatus(text: string, state: "ok" | "busy" | "down"): void {
  statusLine.textContent = text;
  statusLine.dataset.state = state;
}

function openChannel(channel: Channel): Promise<void> {
  room?.close();
  const next = new Room(session, channel, composer, {
    title: (name) => channels.title(name),
    readPointer: (name) => channels.readPointer(name),
    read: (name, id) => {
      channels.read(name, id);
      client
        .channel(name)
        .markRead(id)
        .catch(() => undefined);
    },
    joined: (name) => channels.add(name),
    left: (name) => channels.remove(name),
    openChannel: (opened) => void openChannel(opened).catch((error: unknown) => session.fail(error)),
    directMessage: (id) => {
      client.directChannel([id]).then(
        (direct) => {
          channels.add(direct.name);
          return openChannel(direct);
        },
        (error: unknown) => session.fail(error),
      );
    },
  });
  room = next;
  channels.setActive(channel.name);
  document.body.classList.remove("show-channels", "show-members");
  const wanted = new URL(location.href);
  if (!embed && !isDirect(channel.name)) {
    wanted.searchParams.set("channel", channel.name);
    history.replaceState(null, "", wanted);
  }
  return next.open().catch((error: unknown) => {
    next.close();
    if (room === next) {
      room = undefined;
      byId("channel-title").textContent = "Not in a channel";
      byId("messages").replaceChildren();
      byId("messages").removeAttribute("aria-busy");
    }
    throw error;
  });
}

function open(name: string): Promise<void> {
  return openChannel(client.channel(name)).catch((error: unknown) => session.fail(error));
}

function showProfile(auth: Authenticated): void {
  const name = auth.user.profile.display_name;
  const input = byId<HTMLInputElement>("display-name");
  if (name && document.activeElement !== input) input.value = name;
  byId("name-gate").hidden = Boolean(name);
  byId<HTMLInputElement>("gate-name").value = "";
}

function setName(displayName: string): Promise<void> {
  return client.updateProfile({ display_name: displayName }).then(async () => {
    if (client.user) {
      client.user = { ...client.user, profile: { ...client.user.profile, display_name: displayName } };
      session.people.remember(client.user);
    }
    setStatus(`Connected as ${displayName}`, "ok");
    byId("name-gate").hidden = true;
    byId<HTMLInputElement>("display-name").value = displayName;
    await room?.joinNow();
    room?.redraw();
  });
}

byId<HTMLInputElement>("avatar-file").addEventListener("change", (event) => {
  const input = event.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = "";
  const displayName = client.user?.profile.display_name;
  if (!file) return;
  if (!displayName) {
    session.fail("Choose a name first.");
    return;
  }
  client
    .upload(file, file.name || "picture.png", file.type)
    .then(async ({ mxc }) => {
      await client.updateProfile({ display_name: displayName, avatar_url: mxc });
      if (client.user) {
        client.user = { ...client.user, profile: { ...client.user.profile, avatar_url: mxc } };
        session.people.remember(client.user);
      }
      room?.redraw();
    })
    .catch((error: unknown) => session.fail(error));
});

for (const [formId, inputId] of [
  ["profile-form", "display-name"],
  ["name-gate", "gate-name"],
] as const) {
  byId<HTMLFormElement>(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    const value = byId<HTMLInputElement>(inputId).value.trim();
    if (value) setName(value).catch((error: unknown) => session.fail(error));
  });
}

byId<HTMLSelectElement>("presence").addEventListener("change", (event) => {
  const status = (event.target as HTMLSelectElement).value as "online" | "away" | "dnd" | "invisible";
  client.setPresence(status).catch((error: unknown) => session.fail(error));
});
byId("toggle-channels").addEventListener("click", () => document.body.classList.toggle("show-channels"));
byId("toggle-members").addEventListener("click", () => document.body.classList.toggle("show-members"));
const closePanels = () => document.body.classList.remove("show-channels", "show-members");
for (const button of document.querySelectorAll(".close-panel")) button.addEventListener("click", closePanels);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !document.querySelector("dialog[open]")) closePanels();
});
document.addEventListener("visibilitychange", () => room?.checkRead());
window.addEventListener("focus", () => room?.checkRead());

let firstConnection = true;
client.on("connected", (auth) => {
  session.people.remember(auth.user);
  setStatus(`Connected as ${auth.user.profile.display_name ?? "a guest without a name"}`, "ok");
  showProfile(auth);
  channels.load(auth);
  if (!firstConnection) room?.reconnected();
  firstConnection = false;
});
client.on("user.updated", (user) => {
  session.people.remember(user);
  if (user.profile.display_name) setStatus(`Connected as ${user.profile.display_name}`, "ok");
});
client.on("disconnected", () => setStatus("Connection lost", "down"));
client.on("reconnecting", ({ delayMs }) =>
  setStatus(`Connection lost; reconnecting in ${Math.ceil(delayMs / 1000)} s…`, "busy"),
);
client.on("error", (error) => session.fail(error));

setStatus("Connecting…", "busy");
client.connect().then(
  () => {
    const wanted = params.get("channel");
    if (wanted) void open(wanted);
    else if (channels.first) void open(channels.first);
    else channels.browse();
  },
  (error: unknown) => {
    setStatus(`Could not connect: ${describeError(error)}`, "down");
  },
);
