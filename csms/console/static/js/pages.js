// The console's pages, in the order of the navigation bar. Each name is a module in ./pages/
// that exports `page` (see router.js for its shape). Adding a page: write ./pages/NAME.js and add
// "NAME" here.
export const PAGE_NAMES = ["overview", "chargers", "charger", "sessions", "session", "circuits", "alerts", "kpis"];

export function loadPages() {
  return Promise.all(PAGE_NAMES.map(async (name) => (await import(`./pages/${name}.js`)).page));
}
