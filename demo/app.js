// The triplesync demo: a collaborative todo list in plain JS. Every tab and
// browser on this page sees every edit live; edits made offline are kept in
// IndexedDB, survive a reload and sync when the server is back.
import { init, tx, id } from "/client/triplesync.js";

const $ = (sel) => document.querySelector(sel);
const wsURL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/runtime/session`;

// createMissingAttrs: the first todo defines the todos attributes on a fresh
// database (the server allows schema changes in --dev mode).
// ?maxBackoffMs=500 shortens the reconnect delay (the browser tests use it).
const params = new URLSearchParams(location.search);
const db = init({
  url: wsURL,
  appId: "demo-todos",
  createMissingAttrs: true,
  maxBackoffMs: Number(params.get("maxBackoffMs")) || undefined,
});
window.db = db; // for the console, and the browser tests

const query = { todos: {} };
let todos = [];
let pending = 0;

db.onStatus((s) => {
  const el = $("#status");
  el.className = `status ${s.state}`;
  el.textContent = s.state;
  el.title = s.error ? `${s.state}: ${s.error}` : s.state;
  document.body.dataset.status = s.state;
});

db.onError((e) => showError(e.quota ? "Browser storage is full: edits are kept in memory only." : e.message));

function showError(msg) {
  $("#error").textContent = msg;
}

// One live query. On a fresh database the server does not know the todos
// namespace yet and refuses it (type "invalid"): the list is empty until
// the first todo, ours or another client's, defines the namespace; the
// client then asks again by itself and the callback gets the result.
db.subscribeQuery(query, (r) => {
  if (r.error) {
    if (r.error.type === "invalid") {
      render([], r.fromCache); // no todo was ever written
    } else {
      showError(r.error.message);
    }
    return;
  }
  render(r.data.todos ?? [], r.fromCache);
});

function render(list, fromCache) {
  if (fromCache && performance.getEntriesByName("demo:first-cached").length === 0) {
    performance.mark("demo:first-cached"); // bench-client reads it
  }
  todos = list.slice().sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || (a.id < b.id ? -1 : 1));
  const ul = $("#todos");
  ul.replaceChildren(...todos.map(item));
  $("#empty").hidden = todos.length > 0;
  const left = todos.filter((t) => !t.done).length;
  $("#count").textContent = `${left} left of ${todos.length}`;
  document.body.dataset.fromCache = String(!!fromCache);
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

function item(t) {
  const li = document.createElement("li");
  li.dataset.id = t.id;
  li.dataset.title = t.title ?? "";
  li.className = t.done ? "done" : "";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = !!t.done;
  box.setAttribute("aria-label", "done");
  box.addEventListener("change", () => write(tx.todos[t.id].update({ done: box.checked })));
  const span = document.createElement("span");
  span.className = "title";
  span.textContent = t.title ?? "";
  const del = document.createElement("button");
  del.className = "delete";
  del.title = "delete";
  del.textContent = "×";
  del.addEventListener("click", () => write(tx.todos[t.id].delete()));
  li.append(box, span, del);
  return li;
}

// write applies a change at once (optimistically) and counts it as pending
// until the server confirms it.
async function write(chunk) {
  showError("");
  let res;
  try {
    res = await db.transact(chunk);
  } catch (e) {
    showError(e.message);
    return;
  }
  setPending(+1);
  res.confirmed.catch((e) => showError(`Not saved: ${e.message}`)).finally(() => setPending(-1));
}

function setPending(d) {
  pending += d;
  $("#pending").textContent = pending > 0 ? `${pending} not yet synced` : "";
}

$("#add").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("#title");
  const title = input.value.trim();
  if (!title) return;
  input.value = "";
  write(tx.todos[id()].update({ title, done: false, createdAt: Date.now() }));
});
