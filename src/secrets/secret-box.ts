import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const algorithm = 'aes-256-gcm';
const keyBytes = 32;
const ivBytes = 12;

/**
 * Encrypts secret values at rest with AES-256-GCM. The key comes from TAPLINE_SECRET_KEY
 * (base64 or hex of 32 bytes) or from `<dataDir>/secret.key`, created at first start with mode
 * 0600. Losing the key file loses the secrets: they cannot be read back without it.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static open(dataDir: string, configuredKey?: string): SecretBox {
    if (configuredKey) return new SecretBox(parseKey(configuredKey));
    const file = path.join(dataDir, 'secret.key');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, randomBytes(keyBytes).toString('base64') + '\n', {
        mode: 0o600,
        flag: 'wx',
      });
    }
    chmodSync(file, 0o600);
    return new SecretBox(parseKey(readFileSync(file, 'utf8').trim()));
  }

  seal(values: Record<string, string>): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv(algorithm, this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64')).join('.');
  }

  unseal(sealed: string): Record<string, string> {
    const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64'));
    if (!iv || !tag || !body) throw new Error('sealed secret is malformed');
    const decipher = createDecipheriv(algorithm, this.key, iv);
    decipher.setAuthTag(tag);
    const text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    return JSON.parse(text) as Record<string, string>;
  }
}

function parseKey(text: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : Buffer.from(text, 'base64');
  if (key.length !== keyBytes) {
    throw new Error('the secret key must be 32 bytes, given as 64 hex digits or base64');
  }
  return key;
}
