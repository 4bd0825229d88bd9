// The store key of a password login: the server, the user and a slow hash of the password, so
// that a wrong password or another user never finds (and never disturbs) a stored session,
// while the key itself gives nothing away: it is an scrypt digest salted with the server URL and
// the user name, and the password is never stored.
import { createHmac, randomBytes, scrypt } from 'node:crypto';

/** scrypt cost: 2^14 (16 MiB, ~50 ms on the 2-core test machine), once per identity and process. */
const N = 1 << 14;

/**
 * Keys this process derived for the identities it used last, by a keyed digest of their inputs
 * (the digest's key never leaves the process): a service that makes a client per job, all with
 * one identity and one store, pays the scrypt once instead of once per client. The process holds
 * the password anyway, for re-login; this holds nothing easier to attack than that.
 */
const derived = new Map<string, Promise<string>>();
const MAX_DERIVED = 4;
const memoKey = randomBytes(32);

export function sessionKey(url: string, username: string, password: string): Promise<string> {
  const id = createHmac('sha256', memoKey).update(JSON.stringify([url, username, password])).digest('base64');
  let key = derived.get(id);
  if (key) {
    derived.delete(id); // to the end: the identities used last are kept
  } else {
    key = derive(url, username, password);
    key.catch(() => derived.delete(id));
    if (derived.size >= MAX_DERIVED) derived.delete(derived.keys().next().value!);
  }
  derived.set(id, key);
  return key;
}

function derive(url: string, username: string, password: string): Promise<string> {
  const salt = `vim25-soap/session-key/v1\0${url}\0${username}`;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 32, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) => {
      if (err) reject(err);
      else resolve(`v1-${key.toString('base64url')}`);
    });
  });
}
