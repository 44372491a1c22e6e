// The channel's settings for moderators (slow mode, rules and whether they must be accepted,
// media review, live) and the rules dialog for everyone (with "Accept" when posting needs it).
import type { ChannelSettingsChange, ChannelSnapshot } from "../../packages/client/src/index.ts";
import { byId, describeError, h } from "./dom.ts";

export function showRules(rules: string, mustAccept: boolean, accepted: () => void): void {
  const dialog = byId<HTMLDialogElement>("rules-dialog");
  dialog.replaceChildren(
    h(
      "form",
      { method: "dialog" },
      h("h2", {}, "Channel rules"),
      mustAccept ? h("p", {}, "Please accept the channel's rules before you post.") : null,
      h("div", { class: "rules-text" }, rules || "This channel has no rules."),
      h(
        "div",
        { class: "row end" },
        mustAccept ? h("button", { value: "cancel" }, "Not now") : null,
        mustAccept
          ? h("button", { value: "accept", class: "primary", onclick: () => accepted() }, "Accept rules")
          : h("button", { value: "close", class: "primary" }, "Close"),
      ),
    ),
  );
  dialog.setAttribute("aria-label", "Channel rules");
  dialog.showModal();
}

export function showSettings(
  state: ChannelSnapshot["state"],
  save: (changes: ChannelSettingsChange) => Promise<void>,
): void {
  const dialog = byId<HTMLDialogElement>("settings-dialog");
  const settings = state.settings;
  const slow = h("input", { id: "slow-mode", type: "number", min: 0, max: 21600, value: settings.slow_mode });
  const rules = h("textarea", { id: "rules", rows: 4, maxlength: 4000 });
  rules.value = state.rules ?? "";
  const required = h("input", { id: "rules-required", type: "checkbox", checked: settings.rules_required });
  const review = h(
    "select",
    { id: "media-review" },
    h("option", { value: "off", selected: settings.media_review === "off" }, "Off"),
    h(
      "option",
      { value: "before", selected: settings.media_review === "before" },
      "Hold files until reviewed",
    ),
  );
  const live = h("input", { id: "live", type: "checkbox", checked: settings.live });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", {}, `Settings of #${state.name}`),
    h("label", { for: "slow-mode" }, "Slow mode (seconds between posts, 0 for off)"),
    slow,
    h("label", { for: "rules" }, "Rules"),
    rules,
    h("label", { class: "check" }, required, " Members must accept the rules to post"),
    h("label", { for: "media-review" }, "Media review"),
    review,
    state.role === "owner" ? h("label", { class: "check" }, live, " A live event is on") : null,
    error,
    h(
      "div",
      { class: "row end" },
      h("button", { value: "cancel", formnovalidate: true }, "Cancel"),
      h("button", { type: "submit", class: "primary" }, "Save"),
    ),
  );
  form.addEventListener("submit", (event) => {
    if (event.submitter?.getAttribute("value") === "cancel") return; // the dialog closes itself
    event.preventDefault();
    const changes: ChannelSettingsChange = {
      slow_mode: Number(slow.value) || 0,
      rules: rules.value.trim() || null,
      rules_required: required.checked,
      media_review: review.value === "before" ? "before" : "off",
      ...(state.role === "owner" ? { live: live.checked } : {}),
    };
    save(changes).then(
      () => dialog.close(),
      (failure: unknown) => {
        error.textContent = describeError(failure);
      },
    );
  });
  dialog.replaceChildren(form);
  dialog.setAttribute("aria-label", "Channel settings");
  dialog.showModal();
}
