// Starts the vcsim harness (test/vcsim) as a child process and talks to its /_harness/ routes.
// Used by vitest's global setup, the demo, the benchmark and the harness's own tests.
//
// Besides vcsim's SOAP API at info.url the harness serves (all sessions are vcsim's own):
// - ExtensionManager (Register/Find/Update/UnregisterExtension, SetExtensionCertificate,
//   extensionList); LoginExtensionByCertificate accepts only the certificate whose SHA-1
//   thumbprint SetExtensionCertificate stored, LoginExtensionBySubjectName only a client
//   certificate whose subject, as an RFC 4514 string in reverse DER order
//   ("CN=ext,OU=Plugins,O=Example,C=US"), equals Extension.subjectName (blanks after commas
//   and the case of attribute types ignored).
// - the sdkTunnel: CONNECT sdkTunnel:8089 on 127.0.0.1:info.tunnelPort.
// - POST /api/ui/vcenter/session/clone-ticket (vSphere Client plug-in flow; tokens from
//   harnessUiToken) and POST/GET/DELETE /api/session (unified VIM/vAPI sessions).
// - vAPI under /api/ (test/vcsim/vapi_api.go) over govmomi's vAPI simulator: cis/tagging
//   (categories, tags, tag associations) and content/library, in /api answer shapes; the
//   session is vmware-api-session-id, a vim session id (unified sessions) or, after
//   harnessSetVapiUnified(info, false) (a server before 8.0 U3), only an id from POST /api/session.
// - ESX mode (`esx: true`): vcsim's ESX model, about.apiType "HostAgent", SessionManager
//   ha-sessionmgr, PropertyCollector ha-property-collector, datacenter ha-datacenter, no STS
//   (stsUrl ''). A real ESXi has no ExtensionManager: the harness keeps one (and the certificate
//   login guards) so that a client's direct mutual-TLS login path can be tested.
// - Users: info.username/info.password (an administrator, vcsim's Login) and
//   info.viewerUsername/info.viewerPassword (Login accepts it too; unprivileged: the harness's
//   SessionManager additions answer it NoPermission where a Sessions.* privilege is needed;
//   '' when HarnessOptions.username is 'viewer').
// - SessionManager, on vcsim's own sessions (test/vcsim/session_methods.go):
//   - properties defaultLocale ('en'), supportedLocaleList, messageLocaleList and message
//     (set by UpdateServiceMessage; '' clears it). A locale outside supportedLocaleList is
//     InvalidLocale in Login, LoginBySSPI, LoginByToken, LoginExtensionBy*, ImpersonateUser,
//     SetLocale.
//   - LoginBySSPI, a test token scheme (tokens are base64 of UTF-8; see sspiFirstToken and
//     sspiResponseToken):
//       base64("round1:<user>")            -> SSPIChallenge fault, base64Token = base64("challenge:<nonce>")
//       base64("response:<nonce>:<user>")  -> LoginBySSPIResponse, a session for <user>
//     <user> is info.username or info.viewerUsername. Unknown user, a nonce not issued, spent
//     (a nonce answers once, right or wrong) or older than 5 min, another user in the answer,
//     non-base64 or unknown token: InvalidLogin. `sspi: false` / harnessSetSspi(info, false):
//     NotSupported.
//   - ImpersonateUser(userName, locale?): caller needs Sessions.ImpersonateUser (not the viewer:
//     NoPermission); userName must have an active session (or be a registered extension key),
//     else InvalidLogin; the caller's session (same key/cookie) takes that userName and fullName.
//   - AcquireLocalTicket(userName): known user (else InvalidLogin) -> {userName,
//     passwordFilePath}; Login(userName, file content) succeeds once within 10 min.
//     localTickets 'remote' -> InvalidRequest, 'unsupported' -> NotSupported.
//   - SetLocale, UpdateServiceMessage (Sessions.GlobalMessage), TerminateSession (vcsim's list
//     semantics: sequential, stops at the first unknown id with NotFound, own session
//     InvalidArgument; clone tickets count as unknown ids), SessionIsActive (true/false, no fault;
//     NotImplemented in ESX mode, as vcsim).
//   - AcquireGenericServiceTicket(SessionManagerHttpServiceRequestSpec{method?, url}) for a
//     datastore file URL (/folder/<path>?dcPath=…&dsName=…; method httpGet (default), httpHead,
//     httpPut, httpPost), else InvalidArgument. The ticket (sslThumbprint = info.sha1) is good for
//     one request with that method, path and query, sent with the cookie vmware_cgi_ticket=<id>.
//     /folder/ answers 401 without a valid session cookie or ticket.
// - SSO (test/vcsim/sts.go): the STS at info.stsUrl (config.vpxd.sso.sts.uri). Bearer Issue is
//   vcsim's: any credentials, one canned assertion for Administrator@VSPHERE.LOCAL (its
//   Conditions are from 2018; the RSTR Lifetime is current), and LoginByToken accepts any bearer
//   assertion with a NameID. Holder-of-key Issue (wst:KeyType …/200512/PublicKey) is the
//   harness's: the request must be signed (RSA, XML-DSig, exc-c14n) over its wsu:Timestamp and
//   soapenv:Body with the key of the wsse:BinarySecurityToken (X509v3) it carries, and carry a
//   wsse:UsernameToken of a harness user (username/current password, or the viewer) or, without
//   one, a certificate set by SetExtensionCertificate (the subject is then the extension key);
//   else a wst:FailedAuthentication fault. Its assertion (unsigned) confirms holder-of-key with
//   that certificate; lifetime from the RST's Lifetime/Expires (1 s .. 1 h, default 5 min; an
//   Expires already past: a token valid at no instant).
//   LoginByToken with a holder-of-key assertion must be signed the same way (Timestamp + Body,
//   by wsu:Id) with that certificate's key, the assertion unaltered and unexpired; else
//   InvalidLogin (a token may log in any number of times while valid). The signature is
//   checked with xmlsec1 (Debian package xmlsec1). Renew is vcsim's (the canned bearer token).
//
// - vCenter 8.0 U1's VI/JSON API beside SOAP (test/vcsim/vi_json.go): POST
//   /sdk/vim25/{release}/{Type}/{moId}/{Method} with the parameters as a JSON object, GET
//   /sdk/vim25/{release}/{Type}/{moId}/{property}; releases info.viJsonReleases (8.0.1.0 up to
//   info.apiVersion; others 404 with a JSON error). Each JSON request becomes the SOAP request a
//   SOAP client would send (captured for the conformance check like SOAP requests) and takes the
//   SOAP requests' way through the harness, fault switches included; the answer comes back as
//   JSON: the return value (200), 204 for void/unset, a fault as HTTP 500 {_typeName, ...fields,
//   faultstring}. _typeName on every data object, anyType values boxed ({_typeName: 'int',
//   _value: 5}), longs exact. The session is the vmware-api-session-id header, the same vcsim
//   session as the vmware_soap_session cookie (a login answers the header). Refused before the
//   simulator: 400 InvalidRequest (bad JSON, unknown property or type, wrong kind), 415, 404
//   (unknown method), 405. `viJson: false` / harnessSetViJson(info, false): every /sdk/vim25/
//   path 404s, as on a vCenter without the JSON API (the default in ESX mode: it is vCenter's).
// - For the inventory layer (test/vcsim/inventory.go, task_history.go; helpers in inventory.ts):
//   paged RetrievePropertiesEx with ContinueRetrievePropertiesEx and CancelRetrievePropertiesEx
//   (maxObjects, or a server-side page size set by /_harness/page-size), properties answered as
//   NoPermission in missingSet (/_harness/deny), ViewManager.viewList kept, running tasks that
//   end when told (/_harness/task, /_harness/task-update), VM questions (/_harness/question),
//   and TaskManager.CreateCollectorForTasks with its TaskHistoryCollector.
//
// The fault switches, the password and restart act on every client of a harness: a test that
// flips them starts a harness of its own (test/fixtures.ts: ownHarness, startHarness) instead
// of using the shared one from inject('harness'), which no test may change (checked at the end
// of the run by test/conformance/shared-harness.test.ts).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where harnesses capture SOAP requests when HarnessOptions.captureDir is not given. */
export const CAPTURE_ENV = 'VIM25_HARNESS_CAPTURE_DIR';

