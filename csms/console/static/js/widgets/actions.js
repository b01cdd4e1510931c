// A form for every action of GET /actions, sent to one charger; the charger's answer (or the
// API's error, in words) is shown under the form as it comes back.

import { api } from "../api.js";
import { h, fill } from "../dom.js";
import { schemaFields } from "../forms.js";

let catalogue = null; // the actions never change while the server runs: read once per page load

export function actionCatalogue() {
  catalogue ??= api("/actions").then((page) => page.items).catch((error) => {
    catalogue = null;
    throw error;
  });
  return catalogue;
}

function outcome(result) {
  const status = result.status ?? "answered";
  return [
    h("p", { class: "answer" }, h("strong", { text: status }), result.ocppAction ? ` (${result.ocppAction}, command ${result.commandId})` : ""),
    result.response && Object.keys(result.response).length
      ? h("pre", { class: "code", text: JSON.stringify(result.response, null, 2) })
      : null,
  ];
}

function actionForm(chargePointId, { action, bodySchema }, hints) {
  const prefix = `act-${action}`;
  const fields = schemaFields(bodySchema, prefix);
  const result = h("div", { class: "result", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, action);
  const form = h(
    "form",
    { class: "action-form", "aria-label": `${action} form` },
    fields.nodes.length ? fields.nodes : h("p", { class: "hint", text: "This action takes no fields." }),
    h("div", { class: "form-end" }, button),
    result,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = fields.read();
    } catch {
      return; // a JSON field that does not parse says so itself
    }
    if (!form.reportValidity()) return;
    button.disabled = true;
    fill(result, h("p", { class: "pending", text: "Waiting for the charger…" }));
    try {
      const answer = await api(`/charge-points/${encodeURIComponent(chargePointId)}/actions/${action}`, { method: "POST", body });
      fill(result, outcome(answer));
    } catch (error) {
      fill(result, h("p", { class: "problem", role: "alert" }, h("strong", { text: error.code ?? "error" }), `: ${error.words ?? error.message}`));
    } finally {
      button.disabled = false;
    }
  });
  const details = h("details", { class: "action", dataset: { action } }, h("summary", { text: action }), form);
  // Opening a form fills its empty fields with what the page knows (a running transaction, …).
  details.addEventListener("toggle", () => details.open && fields.hint(hints()));
  return details;
}

/** The actions' forms for one charger; `hints()` gives values for empty fields by path. */
export async function renderActions(container, chargePointId, hints) {
  const actions = await actionCatalogue();
  fill(
    container,
    h("p", { class: "hint", text: "Each action is sent at once and waits for the charger's answer. Fields marked * are required." }),
    h("div", { class: "actions" }, actions.map((item) => actionForm(chargePointId, item, hints))),
  );
}
