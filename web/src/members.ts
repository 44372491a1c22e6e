// The member list of the open channel: role, presence dot, and a dialog per member to message,
// mention or (for moderators) kick, ban, time out or change the role of them.
import type { Channel, Role } from "../../packages/client/src/index.ts";
import { byId, describeError, h } from "./dom.ts";
import { avatarElement, hueOf, type Session } from "./session.ts";

interface MemberRow {
  readonly id: string;
  readonly role: Role;
  readonly name: string;
}

export interface MemberHooks {
  directMessage(userId: string): void;
  mention(userId: string): void;
  /** Our own role changed. */
  roleChanged(role: Role): void;
}

const ROLE_ORDER: Record<Role, number> = { owner: 0, moderator: 1, user: 2 };
const PRESENCE_LABEL = { online: "online", away: "away", dnd: "do not disturb", offline: "offline" };

export class Members {
  readonly #list = byId<HTMLUListElement>("members");
  readonly #session: Session;
  readonly #channel: Channel;
  readonly #hooks: MemberHooks;
  #rows: MemberRow[] = [];
  #myRole: Role;
  #refreshing: Promise<void> | undefined;
  #closed = false;
  /** A change came while a refresh was on its way: its answer may predate it. */
  #stale = false;

  constructor(session: Session, channel: Channel, role: Role, hooks: MemberHooks) {
    this.#session = session;
    this.#channel = channel;
    this.#myRole = role;
    this.#hooks = hooks;
    this.#list.replaceChildren();
  }

  /** The channel is no longer shown: answers still on their way draw nothing. */
  close(): void {
    this.#closed = true;
  }

  get role(): Role {
    return this.#myRole;
  }

