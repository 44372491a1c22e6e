// The sidebar: the channels and direct conversations you are in, with unread dots and mention
// counts kept from the server's pushes, and the directory of public channels to find and join.
import type { Authenticated, DirectoryEntry } from "../../packages/client/src/index.ts";
import { byId, describeError, h } from "./dom.ts";
import type { Session } from "./session.ts";

interface Entry {
  readonly name: string;
  readPointer: number;
  unreadPointer: number;
  mentions: number;
  /** For direct channels: the other people in it. */
  people: string[];
}

export const isDirect = (name: string) => name.startsWith("dm.");
export const isModerators = (name: string) => name.endsWith(".mods") || name.startsWith("mods.");

export class ChannelList {
  readonly #session: Session;
  readonly #open: (name: string) => void;
  readonly #entries = new Map<string, Entry>();
  #active: string | undefined;

  constructor(session: Session, open: (name: string) => void) {
    this.#session = session;
    this.#open = open;
    session.client.on("push", ([action, payload]) =>
      this.#onPush(action, payload as Record<string, unknown>),
    );
    byId("browse").addEventListener("click", () => this.browse());
  }

  /** The channels the login reported, with their read state. */
  load(auth: Authenticated): void {
    for (const { id, unread_pointer } of auth["chat.channels"]) {
      const entry = this.#entry(id);
      entry.unreadPointer = unread_pointer;
      entry.readPointer = auth["chat.read_pointers"][id] ?? 0;
      entry.mentions = auth["chat.notification_counts"][id] ?? 0;
    }
    for (const entry of this.#entries.values()) if (isDirect(entry.name)) void this.#loadPeople(entry);
    this.render();
  }

  readPointer(name: string): number {
    return this.#entries.get(name)?.readPointer ?? 0;
  }

  title(name: string): string {
    const entry = this.#entries.get(name);
    if (isDirect(name))
      return entry && entry.people.length > 0
        ? entry.people.map((id) => this.#session.people.name(id)).join(", ")
        : "Direct message";
    return `#${name}`;
  }

  add(name: string): void {
    this.#entry(name);
    if (isDirect(name)) void this.#loadPeople(this.#entry(name));
    this.render();
  }

  remove(name: string): void {
    this.#entries.delete(name);
    this.render();
  }

  setActive(name: string | undefined): void {
    this.#active = name;
    this.render();
  }

  /** We have read up to `eventId` here (the server is told by the caller). */
  read(name: string, eventId: number): void {
    const entry = this.#entries.get(name);
    if (!entry) return;
    entry.readPointer = Math.max(entry.readPointer, eventId);
    this.render();
  }

  get first(): string | undefined {
    return this.#entries.keys().next().value;
  }

  render(): void {
    const channels: HTMLElement[] = [];
    const directs: HTMLElement[] = [];
    for (const entry of [...this.#entries.values()].sort((a, b) =>
      this.title(a.name).localeCompare(this.title(b.name)),
    )) {
      const unread = entry.unreadPointer > entry.readPointer && entry.name !== this.#active;
      const label = this.title(entry.name);
      const presence =
        isDirect(entry.name) && entry.people.length === 1
          ? this.#session.people.presence(entry.people[0] ?? "")
          : undefined;
      const link = h(
        "button",
        {
          type: "button",
          class: `channel${unread ? " unread" : ""}`,
          "aria-current": entry.name === this.#active ? "page" : undefined,
          onclick: () => this.#open(entry.name),
        },
        presence ? h("span", { class: `dot ${presence}`, "aria-hidden": "true" }) : null,
        h("span", { class: "name" }, label),
        entry.mentions > 0 && entry.name !== this.#active
          ? h(
              "span",
              { class: "badge mentions", "aria-label": `${entry.mentions} mentions` },
              String(entry.mentions),
            )
          : unread
            ? h("span", { class: "badge unread", "aria-label": "unread" }, "•")
            : null,
      );
      (isDirect(entry.name) ? directs : channels).push(h("li", {}, link));
    }
    const mentions = [...this.#entries.values()].reduce(
      (sum, entry) => sum + (entry.name === this.#active ? 0 : entry.mentions),
      0,
    );
    // The tab says so too, for a reader in another tab.
    document.title = mentions > 0 ? `(${mentions}) Parley chat` : "Parley chat";
    byId("channel-list").replaceChildren(...channels);
    byId("direct-list").replaceChildren(...directs);
    byId("direct-section").hidden = directs.length === 0;
  }

  /** The directory dialog: public channels, most online first, searchable, paged. */
  browse(): void {
    const dialog = byId<HTMLDialogElement>("directory-dialog");
    const search = h("input", {
      id: "directory-search",
      type: "search",
      autocomplete: "off",
      placeholder: "Name or topic",
    });
    const results = h("ul", { class: "directory", "aria-label": "Public channels" });
    const more = h("button", { type: "button", hidden: true }, "More channels");
    const error = h("p", { class: "error", role: "alert" });
    let cursor: string | undefined;
    let generation = 0;
    const load = (reset: boolean) => {
      const mine = ++generation;
      const term = search.value.trim();
      this.#session.client
        .directory({ search: term || undefined, count: 30, cursor: reset ? undefined : cursor })
        .then(
          (page) => {
            if (mine !== generation) return;
            if (reset) results.replaceChildren();
            results.append(...page.results.map((entry) => this.#directoryRow(entry, dialog)));
            if (reset && page.results.length === 0)
              results.append(h("li", { class: "muted" }, "No channel matches."));
            cursor = page.next_cursor;
            more.hidden = cursor === undefined;
          },
          (failure: unknown) => {
            error.textContent = describeError(failure);
          },
        );
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => load(true), 250);
    });
    more.addEventListener("click", () => load(false));
    const name = h("input", {
      id: "channel-name",
      autocomplete: "off",
      pattern: "[A-Za-z0-9._=\\-]{1,64}",
      required: true,
    });
    const byName = h(
      "form",
      { class: "row" },
      h("label", { for: "channel-name" }, "Or open a channel by name"),
      name,
      h("button", { type: "submit" }, "Open"),
    );
    byName.addEventListener("submit", (event) => {
      event.preventDefault();
      dialog.close();
      this.#open(name.value.trim());
    });
    dialog.replaceChildren(
      h("h2", {}, "Browse channels"),
      h("label", { for: "directory-search" }, "Search channels"),
      search,
      results,
      more,
      error,
      byName,
      h("form", { method: "dialog", class: "row end" }, h("button", {}, "Close")),
    );
    dialog.setAttribute("aria-label", "Browse channels");
    dialog.showModal();
    load(true);
  }

  #directoryRow(entry: DirectoryEntry, dialog: HTMLDialogElement): HTMLElement {
    const member = this.#entries.has(entry.id);
    return h(
      "li",
      {},
      h(
        "div",
        { class: "grow" },
        h("strong", {}, `#${entry.id}`),
        entry.live ? h("span", { class: "live" }, " Live") : null,
        h(
          "div",
          { class: "muted" },
          `${entry.online} online · ${entry.members} members${entry.topic ? ` · ${entry.topic}` : ""}`,
        ),
      ),
      h(
        "button",
        {
          type: "button",
          "aria-label": `${member ? "Open" : "Join"} #${entry.id}`,
          onclick: () => {
            dialog.close();
            this.#open(entry.id);
          },
        },
        member ? "Open" : "Join",
      ),
    );
  }

  #entry(name: string): Entry {
    let entry = this.#entries.get(name);
    if (!entry) {
      entry = { name, readPointer: 0, unreadPointer: 0, mentions: 0, people: [] };
      this.#entries.set(name, entry);
    }
    return entry;
  }

  async #loadPeople(entry: Entry): Promise<void> {
    const list = await this.#session.client
      .channel(entry.name)
      .members()
      .catch(() => undefined);
    if (!list) return;
    const me = this.#session.me()?.id;
    this.#session.people.rememberAll(list.members);
    for (const [id, status] of Object.entries(list.presence ?? {}))
      this.#session.people.setPresence(id, status);
    entry.people = list.members.map((member) => member.id).filter((id) => id !== me);
    this.render();
  }

  #onPush(action: string, payload: Record<string, unknown>): void {
    const numbers = Object.entries(payload).filter(
      (pair): pair is [string, number] => typeof pair[1] === "number",
    );
    // A channel first heard of here (a DM someone else started) gets its people looked up.
    for (const [name] of numbers) if (!this.#entries.has(name) && isDirect(name)) this.add(name);
    if (action === "chat.unread_pointers") {
      for (const [name, id] of numbers)
        this.#entry(name).unreadPointer = Math.max(this.#entry(name).unreadPointer, id);
    } else if (action === "chat.read_pointers") {
      for (const [name, id] of numbers) this.read(name, id);
    } else if (action === "chat.notification_counts") {
      for (const entry of this.#entries.values())
        entry.mentions = payload[entry.name] === undefined ? 0 : Number(payload[entry.name]);
      for (const [name, count] of numbers) this.#entry(name).mentions = count;
    } else return;
    this.render();
  }
}
