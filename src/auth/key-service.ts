import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TaplineError } from '../errors/catalogue.js';
import type { ApiKey, MetadataStore, Role } from '../store/store.js';

export const roles: readonly Role[] = ['viewer', 'operator', 'admin'];
const rank: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function allows(role: Role, needed: Role): boolean {
  return rank[role] >= rank[needed];
}

/**
 * Keys are 32 random bytes, so a fast hash is enough: there is nothing to guess from, and a
 * slow password hash would only slow every request. Only the hash is stored.
 */
function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function sameHash(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

export type Caller = { name: string; role: Role };

/** API keys: created once and shown once, listed by name, revoked by name. */
export class KeyService {
  private readonly configuredHash: string | null;

  constructor(
    private readonly store: MetadataStore,
    configuredKey: string | undefined,
  ) {
    this.configuredHash = configuredKey ? hashKey(configuredKey) : null;
  }

  /** Authentication is on as soon as any key exists, stored or configured. */
  async enabled(): Promise<boolean> {
    return this.configuredHash !== null || (await this.store.apiKeys.count()) > 0;
  }

  async create(name: string, role: Role): Promise<{ key: string; apiKey: ApiKey }> {
    const key = `tl_${randomBytes(32).toString('base64url')}`;
    const apiKey = await this.store.apiKeys.create({ name, role, hash: hashKey(key) });
    if (!apiKey) throw new TaplineError('validation_failed', `an API key named '${name}' exists`);
    return { key, apiKey };
  }

  async list() {
    const keys = await this.store.apiKeys.list();
    return keys.map(({ name, role, createdAt, lastUsedAt }) => ({
      name,
      role,
      createdAt,
      lastUsedAt,
    }));
  }

  async revoke(name: string): Promise<boolean> {
    return this.store.apiKeys.delete(name);
  }

  async identify(key: string | undefined): Promise<Caller | undefined> {
    if (!key) return undefined;
    const hash = hashKey(key);
    if (this.configuredHash !== null && sameHash(hash, this.configuredHash)) {
      return { name: 'TAPLINE_API_KEY', role: 'admin' };
    }
    const stored = await this.store.apiKeys.findByHash(hash);
    if (!stored || !sameHash(hash, stored.hash)) return undefined;
    await this.store.apiKeys.touch(stored.name);
    return { name: stored.name, role: stored.role };
  }
}
