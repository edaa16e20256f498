// A page that polls one route (workers, cluster: things that change without events): a head
// with a count, a live indicator and Refresh, then cards the reply fills.

import { clear, el, errorBox } from "./dom.js";

export const POLL_MS = 2000;

/**
 * `cards`: [{ id, heading }]; `request()`: the reply to show; `failure`: what was being done
 * (for the error box); `show(body, fill)`: fills the cards (`fill(index, ...content)`) and
 * returns the count's text. Returns the cleanup for the router.
 */
export function renderPolled(main, { title, cards, request, failure, show }) {
  const live = el("span", { class: "live-indicator", dataset: { state: "connecting" } },
    "connecting");
  const count = el("span", { class: "count", "aria-live": "polite" });
  const refresh = el("button", { type: "button", class: "button" }, "Refresh");
  const sections = cards.map(({ id, heading }, index) =>
    el("section", { class: "card", "aria-labelledby": id }, el("h2", { id }, heading),
      index === 0 ? el("p", { class: "muted" }, "Loading…") : null));
  clear(main, el("div", { class: "page-head" }, el("h1", {}, title), count, live, refresh),
    sections);
  const fill = (index, ...content) =>
    clear(sections[index], el("h2", { id: cards[index].id }, cards[index].heading), content);
  let closed = false;
  let timer = null;
  let loading = false;

  async function load() {
    if (loading) return;
    loading = true;
    clearTimeout(timer);
    const reply = await request();
    loading = false;
    if (closed) return;
    if (!reply.ok) {
      live.dataset.state = "error";
      live.textContent = "refused";
      fill(0, errorBox(reply, failure));
    } else {
      live.dataset.state = "live";
      live.textContent = `refreshed every ${POLL_MS / 1000} s`;
      count.textContent = show(reply.body, fill);
    }
    timer = setTimeout(load, POLL_MS);
  }

  refresh.addEventListener("click", load);
  load();
  return () => {
    closed = true;
    clearTimeout(timer);
  };
}
