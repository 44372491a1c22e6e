// One message as a list item: sender and time, the quoted message it answers, the body (links and
// mentions made live, never HTML), files and images (NSFW ones blurred until clicked), reactions,
// and its actions as buttons with names, reachable by keyboard.
import type { ChatEvent, FileRef, MessageContent, Reactions } from "../../packages/client/src/index.ts";
import { formatSize, h, timeElement } from "./dom.ts";
import { avatarElement, hueOf, type Session } from "./session.ts";

export type MessageEvent = Extract<ChatEvent, { event_type: "channel.message" }>;

export interface MessageActions {
  reply(event: MessageEvent): void;
  edit(event: MessageEvent): void;
  remove(event: MessageEvent): void;
  react(event: MessageEvent, key: string, remove: boolean): void;
  moderate(userId: string): void;
  markMedia(event: MessageEvent, nsfw: boolean): void;
  /** The message this one answers, if it is loaded. */
  original(eventId: number): MessageEvent | undefined;
  jumpTo(eventId: number): void;
  canModerate(): boolean;
}

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🔥", "👏"];
const MATRIX_ID = String.raw`@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?`;
const LINK = String.raw`https?://[^\s<>"]+[^\s<>".,;:!?)\]]`;
const INLINE = new RegExp(`(${LINK})|(${MATRIX_ID})`, "g");

/** Text with links and mentions as elements; `mentionsMe` says whether it names the reader. */
export function richText(text: string, session: Session): { nodes: Node[]; mentionsMe: boolean } {
  const nodes: Node[] = [];
  let mentionsMe = false;
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    if (index > last) nodes.push(document.createTextNode(text.slice(last, index)));
    const [whole, link, id] = match;
    if (link) {
      nodes.push(h("a", { href: link, target: "_blank", rel: "noopener noreferrer nofollow" }, link));
    } else if (id) {
      const me = session.me()?.id === id;
      mentionsMe ||= me;
      nodes.push(
        h("span", { class: me ? "mention me" : "mention", title: id }, `@${session.people.name(id)}`),
      );
    }
    last = index + whole.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return { nodes, mentionsMe };
}

export function snippet(event: MessageEvent): string {
  const content = event.content;
  if (content.type === "deleted") return "Message deleted";
  if (content.type === "files") return content.body || content.files.map((file) => file.name).join(", ");
  return content.body.length > 80 ? `${content.body.slice(0, 80)}…` : content.body;
}

function fileView(file: FileRef, nsfw: boolean): HTMLElement {
  if (file.mimeType.startsWith("image/")) {
    const image = h("img", {
      src: file.thumbnail_url ?? file.url,
      alt: file.name,
      loading: "lazy",
      width: file.w,
      height: file.h,
    });
    const figure = h(
      "figure",
      { class: nsfw ? "media nsfw" : "media" },
      h("a", { href: file.url, target: "_blank", rel: "noopener" }, image),
    );
    if (nsfw) {
      const reveal = h(
        "button",
        {
          type: "button",
          class: "reveal",
          onclick: () => {
            figure.classList.remove("nsfw");
            reveal.remove();
          },
        },
        "Sensitive media: show",
      );
      figure.append(reveal);
    }
    return figure;
  }
  return h(
    "a",
    { class: "file", href: file.url, target: "_blank", rel: "noopener", download: file.name },
    `📎 ${file.name}`,
    file.size === undefined ? "" : h("span", { class: "size" }, ` ${formatSize(file.size)}`),
  );
}

function bodyView(event: MessageEvent, session: Session): { element: HTMLElement; mentionsMe: boolean } {
  const content: MessageContent = event.content;
  const body = h("div", { class: "body" });
  let mentionsMe = false;
  if (content.type === "deleted") {
    body.classList.add("deleted");
    body.textContent = "Message deleted";
  } else if (content.type === "files") {
    if (content.body) {
      const text = richText(content.body, session);
      mentionsMe = text.mentionsMe;
      body.append(h("p", {}, ...text.nodes));
    }
    for (const file of content.files) body.append(fileView(file, event.nsfw === true));
  } else {
    const text = richText(content.body, session);
    mentionsMe = text.mentionsMe;
    if (content.type === "emote")
      body.append(h("span", { class: "emote" }, `* ${session.people.name(event.sender)} `, ...text.nodes));
    else body.append(...text.nodes);
    if (content.type === "notice") body.classList.add("notice-body");
  }
  if (event.edited && content.type !== "deleted") body.append(h("span", { class: "edited" }, " (edited)"));
  return { element: body, mentionsMe };
}

function reactionsView(
  event: MessageEvent,
  reactions: Reactions,
  session: Session,
  actions: MessageActions,
): HTMLElement | null {
  const keys = Object.entries(reactions).filter(([, users]) => users.length > 0);
  if (keys.length === 0) return null;
  const me = session.me()?.id;
  return h(
    "div",
    { class: "reactions" },
    ...keys.map(([key, users]) => {
      const mine = me !== undefined && users.includes(me);
      const who = users.map((id) => session.people.name(id)).join(", ");
      return h(
        "button",
        {
          type: "button",
          class: mine ? "reaction mine" : "reaction",
          "aria-pressed": mine ? "true" : "false",
          "aria-label": `${key} ${users.length}: ${who}`,
          title: `${who} reacted with ${key}`,
          onclick: () => actions.react(event, key, mine),
        },
        `${key} ${users.length}`,
      );
    }),
  );
}