export interface HarnessInfo {
  /** https://127.0.0.1:PORT/sdk */
  url: string;
  /** PEM of the harness's self-signed certificate (its own CA). */
  certFile: string;
  sha1: string;
  sha256: string;
  apiVersion: string;
  instanceUuid: string;
  username: string;
  /** The startup password; see harnessSetPassword. */
  password: string;
  /** Port of the sdkTunnel CONNECT proxy (vCenter's port 80). */
  tunnelPort: number;
  /** Plain-HTTP base URL serving only /_harness/ routes, untouched by the fault switches. */
  controlUrl: string;
  /** about.apiType: 'VirtualCenter', or 'HostAgent' in ESX mode. */
  apiType: string;
  /** The STS (config.vpxd.sso.sts.uri), https://127.0.0.1:PORT/sts/STSService/vsphere.local; '' in ESX mode. */
  stsUrl: string;
  /** A second user Login accepts, without the Sessions.* privileges ('' when disabled). */
  viewerUsername: string;
  viewerPassword: string;
  /** The harness's state directory (certificate, local-ticket password files). */
  stateDir: string;
  /** The VI/JSON releases served under /sdk/vim25/ (8.0.1.0 up to apiVersion; [] below 8.0.1.0). */
  viJsonReleases: string[];
}

