// The hash router: "#/chargers/CP-1" → the page whose `path` is "/chargers/:id", params {id};
// "#/sessions?chargePointId=CP-1" → the page "/sessions" with ctx.query the URLSearchParams
// "chargePointId=CP-1" (filters live in the hash, so links, reloads and Back keep them).
//
// A page module exports
//   page = {
//     path: "/chargers/:id",          // ":name" segments become params (URI-decoded)
//     title: "Charger" | (params) => "…",  // the document title and, by default, the <h1>
//     nav: "Chargers" | null,         // its label in the navigation bar, null: not in the bar
//     render(root, params, ctx),      // fills `root`; may be async
//   }
// ctx = {signal, stream, session, query}: `signal` aborts when the page is left (or its query
// changes), so event handlers (`stream.on(type, fn, signal)`) and timers tied to it stop by
// themselves.

import { h, fill, problem } from "./dom.js";

function matcher(path) {
  const names = [];
  const pattern = path.replace(/:([a-zA-Z]+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  const regex = new RegExp(`^${pattern}$`);
  return (candidate) => {
    const found = regex.exec(candidate);
    if (!found) return null;
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
  };
}

export class Router {
  constructor(pages, outlet, nav, context) {
    this.pages = pages.map((page) => ({ page, match: matcher(page.path) }));
    this.outlet = outlet;
    this.nav = nav;
    this.context = context;
    this.controller = null;
    this.first = true;
    this.route = this.route.bind(this);
  }

  start() {
    fill(
      this.nav,
      this.pages
        .filter(({ page }) => page.nav)
        .map(({ page }) => h("li", {}, h("a", { href: `#${page.path}`, dataset: { path: page.path } }, page.nav))),
    );
    window.addEventListener("hashchange", this.route);
    this.route();
  }

  stop() {
    window.removeEventListener("hashchange", this.route);
    this.controller?.abort();
    this.controller = null;
    this.first = true;
  }

  async route() {
    const hash = location.hash.replace(/^#/, "") || "/";
    const mark = hash.indexOf("?");
    const [path, search] = mark < 0 ? [hash, ""] : [hash.slice(0, mark), hash.slice(mark + 1)];
    const home = this.pages.find(({ page }) => page.nav);
    if (path === "/" && home) {
      location.replace(`#${home.page.path}`);
      return;
    }
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    let found = null;
    for (const entry of this.pages) {
      const params = entry.match(path);
      if (params) {
        found = { page: entry.page, params };
        break;
      }
    }
    for (const link of this.nav.querySelectorAll("a")) {
      const current = path === link.dataset.path || path.startsWith(`${link.dataset.path}/`);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const root = h("div", { class: "page" });
    fill(this.outlet, root);
    if (!found) {
      document.title = "Not found · CSMS";
      fill(root, h("h1", { text: "Not found" }), h("p", {}, "No page here. ", h("a", { href: "#/" }, "Go to the overview")));
      return;
    }
    const { page, params } = found;
    const title = typeof page.title === "function" ? page.title(params) : page.title;
    document.title = `${title} · CSMS`;
    try {
      const query = new URLSearchParams(search);
      await page.render(root, params, { ...this.context, signal: controller.signal, query });
    } catch (error) {
      if (!controller.signal.aborted) root.append(problem(error));
    }
    // After a navigation (not the first page), move focus to the new page for screen readers.
    if (!this.first && !controller.signal.aborted) this.outlet.focus({ preventScroll: true });
    this.first = false;
  }
}
