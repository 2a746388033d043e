// triplesync.js — the triplesync browser client, an ES module.
//
//   import { init, tx, id, lookup } from "/client/triplesync.js";
//   const db = init({ url: "ws://127.0.0.1:8888/runtime/session", appId: "todos" });
//   const stop = db.subscribeQuery({ todos: {} }, (r) => render(r.data?.todos ?? []));
//   await db.transact(tx.todos[id()].update({ title: "Milk", done: false }));
//
// The engine is Go compiled to WebAssembly (triplesync.wasm, loaded once per
// page next to this file; wasm_exec.js is Go's loader). Types are in
// triplesync.d.ts. Queries answer at once from IndexedDB when a result is
// cached, writes apply optimistically and persist before they are sent, and
// the connection comes back by itself.

import "./wasm_exec.js";

let runtime = null; // Promise of the Go API object, one per page

/** Loads and starts the wasm engine once; later calls share it. */
function loadRuntime(wasmURL) {
  if (runtime) return runtime;
  runtime = (async () => {
    performance.mark("triplesync:load");
    const go = new globalThis.Go();
    const booted = new Promise((resolve) => {
      globalThis.__triplesyncBoot = resolve;
    });
    let instance;
    try {
      ({ instance } = await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject));
    } catch (e) {
      // A server without Content-Type application/wasm: take the slow path.
      const resp = await fetch(wasmURL);
      if (!resp.ok) throw new Error(`triplesync: fetch ${wasmURL}: ${resp.status}`);
      ({ instance } = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject));
    }
    performance.mark("triplesync:instantiated");
    go.run(instance).then(() => {
      runtime = null; // the Go program ended (it never should)
    });
    const api = await booted;
    performance.mark("triplesync:started");
    return api;
  })();
  runtime.catch(() => {
    runtime = null; // let a later init try again
  });
  return runtime;
}

/** An error from triplesync: the server's refusal, a storage failure, or a client error. */
export class TriplesyncError extends Error {
  constructor(j) {
    super(j.message);
    this.name = "TriplesyncError";
    this.kind = j.kind; // "server" | "storage" | "client"
    this.type = j.type; // the server's code: "invalid", "permission-denied", ...
    this.status = j.status;
    this.op = j.op;
    this.queryId = j.queryId;
    this.mutationId = j.mutationId;
    this.quota = !!j.quota; // storage: the browser's quota is exhausted
  }
}

function toError(e) {
  if (e instanceof Error) return e;
  if (typeof e === "string") {
    try {
      return new TriplesyncError(JSON.parse(e));
    } catch {
      return new TriplesyncError({ message: e, kind: "client" });
    }
  }
  return new TriplesyncError({ message: String(e), kind: "client" });
}

/**
 * Returns a parser of one subscription's results, in order. The engine
 * sends the whole result first (and whenever simpler), then patches
 * against the result before: per top-level namespace, runs that are
 * either [from, n] (n rows of the previous array from index from) or
 * {rows: [...]} (new rows). Rows a patch keeps are the previous row
 * objects, so a change to one row of a large result costs that row, and
 * unchanged rows keep their identity (React's memo sees them unchanged).
 * Apps may reorder the arrays they get, but must not modify the row
 * objects: later results share them.
 */
function resultParser() {
  let last = null; // the top-level arrays of the last result: copies, so an app may sort its own
  return (json) => {
    const r = JSON.parse(json);
    if (r.error) {
      last = null;
      return { data: undefined, pageInfo: undefined, error: new TriplesyncError(r.error), fromCache: false };
    }
    let data, pageInfo;
    if (r.patch) {
      if (last === null) throw new Error("triplesync: a result patch without a result before it");
      data = {};
      for (const [label, runs] of Object.entries(r.patch)) {
        const prev = last[label] ?? [];
        const rows = [];
        for (const run of runs) {
          if (Array.isArray(run)) {
            const end = run[0] + run[1];
            for (let i = run[0]; i < end; i++) rows.push(prev[i]);
          } else {
            for (const row of run.rows) rows.push(row);
          }
        }
        data[label] = rows;
      }
      pageInfo = r.pageInfo;
    } else {
      data = r.data;
      pageInfo = data.$pageInfo;
      delete data.$pageInfo;
    }
    last = {};
    for (const [label, rows] of Object.entries(data)) if (Array.isArray(rows)) last[label] = rows.slice();
    return { data, pageInfo, error: undefined, fromCache: r.fromCache };
  };
}

