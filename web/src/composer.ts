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
}

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
    this.#input.addEventListener("blur", () => this.#stopTyping());
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
    const caption = this.#input.value.trim();
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
          if (caption) this.#input.value = "";
          this.#cancel();
        },
        (error: unknown) => {
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
        ? target.channel.edit(editing.event_id, body)
        : target.channel.sendText(body, replyTo ? { reply_to: replyTo.event_id } : {})
      ).then(
        () => {
          this.#error.textContent = "";
        },
        (error: unknown) => {
          if ((error as { code?: string }).code === "channel.rules_not_accepted") {
            target.needsRules(send);
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
    this.#replyTo = undefined;
    this.#editing = undefined;
    this.#context.hidden = true;
  }
}
