// Type declarations for triplesync.js, the triplesync browser client.

/** Options of init. */
export interface InitOptions {
  /** The server's WebSocket endpoint, e.g. "ws://127.0.0.1:8888/runtime/session". */
  url: string;
  /** The user's JWT, sent with init; omit for an anonymous session. */
  token?: string;
  /** Names the app's IndexedDB database (triplesync_<appId>_v1). Default "default". */
  appId?: string;
  /**
   * Let writes define attributes they name that the server does not have yet
   * (schemaless development; the server must allow schema changes, as --dev does).
   */
  createMissingAttrs?: boolean;
  /** "indexeddb" (default) keeps cached results and unsent writes across reloads; "memory" keeps nothing. */
  storage?: "indexeddb" | "memory";
  /** Where triplesync.wasm is; default: next to triplesync.js. */
  wasmURL?: string;
  /** Bounds of the reconnect delay, in ms (defaults 250 and 30000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** An InstaQL query: {namespace: {$: {where, order, limit, ...}, link: {...}}}. */
export type Query = Record<string, unknown>;

/** Page info of one top-level namespace. */
export interface PageInfo {
  startCursor: string | null;
  endCursor: string | null;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** What a subscription callback receives. */
export interface QueryResult<T = any> {
  /**
   * The result tree: {namespace: [{id, ...attrs, link: [...]}]}; undefined when error is set.
   * The arrays are the caller's; the row objects are shared: a later result reuses the rows
   * of this one that did not change (a row keeps its identity until it changes), so
   * modifying a row object corrupts later results.
   */
  data: Record<string, T[]> | undefined;
  /** Page info per top-level namespace. */
  pageInfo: Record<string, PageInfo> | undefined;
  /** Why there is no result: the server refused the query, or it does not fit the schema. */
  error: TriplesyncError | undefined;
  /** The result comes from IndexedDB; the server has not answered since the page loaded. */
  fromCache: boolean;
}

/** Connection status. */
export interface Status {
  state: "connecting" | "online" | "offline" | "error";
  /** Why the last connection ended or was refused. */
  error?: string;
  /** The server's session id, once online. */
  sessionId?: string;
  /** Failed connection attempts since the client was last online. */
  attempt: number;
  /** When the client reconnects (ms since the epoch), while offline or in error. */
  retryAt?: number;
}

/** An error from triplesync. */
export class TriplesyncError extends Error {
  /** "server": the server refused a request; "storage": IndexedDB failed; "client": anything else. */
  kind: "server" | "storage" | "client";
  /** The server's error code: "invalid", "unauthorized", "permission-denied", "not_found", "conflict", "limit", "internal". */
  type?: string;
  status?: number;
  op?: string;
  queryId?: string;
  mutationId?: string;
  /** Storage: the browser's quota is exhausted. */
  quota: boolean;
}

/** What transact resolves with once the write is stored locally and visible to subscribers. */
export interface TransactResult {
  mutationId: string;
  /** The server's tx-id once it has applied the write; rejects with its refusal (the write is rolled back). */
  confirmed: Promise<number>;
}

/** One op as sent to the engine (the shape of Go's store.TxOp). */
export interface TxOp {
  action: "create" | "update" | "merge" | "delete" | "link" | "unlink";
  namespace: string;
  id: string;
  args?: Record<string, unknown>;
  mode?: "update";
}

/** A chain of ops on one entity; every method returns a new chunk with one op more. */
export class TxChunk {
  readonly namespace: string;
  readonly id: string;
  readonly ops: TxOp[];
  create(args: Record<string, unknown>): TxChunk;
  update(args: Record<string, unknown>, opts?: { upsert?: boolean }): TxChunk;
  merge(args: Record<string, unknown>, opts?: { upsert?: boolean }): TxChunk;
  delete(): TxChunk;
  /** Links by label: an id, a lookup, or an array of them. */
  link(args: Record<string, string | string[]>): TxChunk;
  unlink(args: Record<string, string | string[]>): TxChunk;
}

/** tx.<namespace>[<id or lookup(...)>] */
export const tx: Record<string, Record<string, TxChunk>>;

/** A client; see init. */
export class Client {
  /** Resolves once the engine runs and storage is loaded; rejects if it cannot start. */
  readonly ready: Promise<Client>;
  readonly status: Status;
  subscribeQuery<T = any>(q: Query, cb: (r: QueryResult<T>) => void): () => void;
  queryOnce<T = any>(q: Query, opts?: { timeout?: number }): Promise<QueryResult<T>>;
  transact(chunks: TxChunk | TxChunk[]): Promise<TransactResult>;
  onStatus(cb: (s: Status) => void): () => void;
  onError(cb: (e: TriplesyncError) => void): () => void;
  close(): Promise<void>;
}

/** Starts a client; the engine loads in the background (see Client.ready). */
export function init(opts: InitOptions): Client;

/** A fresh entity id (UUID v4). */
export function id(): string;

/** Addresses an entity by a unique attribute's value: tx.users[lookup("email", "a@b.c")]. */
export function lookup(label: string, value: unknown): string;
