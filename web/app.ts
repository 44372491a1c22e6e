// The web chat page: built on @parley/client, no framework. Guests by default (a client id kept in
// localStorage); `#token=<JWT>` logs in as a native user instead: the fragment never reaches a
// server or a Referer, and the page removes it from the address bar at once, so the token is not
// left in the URL, the history or a bookmark. `?channel=name` picks a channel.
import { type Channel, type ChatEvent, type Member, ParleyClient } from "../packages/client/src/index.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusLine = $<HTMLParagraphElement>("status");
const errorLine = $<HTMLParagraphElement>("error");
const messages = $<HTMLOListElement>("messages");
const membersList = $<HTMLUListElement>("members");
const messageInput = $<HTMLInputElement>("message");
const sendButton = document.querySelector<HTMLButtonElement>("#send-form button") as HTMLButtonElement;

const params = new URLSearchParams(location.search);
const wsPath = document.querySelector<HTMLMetaElement>('meta[name="parley-ws-path"]')?.content ?? "/chat";
const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${wsPath}`;
const token = new URLSearchParams(location.hash.slice(1)).get("token");
if (location.hash) history.replaceState(null, "", location.pathname + location.search);
const client = new ParleyClient({ url, ...(token ? { token } : {}) });

const names = new Map<string, string>();
let channel: Channel | undefined;
let unsubscribe: Array<() => void> = [];

const nameOf = (id: string | undefined) => (id ? (names.get(id) ?? id) : "");
const setStatus = (text: string) => {
  statusLine.textContent = text;
};
const showError = (error: unknown) => {
  errorLine.textContent = error instanceof Error ? error.message : String(error);
};

function render(event: ChatEvent): void {
  const item = document.createElement("li");
  item.dataset.eventId = String(event.event_id);
  const content = event.content as {
    type?: string;
    body?: string;
    membership?: string;
    user?: Member;
    files?: Array<{ url: string; name: string }>;
  };
  if (event.event_type === "channel.member" && content.user) {
    names.set(content.user.id, content.user.profile.display_name ?? content.user.id);
    item.className = "notice";
    item.textContent = `${nameOf(content.user.id)} ${content.membership === "join" ? "joined" : content.membership === "ban" ? "was banned" : "left"}`;
  } else if (event.event_type === "channel.message") {
    if (event.replaces !== undefined) {
      // An edit or delete: update the original in place.
      const original = messages.querySelector<HTMLLIElement>(`li[data-event-id="${event.replaces}"] .body`);
      if (original)
        original.textContent = content.type === "deleted" ? "(deleted)" : `${content.body ?? ""} (edited)`;
      return;
    }
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = `${nameOf(event.sender)}: `;
    const body = document.createElement("span");
    body.className = "body";
    // Plain text only, never HTML.
    body.textContent =
      content.type === "emote"
        ? `* ${content.body ?? ""}`
        : content.type === "files"
          ? (content.files ?? []).map((f) => f.name).join(", ")
          : (content.body ?? "");
    item.append(sender, body);
  } else return;
  messages.append(item);
  messages.scrollTop = messages.scrollHeight;
}

async function refreshMembers(): Promise<void> {
  if (!channel) return;
  const list = await channel.members();
  const online = new Set(list.online);
  membersList.replaceChildren(
    ...list.members.map((member) => {
      names.set(member.id, member.profile.display_name ?? member.id);
      const item = document.createElement("li");
      item.className = online.has(member.id) ? "online" : "offline";
      item.textContent = `${member.profile.display_name ?? member.id}${member.role && member.role !== "user" ? ` (${member.role})` : ""}`;
      item.setAttribute("aria-label", `${item.textContent}, ${online.has(member.id) ? "online" : "offline"}`);
      return item;
    }),
  );
}

async function join(name: string): Promise<void> {
  for (const stop of unsubscribe) stop();
  const next = client.channel(name);
  const rendered = new Set<number>();
  const show = (event: ChatEvent) => {
    if (rendered.has(event.event_id)) return;
    rendered.add(event.event_id);
    render(event);
  };
  // Listen before joining: what arrives while the history loads must not be missed.
  unsubscribe = [
    next.on("event", (event) => {
      show(event);
      if (event.event_type === "channel.member") void refreshMembers();
    }),
    // Accepted, then refused by the homeserver: the message is withdrawn (its delete arrives).
    next.on("sendFailed", (failure) => {
      errorLine.textContent = `Your message could not be delivered: ${failure.message}`;
    }),
  ];
  messages.replaceChildren();
  const snapshot = await next.join();
  channel = next;
  for (const member of snapshot.members) names.set(member.id, member.profile.display_name ?? member.id);
  const history = await next.fetch({ count: 50, before_id: snapshot.next_event_id });
  for (const [id, user] of Object.entries(history.users)) names.set(id, user.profile.display_name ?? id);
  // History is older than anything pushed since: put it first.
  const live = [...messages.children];
  messages.replaceChildren();
  for (const event of history.results) show(event);
  messages.append(...live);
  $<HTMLHeadingElement>("channel-title").textContent = `#${name}`;
  messageInput.disabled = false;
  sendButton.disabled = false;
  await refreshMembers();
  messageInput.focus();
}

$<HTMLFormElement>("profile-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const displayName = $<HTMLInputElement>("display-name").value.trim();
  client.updateProfile({ display_name: displayName }).then(() => {
    if (client.user) names.set(client.user.id, displayName);
    setStatus(`Connected as ${displayName}`);
    errorLine.textContent = "";
  }, showError);
});

$<HTMLFormElement>("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  join($<HTMLInputElement>("channel-name").value.trim()).then(() => {
    errorLine.textContent = "";
  }, showError);
});

$<HTMLFormElement>("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = messageInput.value;
  if (!channel || !body.trim()) return;
  messageInput.value = "";
  channel.sendText(body).catch((error: unknown) => {
    messageInput.value = body;
    showError(error);
  });
});

client.on("connected", (auth) => {
  setStatus(`Connected as ${auth.user.profile.display_name ?? "a guest without a name"}`);
  if (auth.user.profile.display_name)
    $<HTMLInputElement>("display-name").value = auth.user.profile.display_name;
  void refreshMembers();
});
client.on("reconnecting", ({ delayMs }) =>
  setStatus(`Connection lost; reconnecting in ${Math.ceil(delayMs / 1000)} s…`),
);
client.on("error", showError);
setInterval(() => void refreshMembers().catch(() => undefined), 30_000);

client.connect().then(() => {
  const wanted = params.get("channel");
  if (wanted) {
    $<HTMLInputElement>("channel-name").value = wanted;
  }
}, showError);