function safe(cb, arg, what) {
  try {
    cb(arg);
  } catch (e) {
    console.error(`triplesync: ${what} callback threw`, e);
  }
}

/** A connection to a triplesync server; make one with init. */
export class Client {
  constructor(opts) {
    if (!opts || !opts.url) throw new TypeError("triplesync: init needs {url}");
    this._status = { state: "connecting", attempt: 0 };
    this._statusCbs = new Set();
    this._errorCbs = new Set();
    this._c = null;
    const wasmURL = opts.wasmURL ?? new URL("./triplesync.wasm", import.meta.url).href;
    const goOpts = JSON.stringify({
      url: opts.url,
      token: opts.token ?? "",
      appId: opts.appId ?? "default",
      createMissingAttrs: !!opts.createMissingAttrs,
      storage: opts.storage ?? "indexeddb",
      minBackoffMs: opts.minBackoffMs ?? 0,
      maxBackoffMs: opts.maxBackoffMs ?? 0,
    });
    /** Resolves once the engine runs and storage is loaded; rejects if it cannot start. */
    this.ready = loadRuntime(wasmURL)
      .then((api) => api.open(goOpts, (s) => this._setStatus(JSON.parse(s)), (e) => this._emitError(toError(e))))
      .then(
        (c) => {
          this._c = c;
          return this;
        },
        (e) => {
          throw toError(e);
        },
      );
    this.ready.catch((e) => this._emitError(e));
  }

  _setStatus(s) {
    this._status = s;
    for (const cb of this._statusCbs) safe(cb, s, "status");
  }

  _emitError(e) {
    if (this._errorCbs.size === 0) {
      console.warn("triplesync:", e);
      return;
    }
    for (const cb of this._errorCbs) safe(cb, e, "error");
  }

  /** The connection status: {state: "connecting"|"online"|"offline"|"error", error?, sessionId?, attempt, retryAt?}. */
  get status() {
    return this._status;
  }

  /** Calls cb with the status now and at every change; returns a function that stops it. */
  onStatus(cb) {
    this._statusCbs.add(cb);
    queueMicrotask(() => this._statusCbs.has(cb) && safe(cb, this._status, "status"));
    return () => this._statusCbs.delete(cb);
  }

  /**
   * Calls cb with errors the client copes with on its own: storage writes that
   * failed (kind "storage", quota set when the browser is out of space; the
   * write is kept and retried), messages it could not handle. Returns a
   * function that stops it.
   */
  onError(cb) {
    this._errorCbs.add(cb);
    return () => this._errorCbs.delete(cb);
  }

  /**
   * Subscribes cb to the InstaQL query q. cb gets {data, pageInfo, error,
   * fromCache}: at once from the cache when a result is stored, then the
   * server's, then every change, including this client's own writes before the
   * server has them. Returns a function that ends the subscription.
   */
  subscribeQuery(q, cb) {
    let id = null;
    let done = false;
    const parse = resultParser();
    const deliver = (json) => {
      if (done) return;
      let r;
      try {
        r = parse(json);
      } catch (e) {
        r = { data: undefined, pageInfo: undefined, error: toError(e), fromCache: false };
      }
      safe(cb, r, "query");
    };
    this.ready.then(
      () => {
        if (!done) id = this._c.subscribe(JSON.stringify(q), deliver);
      },
      (e) => !done && safe(cb, { data: undefined, pageInfo: undefined, error: e, fromCache: false }, "query"),
    );
    return () => {
      if (done) return;
      done = true;
      if (id !== null) this._c.unsubscribe(id);
    };
  }

