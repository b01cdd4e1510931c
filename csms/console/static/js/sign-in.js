// The sign-in form: an API token, checked with GET /me before it is kept.

import { h, fill } from "./dom.js";
import { session } from "./session.js";

export function renderSignIn(outlet, onSignedIn, notice = null) {
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    required: true,
    spellcheck: "false",
  });
  const message = h("p", { class: "problem", role: "alert", hidden: !notice, text: notice ?? "" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "sign-in card", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title", text: "Sign in to the CSMS console" }),
    h("p", { class: "hint" }, "Use an API token (", h("code", {}, "csms token create"), "). It is kept in this browser tab only, until you sign out or close the tab."),
    h("label", { for: "token" }, "API token"),
    input,
    button,
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    message.hidden = true;
    try {
      await session.signIn(token);
      onSignedIn();
    } catch (error) {
      message.textContent =
        error.status === 401 ? `That token was not accepted: ${error.message}.` : `Could not sign in: ${error.words ?? error.message}`;
      message.hidden = false;
      button.disabled = false;
      input.select();
    }
  });
  fill(outlet, form);
  input.focus();
}
