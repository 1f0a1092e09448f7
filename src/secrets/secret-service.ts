import { TaplineError } from '../errors/catalogue.js';
import type { MetadataStore } from '../store/store.js';
import { Masker } from './masker.js';
import type { SecretBox } from './secret-box.js';

/**
 * Field names a secret may not use: the script's environment already has them from tapline
 * (its allow-list, params, state, limits, the Python interpreter's own settings), and a secret
 * must not silently replace them.
 */
const reservedField =
  /^(PATH|HOME|LANG|TZ|LC_\w*|(HTTPS?|NO|ALL)_PROXY|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|MALLOC_ARENA_MAX|PYTHON\w*|TAP_\w*|DATRIS_\w*)$/i;

/** Named sets of credentials; values go in and reach scripts, and are never read back out. */
export class SecretService {
  private current: Masker = new Masker([]);

  constructor(
    private readonly store: MetadataStore,
    private readonly box: SecretBox,
    private readonly extraMaskedValues: string[] = [],
  ) {}

  /** A masker for every stored secret value and the configured API key, kept current. */
  masker(): Masker {
    return this.current;
  }

  async refreshMasker(): Promise<Masker> {
    const values = [...this.extraMaskedValues];
    for (const stored of await this.store.secrets.list()) {
      values.push(...Object.values(this.box.unseal(stored.sealed)));
    }
    this.current = new Masker(values);
    return this.current;
  }

  async list() {
    const secrets = await this.store.secrets.list();
    return secrets.map(({ name, fields, createdAt, updatedAt }) => ({
      name,
      fields,
      createdAt,
      updatedAt,
    }));
  }

  async put(name: string, values: Record<string, string>) {
    const reserved = Object.keys(values).filter((field) => reservedField.test(field));
    if (reserved.length > 0) {
      throw new TaplineError(
        'validation_failed',
        `body.values: ${reserved.join(', ')} would replace a variable tapline sets for every ` +
          'script; name the field differently',
      );
    }
    const stored = await this.store.secrets.put(name, Object.keys(values), this.box.seal(values));
    await this.refreshMasker();
    return {
      name: stored.name,
      fields: stored.fields,
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
    };
  }

  async delete(name: string): Promise<void> {
    if (!(await this.store.secrets.delete(name))) {
      throw new TaplineError('secret_not_found', `secret '${name}' does not exist`);
    }
    // The deleted values stay masked until restart: a script may still hold and print them.
  }

  /** The fields of a secret, or undefined when it does not exist. */
  async values(name: string): Promise<Record<string, string> | undefined> {
    const stored = await this.store.secrets.get(name);
    return stored ? this.box.unseal(stored.sealed) : undefined;
  }
}
