import { TaplineError } from '../errors/catalogue.js';
import type { MetadataStore } from '../store/store.js';
import { Masker } from './masker.js';
import type { SecretBox } from './secret-box.js';

/**
 * Field names a secret may not use: the script's environment already has them from tapline
 * (its allow-list, params, state, limits, the Python interpreter's own settings), and a secret
 * must not silently replace them.
 */
const reservedField = new RegExp(
  '^(PATH|HOME|LANG|TZ|LC_\\w*|(HTTPS?|NO|ALL)_PROXY|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|' +
    'CURL_CA_BUNDLE|MALLOC_ARENA_MAX|PYTHON\\w*|TAP_\\w*|DATRIS_\\w*)$',
  'i',
);

/** Named sets of credentials; values go in and reach scripts, and are never read back out. */
export class SecretService {
  /** Every secret value and API key: for the server's own log lines. */
  private readonly everything: Masker;
  /** The API keys alone: for runs of taps that name no secret. */
  private readonly keysOnly: Masker;
  /** Per secret, the values it has held since start and the API keys: for its taps' runs. */
  private readonly bySecret = new Map<string, Masker>();

  constructor(
    private readonly store: MetadataStore,
    private readonly box: SecretBox,
    private readonly apiKeys: string[] = [],
  ) {
    this.everything = new Masker(apiKeys);
    this.keysOnly = new Masker(apiKeys);
  }

  /** A masker for every secret value and every API key, kept current: for server log lines. */
  masker(): Masker {
    return this.everything;
  }

  /**
   * The masker for a run of a tap naming `secret` (or none): that secret's values and the API
   * keys. A script can only leak what it was given, and masking other secrets' values would
   * corrupt unrelated records ("2015" in a date, "rain" in a forecast). The masker is kept
   * current, so a value set while the run goes is masked too.
   */
  maskerFor(secret: string | null): Masker {
    if (secret === null) return this.keysOnly;
    let masker = this.bySecret.get(secret);
    if (!masker) {
      masker = new Masker(this.apiKeys);
      this.bySecret.set(secret, masker);
    }
    return masker;
  }

  /** Teaches the maskers every stored value; called once at start. */
  async loadMaskers(): Promise<void> {
    for (const stored of await this.store.secrets.list()) {
      const values = this.box.unseal(stored.sealed, `secret '${stored.name}'`);
      this.learn(stored.name, Object.values(values));
    }
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
    // Learnt before they are stored: a run that reads them must find its masker knowing them.
    this.learn(name, Object.values(values));
    const stored = await this.store.secrets.put(name, Object.keys(values), this.box.seal(values));
    return {
      name: stored.name,
      fields: stored.fields,
      createdAt: stored.createdAt,
      updatedAt: stored.updatedAt,
    };
  }

  /** Refused while taps name the secret, unless forced (those taps then fail to run). */
  async delete(name: string, force = false): Promise<void> {
    if (!(await this.store.secrets.get(name))) {
      throw new TaplineError('secret_not_found', `secret '${name}' does not exist`);
    }
    const taps = (await this.store.taps.list())
      .filter((tap) => tap.secret === name)
      .map((tap) => tap.name);
    if (taps.length > 0 && !force) {
      throw new TaplineError(
        'secret_in_use',
        `secret '${name}' is used by ${taps.length === 1 ? 'tap' : 'taps'} ` +
          `${taps.map((tap) => `'${tap}'`).join(', ')}; give ${taps.length === 1 ? 'it' : 'them'} ` +
          'another secret first, or force the delete (a tap whose secret is gone fails to run)',
        { taps },
      );
    }
    await this.store.secrets.delete(name);
    // The deleted values stay masked until restart: a script may still hold and print them.
  }

  /** The fields of a secret, or undefined when it does not exist. */
  async values(name: string): Promise<Record<string, string> | undefined> {
    const stored = await this.store.secrets.get(name);
    return stored ? this.box.unseal(stored.sealed, `secret '${name}'`) : undefined;
  }

  private learn(name: string, values: string[]): void {
    this.everything.add(values);
    this.maskerFor(name).add(values);
  }
}