/** Inventory per datacenter, mapped to vcsim's Model fields (defaults: vcsim's VPX model). */
export interface HarnessInventory {
  datacenters?: number;
  /** Clusters per datacenter. */
  clusters?: number;
  hostsPerCluster?: number;
  /** Standalone hosts per datacenter. */
  standaloneHosts?: number;
  /** VMs per standalone host and per cluster (vcsim's Model.Machine). */
  vms?: number;
}

export interface HarnessOptions {
  wsdlDir?: string | undefined;
  apiVersion?: string;
  /** Go duration, e.g. '500ms', '30m'. */
  idleTimeout?: string;
  /**
   * Write every SOAP request body here, for the conformance check. Defaults to
   * $VIM25_HARNESS_CAPTURE_DIR, which the test run's global setup sets, so every harness a test
   * starts is checked too (there each distinct body once: the check reads them only to validate);
   * '' turns capturing off (for peers' or deliberately odd traffic).
   */
  captureDir?: string;
  username?: string;
  password?: string;
  inventory?: HarnessInventory;
  /** vcsim's ESX model (about.apiType 'HostAgent'); the inventory's vms are the host's VMs, the rest does not apply. */
  esx?: boolean;
  /** about.instanceUuid (the plug-in clone-ticket endpoint compares vc_guid with it). */
  instanceUuid?: string;
  /** false: LoginBySSPI answers NotSupported (default true; harnessSetSspi switches at run time). */
  sspi?: boolean;
  /** How AcquireLocalTicket treats callers (default 'local'; harnessSetLocalTickets switches). */
  localTickets?: LocalTicketMode;
  /** false: no VI/JSON API, every /sdk/vim25/ path 404s (default true, false with `esx`; harnessSetViJson switches). */
  viJson?: boolean;
}

export type LocalTicketMode = 'local' | 'remote' | 'unsupported';

