import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dataDirLayout } from '../config/data-dir-layout.js';

const algorithm = 'aes-256-gcm';
const keyBytes = 32;
const ivBytes = 12;

/** The secret store's key is malformed, or not the key the stored secrets were sealed with. */
export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

/**
 * Encrypts secret values at rest with AES-256-GCM. The key comes from TAPLINE_SECRET_KEY
 * (base64 or hex of 32 bytes) or from `<dataDir>/secret.key`, created at first start with mode
 * 0600. Losing the key file loses the secrets: they cannot be read back without it.
 */
export class SecretBox {
  private constructor(
    private readonly key: Buffer,
    /** Where the key came from, for messages: TAPLINE_SECRET_KEY or the key file's path. */
    private readonly source: string,
  ) {}

  static open(dataDir: string, configuredKey?: string): SecretBox {
    if (configuredKey) {
      return new SecretBox(parseKey(configuredKey, 'TAPLINE_SECRET_KEY'), 'TAPLINE_SECRET_KEY');
    }
    const file = path.join(dataDir, dataDirLayout.secretKey);
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, randomBytes(keyBytes).toString('base64') + '\n', {
        mode: 0o600,
        flag: 'wx',
      });
    }
    chmodSync(file, 0o600);
    return new SecretBox(parseKey(readFileSync(file, 'utf8').trim(), file), file);
  }

  seal(values: Record<string, string>): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv(algorithm, this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64')).join('.');
  }

  /** The values of a sealed secret; `name` only names it in the error when the key is wrong. */
  unseal(sealed: string, name = 'a stored secret'): Record<string, string> {
    const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64'));
    if (!iv || !tag || !body) throw new Error('sealed secret is malformed');
    const decipher = createDecipheriv(algorithm, this.key, iv);
    decipher.setAuthTag(tag);
    let text: string;
    try {
      text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      // GCM's own message ("unable to authenticate data") says nothing a user can act on.
      throw new SecretKeyError(
        `the secret key from ${this.source} cannot open ${name}: it is not the key the ` +
          'secrets were saved with. Give that key (in TAPLINE_SECRET_KEY or ' +
          '<dataDir>/secret.key); without it the stored secrets cannot be read',
      );
    }
    return JSON.parse(text) as Record<string, string>;
  }
}

const hexKey = /^[0-9a-fA-F]{64}$/;
const base64Key = /^[A-Za-z0-9+/_-]{43}=?$/;

function parseKey(text: string, source: string): Buffer {
  if (hexKey.test(text)) return Buffer.from(text, 'hex');
  const key = base64Key.test(text) ? Buffer.from(text, 'base64') : null;
  if (key?.length === keyBytes) return key;
  throw new SecretKeyError(
    `${source} must hold a 32-byte key written as 64 hex digits or as base64 (44 characters); ` +
      'make one with: openssl rand -base64 32',
  );
}
