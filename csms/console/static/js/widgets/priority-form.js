// A load-management priority an operator may change: a number, "Set", and optionally a button
// that clears it (a session back to its charger's). What the operator types is kept while the
// page updates live around it.

import { h, fill, problem } from "../dom.js";

/**
 * `label` names what is set ("priority of CP-1 on Garage"); `set(priority)` and `clear()` send it
 * (and reject with an ApiError). Returns {node, update(value, placeholder)}.
 */
export function priorityForm({ id, label, value, placeholder = null, set, clear = null, clearLabel = null }) {
  const input = h("input", { id, type: "number", min: "0", step: "any", inputmode: "decimal", required: true, class: "priority-input", placeholder });
  input.value = value ?? "";
  let dirty = false;
  input.addEventListener("input", () => (dirty = true));
  const status = h("span", { class: "priority-status", role: "status" });
  const setButton = h("button", { type: "submit", "aria-label": `Set ${label}` }, "Set");
  const clearButton = clear ? h("button", { type: "button", class: "secondary", "aria-label": clearLabel, hidden: value === null }, "Clear") : null;
  const send = async (task, button) => {
    button.disabled = true;
    fill(status);
    try {
      await task();
      dirty = false;
      status.textContent = "Saved";
    } catch (error) {
      fill(status, problem(error));
    } finally {
      button.disabled = false;
    }
  };
  const node = h("form", { class: "priority" }, h("label", { for: id, class: "visually-hidden", text: label }), input, setButton, clearButton, status);
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    send(() => set(Number(input.value)), setButton);
  });
  clearButton?.addEventListener("click", () => send(clear, clearButton));
  const update = (fresh, hint = null) => {
    input.placeholder = hint ?? "";
    if (clearButton) clearButton.hidden = fresh === null;
    if (!dirty && document.activeElement !== input) input.value = fresh ?? "";
  };
  return { node, update };
}
