// A whole session logged at debug level: no secret may appear in the log, in any error, or in
// util.inspect / JSON.stringify of the client.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VimClient, type Logger } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, harnessUiToken } from '../harness/vcsim.ts';
import { extensionCertificate } from '../harness/tls-fixtures.ts';
import { withBundle } from '../fixtures.ts';

describe('secrets stay out of logs, errors and inspect output', () => {
  it('across password login, clone tickets, the plug-in flow and failing logins', async () => {
    const password = 'Sup3r-Secret-Passw0rd';
    const h = await Harness.start({ wsdlDir: bundleIfPresent(), password });
    const lines: string[] = [];
    const errors: unknown[] = [];
    // JSON.stringify reads every field (getters included), as a structured logger would.
    const log = (level: string) => (m: string, d?: Record<string, unknown>) => lines.push(`${level} ${m} ${JSON.stringify(d ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const options = { tls: { ca: h.ca }, ...withBundle(), logger };
    const secrets: string[] = [password, 'wrong-Passw0rd-xyz'];
    try {
      const a = await VimClient.connect(h.info.url, options);
      await a.login({ username: h.info.username, password });
      secrets.push(a.sessionId!);
      const ticket = await a.acquireCloneTicket();
      secrets.push(ticket);
      const b = await VimClient.connect(h.info.url, options);
      await b.cloneSession(ticket);
      secrets.push(b.sessionId!);
      errors.push(await b.cloneSession(ticket).catch((e: unknown) => e)); // second redemption fails
      errors.push(await a.login({ username: h.info.username, password: 'wrong-Passw0rd-xyz' }).catch((e: unknown) => e));
      const { token } = await harnessUiToken(h.info, { username: h.info.username, password });
      secrets.push(token);
      const p = await VimClient.fromPluginSession({ sessionToken: token, uiApiEndpoint: `${new URL(h.info.url).origin}/api/ui`, vcGuid: h.info.instanceUuid, ...options });
      secrets.push(p.sessionId!);
      errors.push(await VimClient.fromPluginSession({ sessionToken: `${token}x`, uiApiEndpoint: `${new URL(h.info.url).origin}/api/ui`, vcGuid: h.info.instanceUuid, ...options }).catch((e: unknown) => e));
      const ext = extensionCertificate({ commonName: 'secret-test' });
      secrets.push(ext.key.split('\n')[5]!);
      errors.push(await a.loginByCertificate({ extensionKey: 'nobody', cert: ext.cert, key: ext.key }).catch((e: unknown) => e));
      errors.push(await a.loginByCertificate({ extensionKey: 'nobody', pfx: Buffer.from('not a pfx'), passphrase: 'my-Passphrase-123' }).catch((e: unknown) => e));
      secrets.push('my-Passphrase-123');

      const shown = [
        lines.join('\n'),
        ...errors.map((e) => `${String(e)}\n${(e as Error)?.stack}\n${inspect(e, { depth: 10 })}\n${JSON.stringify(e)}`),
        ...[a, b, p].map((c) => [
          inspect(c, { depth: 10, showHidden: true }), JSON.stringify(c),
          // Enumeration and the jar itself, as a careless log line would show them.
          inspect({ ...c }, { depth: 10, showHidden: true }), JSON.stringify({ ...c }), inspect(Object.entries(c), { depth: 10 }),
          JSON.stringify(c.cookieJar), inspect(c.cookieJar, { depth: 10 }),
        ].join('\n')),
      ].join('\n');
      expect(errors.every((e) => e instanceof Error)).toBe(true);
      expect(lines.length).toBeGreaterThan(5);
      // Arguments were logged, with their secrets redacted.
      expect(lines.join('\n')).toContain('"password":"[redacted]"');
      expect(lines.join('\n')).toContain('"cloneTicket":"[redacted]"');
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(8);
        expect(shown.includes(secret), `a secret leaked: ${secret.slice(0, 4)}…`).toBe(false);
      }
      await Promise.all([a.close(), b.close(), p.close()]);
    } finally {
      await h.stop();
    }
  });
});
