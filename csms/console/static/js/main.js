// The console's entry point: sign in, then the navigation bar, the router and the live events.

import { whenUnauthorized } from "./api.js";
import { stream } from "./events.js";
import { loadPages } from "./pages.js";
import { Router } from "./router.js";
import { session } from "./session.js";
import { renderSignIn } from "./sign-in.js";

const outlet = document.getElementById("main");
const bar = document.getElementById("bar");
const who = document.getElementById("who");
const streamState = document.getElementById("stream-state");
const STREAM_WORDS = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", off: "" };

let router = null;

function signedOut(notice = null, { forget = true } = {}) {
  router?.stop();
  router = null;
  stream.stop();
  if (forget) session.forget();
  bar.hidden = true;
  renderSignIn(outlet, signedIn, notice);
}

async function signedIn() {
  const me = session.me;
  who.textContent = `${me.label ?? me.id} (${me.role})`;
  bar.hidden = false;
  stream.start(session.token);
  router = new Router(await loadPages(), outlet, document.getElementById("nav"), { stream, session });
  router.start();
}

stream.onState = (state) => {
  streamState.textContent = STREAM_WORDS[state] ?? "";
  streamState.dataset.state = state;
};
stream.onUnauthorized = () => signedOut("Your token is no longer accepted: sign in again.");
whenUnauthorized(() => signedOut("Your token is no longer accepted: sign in again."));
document.getElementById("sign-out").addEventListener("click", () => signedOut());

try {
  if (await session.restore()) await signedIn();
  else signedOut();
} catch (error) {
  // A token the API refused is forgotten (restore did it); one that could not be checked is kept.
  if (error.status === 401) signedOut();
  else signedOut(`Could not check the saved token: ${error.message}`, { forget: false });
}
