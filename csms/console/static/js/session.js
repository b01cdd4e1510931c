// The signed-in token: kept in this tab's sessionStorage only (never in a URL or a cookie),
// checked with GET /me, which also tells the token's role.

import { api, useToken } from "./api.js";

const KEY = "csms.console.token";

export const session = {
  /** The caller as GET /me answers: {id, role, label, expiresAt}; null when signed out. */
  me: null,

  /** True when the token may send actions (anything but a viewer). */
  get canWrite() {
    return this.me !== null && this.me.role !== "viewer";
  },

  get token() {
    return sessionStorage.getItem(KEY);
  },

  /** Checks the token with the API; keeps it only when it is accepted. Throws an ApiError. */
  async signIn(token) {
    const me = await api("/me", { token });
    sessionStorage.setItem(KEY, token);
    useToken(token);
    this.me = me;
    return me;
  },

  /** The token kept from earlier in this tab, if it still works. */
  async restore() {
    const token = this.token;
    if (!token) return null;
    try {
      return await this.signIn(token);
    } catch (error) {
      if (error.status === 401) this.forget();
      throw error;
    }
  },

  forget() {
    sessionStorage.removeItem(KEY);
    useToken(null);
    this.me = null;
  },
};
