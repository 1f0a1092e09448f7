import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tapline-box-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const values = { STRIPE_KEY: 'sk_live_9f8e7d6c5b4a', NOTE: 'ünïcode "quoted" \\ back' };
const keyHex = 'a1'.repeat(32);
const keyBase64 = Buffer.from(keyHex, 'hex').toString('base64');

describe('SecretBox', () => {
  it('seals and unseals values, never holding them in the clear', () => {
    const box = SecretBox.open(freshDir());
    const sealed = box.seal(values);
    expect(box.unseal(sealed)).toEqual(values);
    expect(sealed).not.toContain('sk_live');
    expect(Buffer.from(sealed.split('.')[2]!, 'base64').toString('latin1')).not.toContain(
      'sk_live',
    );
    // A fresh nonce each time: the same values never seal to the same text.
    expect(box.seal(values)).not.toBe(sealed);
  });

  it('creates the key file with mode 0600 and reads the same key back', () => {
    const dataDir = path.join(freshDir(), 'nested', 'data');
    const sealed = SecretBox.open(dataDir).seal(values);
    const keyFile = path.join(dataDir, 'secret.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(SecretBox.open(dataDir).unseal(sealed)).toEqual(values);
  });

  it('takes TAPLINE_SECRET_KEY as 64 hex digits or as base64 of the same 32 bytes', () => {
    const dataDir = freshDir();
    const sealed = SecretBox.open(dataDir, keyHex).seal(values);
    expect(SecretBox.open(dataDir, keyBase64).unseal(sealed)).toEqual(values);
    expect(SecretBox.open(dataDir, keyBase64.replace(/=$/, '')).unseal(sealed)).toEqual(values);
    expect(SecretBox.open(dataDir, keyHex.toUpperCase()).unseal(sealed)).toEqual(values);
    // A configured key makes no key file.
    expect(() => statSync(path.join(dataDir, 'secret.key'))).toThrow();
  });

  it('refuses a key that is not 32 bytes, naming where it came from', () => {
    const malformed = [
      'short',
      'a1'.repeat(31),
      Buffer.alloc(31).toString('base64'),
      '!'.repeat(44),
    ];
    for (const key of malformed) {
      expect(() => SecretBox.open(freshDir(), key), key).toThrow(
        'TAPLINE_SECRET_KEY must hold a 32-byte key written as 64 hex digits or as base64',
      );
    }
    const dataDir = freshDir();
    writeFileSync(path.join(dataDir, 'secret.key'), 'not a key\n');
    expect(() => SecretBox.open(dataDir)).toThrow(
      `${path.join(dataDir, 'secret.key')} must hold a 32-byte key`,
    );
  });

  it('says plainly when the key is not the one the secrets were sealed with', () => {
    const sealed = SecretBox.open(freshDir(), keyHex).seal(values);
    const other = SecretBox.open(freshDir(), 'b2'.repeat(32));
    expect(() => other.unseal(sealed, "secret 'stripe'")).toThrow(
      "the secret key from TAPLINE_SECRET_KEY cannot open secret 'stripe': it is not the key " +
        'the secrets were saved with',
    );
  });
});
