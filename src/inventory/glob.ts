// Inventory paths as govc reads them: `/DC0/vm/web-*` (absolute, from the root folder),
// `vm/web-*` (relative to the datacenter), one glob per level with `*` (any run of characters)
// and `?` (one character), and `...` for any number of levels. A `/` inside an object's name is
// `%2f` on the server, so it never splits a level.

export type PathSegment = { kind: 'glob'; source: string; test: (name: string) => boolean } | { kind: 'anyDepth' };

export interface InventoryPath {
  absolute: boolean;
  segments: PathSegment[];
}

/** A whole-name matcher for one level's glob. */
export function globMatcher(glob: string): (name: string) => boolean {
  if (!/[*?]/.test(glob)) return (name) => name === glob;
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`, 's');
  return (name) => re.test(name);
}

/** True for a pattern that names a path (has a `/`), false for a bare name, glob or moref id. */
export function isPath(pattern: string): boolean {
  return pattern.includes('/');
}

export function parseInventoryPath(path: string): InventoryPath {
  const absolute = path.startsWith('/');
  // Empty levels (`//`, a trailing `/`) and `.` add nothing, as in govc.
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const segments: PathSegment[] = [];
  for (const p of parts) {
    if (p === '...') {
      if (segments[segments.length - 1]?.kind !== 'anyDepth') segments.push({ kind: 'anyDepth' });
    } else {
      segments.push({ kind: 'glob', source: p, test: globMatcher(p) });
    }
  }
  return { absolute, segments };
}
