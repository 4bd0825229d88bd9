// Whether a session a store handed over belongs to the identity this client logs in as. The
// server names a session's user in UserSession.userName, in its own form: vCenter answers
// `VSPHERE.LOCAL\Administrator` for a login as `administrator@vsphere.local`, ESXi the name as
// given. Names are compared without case (vCenter's identity sources ignore it), with the two
// spellings of a domain taken as one; a login name without a domain leaves the domain to the
// server, so only the user part can be compared then (README, "Sessions for a fleet").

interface Name {
  user: string;
  domain: string | undefined;
}

function parse(name: string): Name {
  const n = name.trim().toLowerCase();
  const slash = n.indexOf('\\');
  if (slash >= 0) return { domain: n.slice(0, slash), user: n.slice(slash + 1) };
  const at = n.lastIndexOf('@');
  if (at > 0) return { user: n.slice(0, at), domain: n.slice(at + 1) };
  return { user: n, domain: undefined };
}

/** True when the server's `sessionUser` is the user a login as `loginName` yields. */
export function sameUser(loginName: string, sessionUser: unknown): boolean {
  if (typeof sessionUser !== 'string' || sessionUser === '') return false;
  const want = parse(loginName);
  const got = parse(sessionUser);
  if (want.user === '' || want.user !== got.user) return false;
  return want.domain === undefined || want.domain === got.domain;
}