function reactionPicker(event: MessageEvent, actions: MessageActions, close: () => void): HTMLElement {
  const picker = h(
    "div",
    { class: "picker", role: "group", "aria-label": "Reactions" },
    ...QUICK_REACTIONS.map((key) =>
      h(
        "button",
        {
          type: "button",
          "aria-label": `React with ${key}`,
          onclick: () => {
            actions.react(event, key, false);
            close();
          },
        },
        key,
      ),
    ),
  );
  picker.addEventListener("keydown", (keyEvent) => {
    if ((keyEvent as KeyboardEvent).key === "Escape") close();
  });
  return picker;
}

/** A message as a list item; call again with the new event to redraw it in place. */
export function renderMessage(event: MessageEvent, session: Session, actions: MessageActions): HTMLLIElement {
  const me = session.me()?.id;
  const mine = event.sender !== undefined && event.sender === me;
  const sender = session.people.name(event.sender);
  const item = h("li", {
    class: "message",
    "data-event-id": event.event_id,
    "data-sender": event.sender ?? "",
    "data-ts": event.ts,
    tabindex: "-1",
  });
  item.style.setProperty("--hue", String(hueOf(event.sender ?? "")));
  const avatar = avatarElement(session.people, event.sender ?? "", sender);
  const header = h(
    "div",
    { class: "meta" },
    h("span", { class: "sender" }, sender),
    timeElement(event.ts),
    event.to
      ? h(
          "span",
          { class: "private" },
          `Private: ${event.to.map((id) => session.people.name(id)).join(", ")}`,
        )
      : null,
  );
  const parts: Array<Node | null> = [avatar, header];
  if (event.reply_to !== undefined) {
    const original = actions.original(event.reply_to);
    const target = event.reply_to;
    parts.push(
      h(
        "button",
        { type: "button", class: "quote", onclick: () => actions.jumpTo(target) },
        original
          ? `↩ ${session.people.name(original.sender)}: ${snippet(original)}`
          : "↩ In reply to an earlier message",
      ),
    );
  }
  const { element: body, mentionsMe } = bodyView(event, session);
  parts.push(body);
  if (event.pending_review) {
    parts.push(
      h(
        "p",
        { class: "review" },
        "Waiting for a moderator's review",
        ...(actions.canModerate()
          ? [
              h("button", { type: "button", onclick: () => actions.markMedia(event, false) }, "Approve"),
              h(
                "button",
                { type: "button", onclick: () => actions.markMedia(event, true) },
                "Approve as sensitive",
              ),
            ]
          : []),
      ),
    );
  }
  const reactions =
    event.content.type === "deleted" ? null : reactionsView(event, event.reactions ?? {}, session, actions);
  if (reactions) parts.push(reactions);
  if (event.content.type !== "deleted") parts.push(toolbar(event, item, mine, session, actions));
  for (const part of parts) if (part) item.append(part);
  if (mentionsMe) item.classList.add("mentions-me");
  if (event.content.type === "emote") item.classList.add("is-emote");
  if (event.content.type === "notice") item.classList.add("is-notice");
  if (mine) item.classList.add("mine");
  return item;
}

function toolbar(
  event: MessageEvent,
  item: HTMLLIElement,
  mine: boolean,
  session: Session,
  actions: MessageActions,
): HTMLElement {
  const moderator = actions.canModerate();
  const bar = h("div", { class: "actions", role: "toolbar", "aria-label": "Message actions" });
  const button = (label: string, icon: string, onclick: () => void) =>
    h("button", { type: "button", "aria-label": label, title: label, onclick }, icon);
  bar.append(button("Reply", "↩", () => actions.reply(event)));
  if (!event.to) {
    const react = button("React", "☺", () => {
      const open = item.querySelector(".picker");
      if (open) {
        open.remove();
        return;
      }
      const picker = reactionPicker(event, actions, () => {
        picker.remove();
        react.focus();
      });
      bar.after(picker);
      picker.querySelector("button")?.focus();
    });
    bar.append(react);
  }
  if (mine && event.content.type !== "files") bar.append(button("Edit", "✎", () => actions.edit(event)));
  if (mine || moderator) bar.append(button("Delete", "🗑", () => actions.remove(event)));
  if (moderator && event.content.type === "files" && !event.pending_review) {
    bar.append(
      event.nsfw
        ? button("Clear sensitive mark", "👁", () => actions.markMedia(event, false))
        : button("Mark sensitive", "⚠", () => actions.markMedia(event, true)),
    );
  }
  if (moderator && !mine && event.sender && event.sender !== session.me()?.id) {
    const sender = event.sender;
    bar.append(button("Moderate", "🛡️", () => actions.moderate(sender)));
  }
  return bar;
}