export interface HarnessStats {
  methods: Record<string, number>;
  soapActions: Record<string, number>;
  /** Live sessions in vcsim's SessionManager, clone tickets not counted. */
  sessions: number;
  /** Clone tickets handed out and not yet redeemed (vcsim keeps them in its session table). */
  cloneTickets: number;
  tunnels: number;
  tunnelsRefused: number;
  pluginRequests: number;
  apiSessionRequests: number;
  /** Connections accepted on the main listener, dropped ones included. */
  connections: number;
  dropped: number;
  stalled: number;
  unavailableAnswers: number;
  pending: { drop: number; dropStage: DropStage; dropMethod: string; stallSeconds: number; unavailable: number };
  sspiSupported: boolean;
  /** LoginBySSPI handshakes completed (a session was created). */
  sspiLogins: number;
  localTicketMode: LocalTicketMode;
  localTickets: { issued: number; redeemed: number; outstanding: number };
  /** Generic service tickets: issued by AcquireGenericServiceTicket, redeemed or refused on /folder/. */
  serviceTickets: { issued: number; redeemed: number; refused: number; outstanding: number };
  /** Holder-of-key tokens issued/refused by the STS, WS-Security signatures verified/rejected. */
  sts: { hokIssued: number; hokRefused: number; signaturesVerified: number; signaturesRejected: number };
  /** The VI/JSON API: served or not, its releases, JSON requests handed on and refused by the harness itself, property GETs handed on (of the requests). */
  viJson: { enabled: boolean; releases: string[]; requests: number; refused: number; propertyReads: number };
  /** The vAPI endpoints under /api/ (test/vcsim/vapi_api.go): unified sessions or not, requests served and refused (401), ids made by POST /api/session. */
  vapi: { unified: boolean; requests: number; refused: number; apiSessions: number; tokenSessions: { made: number; refused: number } };
}

export type DropStage = 'accept' | 'request' | 'answer';

/** Set by the first build in a test run (global setup), inherited by the test workers. */
const BINARY_ENV = 'VIM25_HARNESS_BINARY';

/**
 * Builds the harness if needed (cached by scripts/build-vcsim.sh) and returns the binary's path.
 * Once per run: the script's checks cost a shell, dpkg-query, go and a hash per call, and each
 * process a test worker starts costs a fork of the worker's whole address space.
 */
export function buildHarness(): string {
  let binary = process.env[BINARY_ENV];
  if (!binary || !existsSync(binary)) {
    binary = execFileSync('bash', [`${ROOT}scripts/build-vcsim.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    process.env[BINARY_ENV] = binary;
  }
  return binary;
}

function harnessArgs(options: HarnessOptions): string[] {
  const args: string[] = [];
  const opt = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') args.push(`-${flag}`, String(value));
  };
  opt('wsdl', options.wsdlDir);
  opt('api-version', options.apiVersion);
  opt('idle-timeout', options.idleTimeout);
  opt('capture-dir', options.captureDir ?? process.env[CAPTURE_ENV]);
  if (options.captureDir === undefined && process.env[CAPTURE_ENV]) args.push('-capture-distinct');
  opt('username', options.username);
  opt('password', options.password);
  const inv = options.inventory ?? {};
  opt('datacenters', inv.datacenters);
  opt('clusters', inv.clusters);
  opt('hosts', inv.hostsPerCluster);
  opt('standalone-hosts', inv.standaloneHosts);
  opt('vms', inv.vms);
  if (options.esx) args.push('-esx');
  opt('instance-uuid', options.instanceUuid);
  if (options.sspi !== undefined) args.push(`-sspi=${options.sspi}`);
  opt('local-tickets', options.localTickets);
  if (options.viJson !== undefined) args.push(`-vi-json=${options.viJson}`);
  return args;
}

export class Harness {
  private constructor(readonly info: HarnessInfo, private readonly child: ChildProcess) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const child = spawn(buildHarness(), harnessArgs(options), { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once('line', (l) => {
        rl.close();
        resolve(l);
      });
      child.once('exit', (code) => reject(new Error(`vcsim harness exited with ${code} before it was ready`)));
      child.once('error', reject);
    });
    return new Harness(JSON.parse(line) as HarnessInfo, child);
  }

  get ca(): Buffer {
    return readFileSync(this.info.certFile);
  }

  /** Closing stdin stops the harness; it also stops by itself if this process dies. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * A JSON request to the harness's test-only routes. /_harness/ paths go to the control port
 * when the harness has one (so fault switches never hit them); anything else goes to the main
 * URL, verifying its certificate.
 */
export function harnessRequest<T>(info: HarnessInfo, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const control = path.startsWith('/_harness/') && info.controlUrl;
  const target = new URL(path, control ? info.controlUrl : new URL(info.url));
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
  return new Promise<T>((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text}`));
        else resolve((text ? JSON.parse(text) : undefined) as T);
      });
    };
    const req = control
      ? http.request(target, { method, headers, agent: false }, onResponse)
      : https.request(target, { method, headers, ca: readFileSync(info.certFile), agent: false }, onResponse);
    req.on('error', reject);
    req.end(payload);
  });
}

