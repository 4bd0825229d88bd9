// How stores that leave the process (files, Redis) write a session id: a fingerprint to compare
// on (compare-and-set without decrypting), then the id itself or, with an encryption key,
// AES-256-GCM of it bound to its store key (a sealed value moved to another key does not open).
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { SessionStoreError } from './store.ts';

export type EncryptionKey = Uint8Array | string;

function keyBytes(key: EncryptionKey): Buffer {
  const bytes = typeof key === 'string'
    ? (/^[0-9a-f]{64}$/i.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64'))
    : Buffer.from(key);
  if (bytes.length !== 32) throw new TypeError('encryptionKey must be 32 bytes (a Uint8Array, 64 hex digits or base64)');
  return bytes;
}

export class SessionCodec {
  readonly #key: Buffer | undefined;

  constructor(encryptionKey: EncryptionKey | undefined) {
    this.#key = encryptionKey === undefined ? undefined : keyBytes(encryptionKey);
  }

  get encrypted(): boolean {
    return this.#key !== undefined;
  }

  /** What identifies `id` in a stored value; a keyed HMAC when encrypting, so equal ids cannot be spotted across stores. */
  fingerprint(id: string): string {
    const h = this.#key ? createHmac('sha256', this.#key) : createHash('sha256');
    return h.update(`vim25-soap/session-fp\0${id}`).digest('base64url').slice(0, 22);
  }

  /** `<fingerprint>.<id or sealed id>` */
  encode(storeKey: string, id: string): string {
    return `${this.fingerprint(id)}.${this.#key ? this.#seal(storeKey, id) : id}`;
  }

  decode(storeKey: string, raw: string): string {
    const dot = raw.indexOf('.');
    if (dot < 0) throw new SessionStoreError('corrupt', 'session store: a stored value is not in the expected format');
    const payload = raw.slice(dot + 1);
    const id = this.#key ? this.#open(storeKey, payload) : payload;
    if (this.fingerprint(id) !== raw.slice(0, dot)) throw new SessionStoreError('corrupt', 'session store: a stored value does not match its fingerprint');
    return id;
  }

  static fingerprintOf(raw: string): string {
    return raw.slice(0, Math.max(0, raw.indexOf('.')));
  }

  #seal(storeKey: string, id: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key!, iv);
    c.setAAD(Buffer.from(storeKey));
    const ct = Buffer.concat([c.update(id, 'utf8'), c.final()]);
    return `g1~${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64url')}`;
  }

  #open(storeKey: string, payload: string): string {
    if (!payload.startsWith('g1~')) throw new SessionStoreError('corrupt', 'session store: a stored value is not encrypted (wrong store or no encryptionKey where it was written with one)');
    const bytes = Buffer.from(payload.slice(3), 'base64url');
    try {
      const d = createDecipheriv('aes-256-gcm', this.#key!, bytes.subarray(0, 12));
      d.setAAD(Buffer.from(storeKey));
      d.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([d.update(bytes.subarray(28)), d.final()]).toString('utf8');
    } catch {
      throw new SessionStoreError('corrupt', 'session store: a stored value does not decrypt with this encryptionKey');
    }
  }
}
