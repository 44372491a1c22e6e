// A few DOM helpers: elements built from text (never from HTML strings), times and sizes.

type Child = Node | string | false | null | undefined;
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** `h("button", {class: "x", onclick: f, "aria-label": "Reply"}, "text")`: attributes set, `on*` listened to. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) if (child !== false && child != null) parent.append(child);
}

export const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

/** A message's time: the hour today, the date and hour before. */
export function timeElement(ts: number): HTMLTimeElement {
  const date = new Date(ts);
  const today = new Date().toDateString() === date.toDateString();
  return h(
    "time",
    { datetime: date.toISOString(), title: full.format(date) },
    today ? clock.format(date) : `${day.format(date)} ${clock.format(date)}`,
  );
}

export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** A human sentence for an error from the server or the connection. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = (error as { details?: Record<string, unknown> }).details ?? {};
  const code = (error as { code?: string }).code;
  if (code === "channel.slow_mode" && typeof details.retry_after === "number")
    return `Slow mode is on: you can post again in ${Math.ceil(details.retry_after / 1000)} s.`;
  if (code === "channel.timed_out" && typeof details.until === "number")
    return `You are timed out here until ${clock.format(new Date(details.until))}.`;
  if (code === "channel.timed_out") return "You are timed out here until a moderator lifts it.";
  if (code === "rate_limited") return "You are going too fast; wait a moment.";
  return error.message;
}