  get canModerate(): boolean {
    return this.#myRole !== "user";
  }

  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#stale = true;
      return this.#refreshing;
    }
    this.#refreshing = this.#channel
      .members()
      .then((list) => {
        if (this.#closed) return;
        const me = this.#session.me()?.id;
        for (const [id, status] of Object.entries(list.presence ?? {}))
          this.#session.people.setPresence(id, status);
        for (const id of list.online)
          if (!list.presence?.[id]) this.#session.people.setPresence(id, "online");
        this.#session.people.rememberAll(list.members);
        this.#rows = list.members
          .map((member) => ({ id: member.id, role: member.role, name: this.#session.people.name(member.id) }))
          .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.name.localeCompare(b.name));
        const mine = list.members.find((member) => member.id === me)?.role;
        if (mine && mine !== this.#myRole) {
          this.#myRole = mine;
          this.#hooks.roleChanged(mine);
        }
        this.render();
      })
      .finally(() => {
        this.#refreshing = undefined;
        if (this.#stale && !this.#closed) {
          this.#stale = false;
          void this.refresh().catch(() => undefined);
        }
      });
    return this.#refreshing;
  }

  /** Members whose name or id starts with (or has a word starting with) `prefix`, for @-completion. */
  matching(prefix: string, limit = 6): Array<{ id: string; name: string }> {
    const wanted = prefix.toLowerCase();
    const me = this.#session.me()?.id;
    return this.#rows
      .filter(
        (row) =>
          row.id !== me &&
          (row.name
            .toLowerCase()
            .split(/\s+/)
            .some((word) => word.startsWith(wanted)) ||
            row.id.slice(1).toLowerCase().startsWith(wanted)),
      )
      .slice(0, limit)
      .map(({ id, name }) => ({ id, name }));
  }

  presenceChanged(users: Record<string, string>): void {
    for (const [id, status] of Object.entries(users)) this.#session.people.setPresence(id, status);
    this.render();
  }

  render(): void {
    if (this.#closed) return;
    const me = this.#session.me()?.id;
    this.#list.replaceChildren(
      ...this.#rows.map((row) => {
        const presence = this.#session.people.presence(row.id);
        const label = `${row.name}${row.role === "user" ? "" : ` (${row.role})`}${row.id === me ? " (you)" : ""}`;
        const button = h(
          "button",
          {
            type: "button",
            class: "member",
            "aria-label": `${label}, ${PRESENCE_LABEL[presence]}`,
            onclick: () => this.open(row.id),
          },
          h("span", { class: `dot ${presence}`, "aria-hidden": "true" }),
          avatarElement(this.#session.people, row.id, row.name, true),
          h("span", { class: "name" }, row.name),
          row.role === "user" ? null : h("span", { class: `role ${row.role}` }, row.role),
        );
        button.style.setProperty("--hue", String(hueOf(row.id)));
        return h("li", { class: presence === "offline" ? "offline" : "online" }, button);
      }),
    );
  }

  /** The dialog for one member: what anyone may do, and moderation for moderators. */
  open(userId: string): void {
    const dialog = byId<HTMLDialogElement>("member-dialog");
    const session = this.#session;
    const name = session.people.name(userId);
    const me = session.me()?.id;
    const row = this.#rows.find((candidate) => candidate.id === userId);
    const reason = h("input", { id: "moderation-reason", maxlength: 200, autocomplete: "off" });
    const duration = h(
      "select",
      { id: "timeout-duration" },
      ...[
        ["120", "2 minutes"],
        ["600", "10 minutes"],
        ["3600", "1 hour"],
        ["86400", "1 day"],
        ["604800", "7 days"],
        ["", "Until lifted"],
      ].map(([value, text]) => h("option", { value }, text)),
    );
    const error = h("p", { class: "error", role: "alert" });
    const act = (work: () => Promise<unknown>) => () => {
      error.textContent = "";
      work().then(
        () => {
          dialog.close();
          void this.refresh();
        },
        (failure: unknown) => {
          error.textContent = describeError(failure);
        },
      );
    };
    const why = () => reason.value.trim() || undefined;
    const button = (text: string, onclick: () => void, extra = "") =>
      h("button", { type: "button", class: extra, onclick }, text);
    const moderation =
      this.canModerate && userId !== me
        ? [
            h("label", { for: "moderation-reason" }, "Reason"),
            reason,
            h(
              "div",
              { class: "row" },
              button(
                "Kick",
                act(() => this.#channel.kick(userId, why())),
                "danger",
              ),
              button(
                "Ban",
                act(() => this.#channel.ban(userId, why())),
                "danger",
              ),
            ),
            h("label", { for: "timeout-duration" }, "Time out for"),
            h(
              "div",
              { class: "row" },
              duration,
              button(
                "Time out",
                act(() =>
                  this.#channel.timeout(userId, duration.value ? Number(duration.value) : undefined, why()),
                ),
              ),
              button(
                "Lift timeout",
                act(() => this.#channel.untimeout(userId)),
              ),
            ),
            row?.role === "owner"
              ? null
              : row?.role === "moderator"
                ? button(
                    "Remove moderator",
                    act(() => this.#channel.setRole(userId, "user")),
                  )
                : button(
                    "Make moderator",
                    act(() => this.#channel.setRole(userId, "moderator")),
                  ),
          ]
        : [];
    dialog.replaceChildren(
      h(
        "form",
        { method: "dialog" },
        h("h2", {}, name),
        h("p", { class: "muted" }, `${userId} · ${PRESENCE_LABEL[session.people.presence(userId)]}`),
        h(
          "div",
          { class: "row" },
          userId === me
            ? null
            : button("Message", () => {
                dialog.close();
                this.#hooks.directMessage(userId);
              }),
          button("Mention", () => {
            dialog.close();
            this.#hooks.mention(userId);
          }),
        ),
        ...moderation,
        error,
        h("div", { class: "row end" }, h("button", { value: "close" }, "Close")),
      ),
    );
    dialog.setAttribute("aria-label", name);
    dialog.showModal();
  }
}
