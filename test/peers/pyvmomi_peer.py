#!/usr/bin/python3
"""pyvmomi interoperability peer: the same commands as test/peers/govmomi.

  pyvmomi_peer.py --url https://host/sdk [--ca FILE | --insecure]
                  [--user U --password P | --session ID] COMMAND

  login [--logout]           log in, print the session as JSON
  clone-ticket               AcquireCloneTicket, print the ticket (the session stays open:
                             ending it would invalidate the ticket on a real vCenter)
  clone-session --ticket T   CloneSession with T, print the new session as JSON

The session JSON is {"key","userName","loginTime","sessionId"}, sessionId being the
vmware_soap_session cookie. Faults go to stderr as "fault: <type>: <message>", exit status 2;
other errors exit 1.

Run it with Debian's /usr/bin/python3 (python3-pyvmomi 6.7), not a pyenv python3 from PATH.
pyvmomi 6.7 has no disableSslCertValidation; certificate checks are set up through an
ssl.SSLContext, which every pyvmomi since 6.0 accepts.
"""
import argparse
import json
import re
import ssl
import sys
from urllib.parse import urlsplit

from pyVim.connect import SmartConnect, SmartStubAdapter
from pyVmomi import vim, vmodl


def ssl_context(args):
    if args.insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=args.ca) if args.ca else ssl.create_default_context()


def cookie_value(stub):
    # pyvmomi keeps the raw Set-Cookie string; the id is the quoted or bare cookie value.
    m = re.search(r'vmware_soap_session="?([^";]+)', stub.cookie or '')
    return m.group(1) if m else None


def print_session(si):
    # RetrieveContent, not si.content: reading the content property needs a session before
    # CloneSession, and pyVim.connect uses RetrieveContent too.
    s = si.RetrieveContent().sessionManager.currentSession
    if s is None:
        raise SystemExit('not logged in')
    print(json.dumps({
        'key': s.key,
        'userName': s.userName,
        'loginTime': s.loginTime.isoformat(),
        'sessionId': cookie_value(si._stub),
    }))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--url', required=True)
    p.add_argument('--user', default='')
    p.add_argument('--password', default='')
    p.add_argument('--session', help='use this existing session id instead of logging in')
    trust = p.add_mutually_exclusive_group()
    trust.add_argument('--ca', help='PEM file of CA certificates to trust (default: the system store)')
    trust.add_argument('--insecure', action='store_true', help='skip server certificate verification')
    sub = p.add_subparsers(dest='command', required=True)
    login = sub.add_parser('login')
    login.add_argument('--logout', action='store_true')
    sub.add_parser('clone-ticket')
    clone = sub.add_parser('clone-session')
    clone.add_argument('--ticket', required=True)
    args = p.parse_args()

    u = urlsplit(args.url)
    host, port, path = u.hostname, u.port or 443, u.path or '/sdk'
    ctx = ssl_context(args)

    def anonymous():
        stub = SmartStubAdapter(host=host, port=port, path=path, sslContext=ctx)
        return vim.ServiceInstance('ServiceInstance', stub)

    def authenticated():
        if args.session:
            si = anonymous()
            si._stub.cookie = 'vmware_soap_session="%s"' % args.session
            return si
        return SmartConnect(host=host, port=port, path=path, user=args.user, pwd=args.password, sslContext=ctx)

    try:
        if args.command == 'login':
            si = authenticated()
            print_session(si)
            if args.logout:
                si.RetrieveContent().sessionManager.Logout()
        elif args.command == 'clone-ticket':
            si = authenticated()
            print(si.RetrieveContent().sessionManager.AcquireCloneTicket())
        elif args.command == 'clone-session':
            si = anonymous()
            si.RetrieveContent().sessionManager.CloneSession(args.ticket)
            print_session(si)
    except vmodl.MethodFault as f:
        print('fault: %s: %s' % (f._wsdlName, f.msg or ''), file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - a CLI reports and exits
        print('error: %s: %s' % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
