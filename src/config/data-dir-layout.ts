/**
 * What tapline keeps in its data directory (TAPLINE_DATA_DIR), by the names every part of it
 * uses: the store, the secret box, the lock, the run service, destinations and the CLI.
 */
export const dataDirLayout = {
  /** The metadata store: taps, runs, state, pipelines, jobs, events, sealed secrets, keys. */
  metadata: 'tapline.db',
  /** The secret store's key, made at first start (mode 0600) unless TAPLINE_SECRET_KEY is set. */
  secretKey: 'secret.key',
  /** Held by the one server using the directory. */
  lock: 'server.lock',
  /** Records runs have staged for their jobs. */
  staging: 'staging',
  /** The sqlite destination's warehouse when a pipeline names no other file. */
  warehouse: 'warehouse.db',
} as const;