export const harnessStats = (info: HarnessInfo): Promise<HarnessStats> => harnessRequest(info, 'GET', '/_harness/stats');
/** Clears counters and fault switches and restores the startup password; sessions stay. */
export const harnessReset = (info: HarnessInfo): Promise<void> => harnessRequest(info, 'POST', '/_harness/reset');
/** From now on Login (and POST /api/session, ui-token) accepts only this password. */
export const harnessSetPassword = (info: HarnessInfo, password: string): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/password', { password });
/** Logs in to vcsim (a real session) and mints a vSphere Client plug-in session token for it. */
export const harnessUiToken = (
  info: HarnessInfo,
  credentials: { username: string; password: string } = { username: info.username, password: info.password },
): Promise<{ token: string; sessionId: string }> => harnessRequest(info, 'POST', '/_harness/ui-token', credentials);
/**
 * Drops the next `count` new connections right after accept ('accept': connections a client
 * already holds open are not affected), the next `count` SOAP requests right after reading
 * them, unexecuted ('request': works on pooled connections too, and leaves the outcome unknown
 * to the client), or the next `count` SOAP answers, the calls executed ('answer': the connection
 * closes instead of answering; a call already in flight when this is armed counts too). With
 * `method` ('request' and 'answer' only), only calls of that method count.
 */
export const harnessDrop = (info: HarnessInfo, count = 1, stage: DropStage = 'accept', method?: string): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/drop', { count, stage, ...(method !== undefined && { method }) });
/** Executes the next SOAP request at once but answers it `seconds` later. */
export const harnessStall = (info: HarnessInfo, seconds: number): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/stall', { seconds });
/** Answers the next `count` SOAP requests with an HTTP 503 HTML page. */
export const harnessUnavailable = (info: HarnessInfo, count = 1): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/unavailable', { count });
/** Ends every session and closes every connection; URL, port and certificate stay. */
export const harnessRestart = (info: HarnessInfo): Promise<{ sessionsEnded: number; connectionsClosed: number }> =>
  harnessRequest(info, 'POST', '/_harness/restart');
/** From now on LoginBySSPI is served (true) or answered NotSupported (false); reset restores the startup value. */
export const harnessSetSspi = (info: HarnessInfo, supported: boolean): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/sspi', { supported });
/** How AcquireLocalTicket treats callers from now on; reset restores the startup value. */
export const harnessSetLocalTickets = (info: HarnessInfo, mode: LocalTicketMode): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/local-tickets', { mode });

/** From now on the VI/JSON API is served (true) or every /sdk/vim25/ path 404s (false); reset restores the startup value. */
/** false: /api/ refuses vim session ids, as a server before vSphere 8.0 U3 (ids made by POST /api/session still work); reset restores true. */
export const harnessSetVapiUnified = (info: HarnessInfo, enabled: boolean): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/vapi-unified', { enabled });

export const harnessSetViJson = (info: HarnessInfo, enabled: boolean): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/vi-json', { enabled });

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
/** The first LoginBySSPI token of the harness's SSPI scheme: base64("round1:<user>"). */
export const sspiFirstToken = (user: string): string => b64(`round1:${user}`);
/**
 * The answer to an SSPIChallenge's base64Token (base64("challenge:<nonce>")):
 * base64("response:<nonce>:<user>"). Throws when the challenge is not of the scheme.
 */
export function sspiResponseToken(challenge: string, user: string): string {
  const m = /^challenge:(.+)$/.exec(Buffer.from(challenge, 'base64').toString('utf8'));
  if (!m) throw new Error('not a challenge of the harness SSPI scheme');
  return b64(`response:${m[1]}:${user}`);
}