  /**
   * Resolves with the server's result for q (not a cached one), or rejects
   * with the server's error. Offline, it waits for the connection; pass
   * {timeout: ms} to give up.
   */
  queryOnce(q, opts = {}) {
    return new Promise((resolve, reject) => {
      let timer = null;
      const stop = this.subscribeQuery(q, (r) => {
        if (r.fromCache) return;
        stop();
        clearTimeout(timer);
        if (r.error) reject(r.error);
        else resolve(r);
      });
      if (opts.timeout) {
        timer = setTimeout(() => {
          stop();
          reject(new TriplesyncError({ message: `triplesync: queryOnce: no answer in ${opts.timeout} ms`, kind: "client" }));
        }, opts.timeout);
      }
    });
  }

  /**
   * Applies the ops of tx chunks (one, or an array) as one transaction. Resolves
   * once the write is stored locally and visible to subscribers, with
   * {mutationId, confirmed}; confirmed resolves with the server's tx-id or
   * rejects with its refusal (the write is then rolled back). Offline, the
   * write waits in IndexedDB and is sent when the connection returns.
   */
  async transact(chunks) {
    const list = Array.isArray(chunks) ? chunks.flat(Infinity) : [chunks];
    const ops = [];
    for (const c of list) {
      if (!c || !Array.isArray(c.ops)) throw new TypeError("triplesync: transact takes tx chunks: tx.ns[id].update({...})");
      ops.push(...c.ops);
    }
    await this.ready;
    let settle;
    const confirmed = new Promise((resolve, reject) => {
      settle = (err, txId) => (err === null ? resolve(txId) : reject(toError(err)));
    });
    confirmed.catch(() => {}); // rejections reach whoever awaits confirmed, and are never "unhandled"
    let mutationId;
    try {
      mutationId = await this._c.transact(JSON.stringify(ops), settle);
    } catch (e) {
      throw toError(e);
    }
    return { mutationId, confirmed };
  }

  /** Stops the client: unconfirmed writes stay stored for the next run. */
  async close() {
    await this.ready.catch(() => {});
    if (this._c) await this._c.close();
  }
}

/**
 * Starts a client. Options: url (the server's WebSocket endpoint, required),
 * token (a user's JWT), appId (names the IndexedDB database), createMissingAttrs
 * (let writes define unknown attributes: schemaless development against a
 * server in --dev mode), storage ("indexeddb" or "memory"), wasmURL.
 */
export function init(opts) {
  return new Client(opts);
}

/** A fresh entity id: a random UUID v4. */
export function id() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // randomUUID exists only in secure contexts (https, localhost): a page on
  // http://<LAN address> gets the same from getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Addresses an entity by a unique attribute's value instead of its id: tx.users[lookup("email", "a@b.c")]. */
export function lookup(label, value) {
  return `lookup__${label}__${JSON.stringify(value)}`;
}

/** A chain of ops on one entity; every method returns a new chunk with one op more. */
export class TxChunk {
  constructor(namespace, id, ops = []) {
    this.namespace = namespace;
    this.id = id;
    this.ops = ops;
  }
  _with(action, args, mode) {
    const op = { action, namespace: this.namespace, id: this.id };
    if (args !== undefined) op.args = args;
    if (mode) op.mode = mode;
    return new TxChunk(this.namespace, this.id, [...this.ops, op]);
  }
  /** Creates the entity with these values; it must not exist. */
  create(args) {
    return this._with("create", args);
  }
  /** Sets these values; {upsert: false} requires the entity to exist. */
  update(args, opts) {
    return this._with("update", args, opts && opts.upsert === false ? "update" : undefined);
  }
  /** Deep-merges objects into the current values (null deletes a key). */
  merge(args, opts) {
    return this._with("merge", args, opts && opts.upsert === false ? "update" : undefined);
  }
  /** Deletes the entity. */
  delete() {
    return this._with("delete");
  }
  /** Adds links: {label: id | lookup | [ids]}. */
  link(args) {
    return this._with("link", args);
  }
  /** Removes links. */
  unlink(args) {
    return this._with("unlink", args);
  }
}

/** The tx builder: tx.<namespace>[<id or lookup>] is a TxChunk. */
export const tx = new Proxy(
  {},
  {
    get(_, ns) {
      if (typeof ns !== "string") return undefined;
      return new Proxy(
        {},
        {
          get(_, eid) {
            if (typeof eid !== "string") return undefined;
            return new TxChunk(ns, eid);
          },
        },
      );
    },
  },
);
