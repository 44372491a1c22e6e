// Writing: text (Enter sends, Shift+Enter a new line), replies and edits (Up arrow edits your last
// message, Escape cancels), files by picker, drag and drop or paste, and the typing indicator.
import type { Channel, FileRef } from "../../packages/client/src/index.ts";
import { byId, describeError } from "./dom.ts";
import { type MessageEvent, snippet } from "./message-view.ts";
import type { Session } from "./session.ts";

/** A typing notice is renewed this often while one types, and ended after this long without keys. */
const TYPING_RENEW_MS = 3000;
const TYPING_IDLE_MS = 4000;

export interface ComposerTarget {
  readonly channel: Channel;
  lastOwnText(): MessageEvent | undefined;
  /** A send was refused because the channel's rules must be accepted first: ask, then retry. */
  needsRules(retry: () => void): void;
  /** Members to offer after an "@" (display name or id). */
  mentionable(prefix: string): Array<{ id: string; name: string }>;
}

/** "@" and the start of a name just before the caret. */
const MENTION_PREFIX = /(?:^|\s)@([^\s@]{1,40})$/u;

export class Composer {
  readonly #session: Session;
  readonly #form = byId<HTMLFormElement>("send-form");
  readonly #input = byId<HTMLTextAreaElement>("message");
  readonly #send = byId<HTMLButtonElement>("send-button");
  readonly #files = byId<HTMLInputElement>("attach");
  readonly #context = byId<HTMLDivElement>("compose-context");
  readonly #error = byId<HTMLParagraphElement>("error");
  #target: ComposerTarget | undefined;
  #replyTo: MessageEvent | undefined;
  #editing: MessageEvent | undefined;
  readonly #suggestions = byId<HTMLDivElement>("mention-suggestions");
  #choices: Array<{ id: string; name: string }> = [];
  #chosen = 0;
  #typingSentAt = 0;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(session: Session) {
    this.#session = session;
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#input.addEventListener("keydown", (event) => this.#onKey(event));
    this.#input.addEventListener("input", () => this.#onInput());
    // The caret moved away from an "@name": offer again for where it is now.
    for (const kind of ["click", "keyup"] as const) {
      this.#input.addEventListener(kind, (event) => {
        const key = (event as KeyboardEvent).key;
        if (kind === "keyup" && !["ArrowLeft", "ArrowRight", "Home", "End"].includes(key)) return;
        if (this.#target) this.#suggest(this.#target);
      });
    }
    this.#input.addEventListener("blur", () => {
      this.#stopTyping();
      this.#closeSuggestions();
    });
    this.#context.querySelector("button")?.addEventListener("click", () => {
      if (this.#editing) this.#input.value = "";
      this.#cancel();
      this.focus();
    });
    this.#files.addEventListener("change", () => {
      const files = [...(this.#files.files ?? [])];
      this.#files.value = "";
      this.uploadAndSend(files);
    });
    this.#input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      this.uploadAndSend(files);
    });
    const zone = byId<HTMLElement>("chat");
    zone.addEventListener("dragover", (event) => {
      if (!this.#target || !event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      zone.classList.add("dropping");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("dropping");
      const files = [...(event.dataTransfer?.files ?? [])];
      if (!this.#target || files.length === 0) return;
      event.preventDefault();
      this.uploadAndSend(files);
    });
  }

  attach(target: ComposerTarget | undefined): void {
    this.#stopTyping();
    this.#target = target;
    this.#cancel();
    this.#error.textContent = "";
    this.enable(target !== undefined);
  }

  enable(on: boolean): void {
    this.#input.disabled = !on;
    this.#send.disabled = !on;
    this.#files.disabled = !on;
  }

  focus(): void {
    this.#input.focus();
  }

  replyTo(event: MessageEvent): void {
    this.#editing = undefined;
    this.#replyTo = event;
    this.#showContext(`Replying to ${this.#session.people.name(event.sender)}: ${snippet(event)}`);
    this.focus();
  }

  edit(event: MessageEvent): void {
    if (event.content.type === "deleted" || event.content.type === "files") return;
    this.#replyTo = undefined;
    this.#editing = event;
    this.#input.value = event.content.body;
    this.#showContext("Editing your message");
    this.focus();
  }

  insert(text: string): void {
    const input = this.#input;
    const start = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, start);
    input.value = `${before}${before && !before.endsWith(" ") ? " " : ""}${text} ${input.value.slice(start)}`;
    this.focus();
  }

  uploadAndSend(files: readonly File[]): void {
    const target = this.#target;
    if (!target || files.length === 0) return;
    // The text being written is the caption, unless it is an edit of another message.
    const caption = this.#editing ? "" : this.#input.value.trim();
    this.#error.textContent = "";
    this.#showContext(`Uploading ${files.map((file) => file.name || "a file").join(", ")}…`);
    const replyTo = this.#replyTo?.event_id;
    Promise.all(
      files.map((file) => this.#session.client.upload(file, file.name || "pasted-image.png", file.type)),
    )
      .then((uploaded) => {
        const refs: FileRef[] = uploaded.map(({ mxc: _mxc, ...ref }) => ref);
        return target.channel.send(
          { type: "files", files: refs, ...(caption ? { body: caption } : {}) },
          replyTo === undefined ? {} : { reply_to: replyTo },
        );
      })
      .then(
        () => {
          if (this.#target !== target) return; // another channel is shown now
          // Only what became the caption: a draft typed meanwhile stays.
          if (caption && this.#input.value.trim() === caption) this.#input.value = "";
          this.#cancel();
        },
        (error: unknown) => {
          if (this.#target !== target) return;
          this.#cancel();
          this.#error.textContent = `The upload failed: ${describeError(error)}`;
        },
      );
  }

  #submit(): void {
    const target = this.#target;
    const body = this.#input.value;
    if (!target || !body.trim()) return;
    const editing = this.#editing;
    const replyTo = this.#replyTo;
    this.#input.value = "";
    this.#cancel();
    this.#stopTyping();
    const send = () =>
      (editing
        ? target.channel.send(
            // An emote stays an emote.
            { type: editing.content.type === "emote" ? "emote" : "text", body },
            { replaces: editing.event_id },
          )
        : target.channel.sendText(body, replyTo ? { reply_to: replyTo.event_id } : {})
      ).then(
        () => {
          this.#error.textContent = "";
        },
        (error: unknown) => {
          if (this.#target !== target) return; // another channel is shown now
          if ((error as { code?: string }).code === "channel.rules_not_accepted") {
            // Kept in the composer until the rules are accepted ("Not now" must not lose it).
            if (!this.#input.value) this.#input.value = body;
            target.needsRules(() => {
              if (this.#input.value === body) this.#input.value = "";
              send();
            });
            return;
          }
          // Give the text back, with what it was for.
          if (!this.#input.value) this.#input.value = body;
          if (editing) this.edit(editing);
          else if (replyTo) this.replyTo(replyTo);
          this.#error.textContent = describeError(error);
        },
      );
    send();
  }

  #onKey(event: KeyboardEvent): void {
    if (this.#choices.length > 0 && !event.isComposing) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : this.#choices.length - 1;
        this.#chosen = (this.#chosen + step) % this.#choices.length;
        this.#renderSuggestions();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        const choice = this.#choices[this.#chosen];
        if (choice) this.#complete(choice.id);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        this.#closeSuggestions();
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.#submit();
    } else if (event.key === "Escape" && (this.#editing || this.#replyTo)) {
      event.preventDefault();
      if (this.#editing) this.#input.value = "";
      this.#cancel();
    } else if (event.key === "ArrowUp" && this.#input.value === "" && this.#target) {
      const last = this.#target.lastOwnText();
      if (last) {
        event.preventDefault();
        this.edit(last);
      }
    }
  }

  #onInput(): void {
    const target = this.#target;
    if (!target) return;
    this.#suggest(target);
    if (this.#input.value === "") {
      this.#stopTyping();
      return;
    }
    const now = Date.now();
    if (now - this.#typingSentAt > TYPING_RENEW_MS) {
      this.#typingSentAt = now;
      target.channel.typing(true).catch(() => undefined);
    }
    clearTimeout(this.#typingTimer);
    this.#typingTimer = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
  }

  #suggest(target: ComposerTarget): void {
    const before = this.#input.value.slice(0, this.#input.selectionStart ?? this.#input.value.length);
    const prefix = MENTION_PREFIX.exec(before)?.[1];
    this.#choices = prefix ? target.mentionable(prefix) : [];
    this.#chosen = 0;
    this.#renderSuggestions();
  }

  /** Replaces the "@prefix" before the caret with the member's id, which is what mentions them. */
  #complete(userId: string): void {
    const input = this.#input;
    const caret = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, caret).replace(/@[^\s@]*$/u, `${userId} `);
    input.value = before + input.value.slice(caret);
    input.setSelectionRange(before.length, before.length);
    this.#closeSuggestions();
    input.focus();
  }

  #renderSuggestions(): void {
    const list = this.#suggestions;
    list.hidden = this.#choices.length === 0;
    list.replaceChildren(
      ...this.#choices.map((choice, index) => {
        const item = document.createElement("div");
        item.id = `mention-${index}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", String(index === this.#chosen));
        item.textContent = `${choice.name} `;
        const id = document.createElement("span");
        id.className = "muted";
        id.textContent = choice.id;
        item.append(id);
        // mousedown, not click: the textarea must keep its focus and caret.
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          this.#complete(choice.id);
        });
        return item;
      }),
    );
    if (this.#choices.length > 0)
      this.#input.setAttribute("aria-activedescendant", `mention-${this.#chosen}`);
    else this.#input.removeAttribute("aria-activedescendant");
  }

  #closeSuggestions(): void {
    this.#choices = [];
    this.#renderSuggestions();
  }

  #stopTyping(): void {
    clearTimeout(this.#typingTimer);
    if (this.#typingSentAt === 0) return;
    this.#typingSentAt = 0;
    this.#target?.channel.typing(false).catch(() => undefined);
  }

  #showContext(text: string): void {
    this.#context.hidden = false;
    this.#context.querySelector("span")?.replaceChildren(text);
  }

  #cancel(): void {
    this.#closeSuggestions();
    this.#replyTo = undefined;
    this.#editing = undefined;
    this.#context.hidden = true;
  }
}
