// The reference under the bench's short-process row (issue 34): what any Node client of vim25
// pays at least. The same four SOAP requests as our `once` (RetrieveServiceContent, Login,
// CurrentTime, Logout) written by hand on node:https, one kept-alive socket, the server's
// certificate verified against CA-FILE; no library, no XML parser (the answers are read with
// regular expressions, enough for these four). Built-ins come from process.getBuiltinModule, as
// in our driver, so the two processes differ by the library only.
//
//   node raw_https_bench.mjs URL CA-FILE USER PASSWORD once
//
// Prints one JSON line, as the peers do.
const https = process.getBuiltinModule('node:https');
const { readFileSync } = process.getBuiltinModule('node:fs');

const [url, caFile, user, password, workload] = process.argv.slice(2);
if (workload !== 'once') {
  console.error('usage: node raw_https_bench.mjs URL CA-FILE USER PASSWORD once');
  process.exit(64);
}
const u = new URL(url);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(caFile) });
const xml = (s) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const SI = '<_this type="ServiceInstance">ServiceInstance</_this>';
let action = 'urn:vim25';
let cookie;

/** One SOAP request; the answer's body, or an Error for a status other than 200. */
function soap(method, body) {
  const envelope = '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
    `<${method} xmlns="urn:vim25">${body}</${method}></soapenv:Body></soapenv:Envelope>`;
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: action, ...(cookie && { Cookie: cookie }) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${method}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve({ text, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(envelope);
  });
}

const content = await soap('RetrieveServiceContent', SI);
const sessionManager = /<sessionManager type="SessionManager">([^<]+)</.exec(content.text)?.[1];
const apiVersion = /<apiVersion>([^<]+)</.exec(content.text)?.[1];
if (!sessionManager || !apiVersion) throw new Error('RetrieveServiceContent: no sessionManager or apiVersion in the answer');
action = `urn:vim25/${apiVersion}`;
const sm = `<_this type="SessionManager">${xml(sessionManager)}</_this>`;
const login = await soap('Login', `${sm}<userName>${xml(user)}</userName><password>${xml(password)}</password>`);
cookie = (login.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('vmware_soap_session='));
if (!cookie) throw new Error('Login: no vmware_soap_session cookie');
const now = await soap('CurrentTime', SI);
const currentTime = /<returnval>([^<]+)</.exec(now.text)?.[1];
await soap('Logout', sm);
agent.destroy();
console.log(JSON.stringify({ protocol: 'soap', currentTime }));
