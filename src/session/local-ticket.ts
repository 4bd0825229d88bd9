// Local tickets: AcquireLocalTicket names a one-time password file that the server wrote on its
// own machine, readable only by the user it was issued for. The path comes from the server, so
// it is untrusted: a server that named /home/me/.ssh/id_rsa would get that file back as the
// Login password. Nothing is read unless the server is on this host and the path is a real
// ticket file: a regular file (not a symlink) directly inside a ticket directory, owned by
// root or by the user running this process, and small.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute } from 'node:path';
import { VimError } from '../errors.ts';

/** Where ESXi's hostd writes local tickets. vCenter's directory is not documented publicly: pass it. */
export const DEFAULT_LOCAL_TICKET_DIRECTORIES: readonly string[] = ['/var/run/vmware-hostd-ticket'];

/** A ticket file holds a short password; anything larger is not one. */
const MAX_TICKET_BYTES = 4096;

export type LocalTicketProblem = 'notLocal' | 'outsideTicketDirectory' | 'notRegularFile' | 'wrongOwner' | 'tooLarge';

/** A local-ticket login refused before anything was read. */
export class LocalTicketError extends VimError {
  override name = 'LocalTicketError';

  constructor(readonly reason: LocalTicketProblem, message: string) {
    super(message);
  }
}

async function resolvedDirectories(directories: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const d of directories) {
    try {
      out.add(await realpath(d));
    } catch {
      // A directory that does not exist here holds no tickets.
    }
  }
  return out;
}

/** The password in the ticket file at `path`, after every check passed. */
export async function readLocalTicket(path: string, directories: readonly string[]): Promise<string> {
  const shown = JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path);
  if (typeof path !== 'string' || !isAbsolute(path) || basename(path) === '..' || basename(path) === '.') {
    throw new LocalTicketError('outsideTicketDirectory', `the server named ${shown} as its ticket file, which is not an absolute file path`);
  }
  const allowed = await resolvedDirectories(directories);
  let parent: string;
  try {
    parent = await realpath(dirname(path));
  } catch {
    throw new LocalTicketError('outsideTicketDirectory', `the server named ${shown} as its ticket file, in no directory of this host`);
  }
  if (!allowed.has(parent)) {
    throw new LocalTicketError('outsideTicketDirectory', `the server named ${shown} as its ticket file, outside the local-ticket directories (${[...directories].join(', ')})`);
  }
  // O_NOFOLLOW: a symlink planted in the directory is refused by the open itself, and the checks
  // below are made on the very file that was opened, so it cannot be swapped in between.
  let handle;
  try {
    handle = await open(`${parent}/${basename(path)}`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new LocalTicketError('notRegularFile', `the ticket file ${shown} is a symbolic link`);
    throw new LocalTicketError('notRegularFile', `the ticket file ${shown} cannot be opened (${code ?? 'error'})`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new LocalTicketError('notRegularFile', `the ticket file ${shown} is not a regular file`);
    const me = process.getuid?.();
    if (st.uid !== 0 && st.uid !== me) throw new LocalTicketError('wrongOwner', `the ticket file ${shown} belongs to uid ${st.uid}, neither root nor this process's user`);
    if (st.size > MAX_TICKET_BYTES) throw new LocalTicketError('tooLarge', `the ticket file ${shown} is ${st.size} bytes, too large for a ticket`);
    const buf = Buffer.alloc(MAX_TICKET_BYTES + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_TICKET_BYTES) throw new LocalTicketError('tooLarge', `the ticket file ${shown} grew past ${MAX_TICKET_BYTES} bytes`);
    return buf.toString('utf8', 0, bytesRead).trim();
  } finally {
    await handle.close();
  }
}
