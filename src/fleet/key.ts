// The store key of a password login: the server, the user and a slow hash of the password, so
// that a wrong password or another user never finds (and never disturbs) a stored session,
// while the key itself gives nothing away: it is an scrypt digest salted with the server URL and
// the user name, and the password is never stored.
import { scrypt } from 'node:crypto';

/** scrypt cost: 2^14 (16 MiB, ~50 ms on the 2-core test machine), once per login() call. */
const N = 1 << 14;

export function sessionKey(url: string, username: string, password: string): Promise<string> {
  const salt = `vim25-soap/session-key/v1\0${url}\0${username}`;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 32, { N, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) => {
      if (err) reject(err);
      else resolve(`v1-${key.toString('base64url')}`);
    });
  });
}
