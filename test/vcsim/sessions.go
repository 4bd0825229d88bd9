package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The REST routes (vAPI sessions, the plug-in endpoint, ui-token) act on sessions by making
// real SOAP calls to the simulator in-process, with the caller's session id as the cookie.
// That way every session they create, read or end is one of vcsim's own, with its checks
// (password, clone-ticket single use, idle timeout) and its bookkeeping, and none is faked.
// The calls skip the observer and the fault switches: they are not traffic a client sent.

// inProcess hands a request straight to the simulator's handler.
type inProcess struct {
	handler    http.Handler
	remoteAddr string
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	req.RemoteAddr = t.remoteAddr // vcsim records it as the session's ipAddress
	rec := httptest.NewRecorder()
	t.handler.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res, nil
}

// soapClient is a SOAP client for the simulator on behalf of the client that sent from,
// carrying sessionID as its vmware_soap_session cookie when given.
func (h *harness) soapClient(from *http.Request, sessionID string) *soap.Client {
	c := soap.NewClient(h.sdkURL, true)
	c.Transport = inProcess{handler: h.sim, remoteAddr: from.RemoteAddr}
	c.Namespace = "urn:" + vim25.Namespace
	c.Version = h.apiVersion
	c.UserAgent = from.UserAgent()
	if sessionID != "" {
		c.Jar.SetCookies(h.sdkURL, []*http.Cookie{{Name: soap.SessionCookieName, Value: sessionID}})
	}
	return c
}

func (h *harness) login(from *http.Request, user, password string) (types.UserSession, error) {
	res, err := methods.Login(from.Context(), h.soapClient(from, ""), &types.Login{
		This: *h.content.SessionManager, UserName: user, Password: password,
	})
	if err != nil {
		return types.UserSession{}, err
	}
	return res.Returnval, nil
}

// currentSession returns the session sessionID names, or nil when vcsim knows no such session
// (it then answers RetrieveProperties on SessionManager as for an anonymous caller).
func (h *harness) currentSession(from *http.Request, sessionID string) (*types.UserSession, error) {
	if sessionID == "" {
		return nil, nil
	}
	res, err := methods.RetrievePropertiesEx(from.Context(), h.soapClient(from, sessionID), &types.RetrievePropertiesEx{
		This: h.content.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			PropSet:   []types.PropertySpec{{Type: "SessionManager", PathSet: []string{"currentSession"}}},
			ObjectSet: []types.ObjectSpec{{Obj: *h.content.SessionManager}},
		}},
	})
	if err != nil || res.Returnval == nil {
		return nil, err
	}
	for _, oc := range res.Returnval.Objects {
		for _, p := range oc.PropSet {
			switch s := p.Val.(type) {
			case types.UserSession:
				return &s, nil
			case *types.UserSession:
				return s, nil
			}
		}
	}
	return nil, nil
}

func (h *harness) logout(from *http.Request, sessionID string) error {
	_, err := methods.Logout(from.Context(), h.soapClient(from, sessionID), &types.Logout{This: *h.content.SessionManager})
	return err
}

func (h *harness) acquireCloneTicket(from *http.Request, sessionID string) (string, error) {
	res, err := methods.AcquireCloneTicket(from.Context(), h.soapClient(from, sessionID), &types.AcquireCloneTicket{This: *h.content.SessionManager})
	if err != nil {
		return "", err
	}
	h.tickets.add(res.Returnval, sessionID)
	return res.Returnval, nil
}

// faultName is the vim25 fault type behind err, or "" when err is not a SOAP fault.
func faultName(err error) string {
	if err == nil || !soap.IsSoapFault(err) {
		return ""
	}
	if f, ok := soap.ToSoapFault(err).VimFault().(types.BaseMethodFault); ok {
		return typeNameOf(f)
	}
	return ""
}

// internalClient talks to the simulator through Service.RoundTrip, as vcsim's own inventory
// code does: it runs under vcsim's internal session, which is in no session list, so reading
// or clearing the session list through it counts and ends only the clients' sessions.
func (h *harness) internalClient(ctx context.Context) (*vim25.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.internal == nil {
		c, err := vim25.NewClient(ctx, h.svc)
		if err != nil {
			return nil, err
		}
		h.internal = c
	}
	return h.internal, nil
}

// sessionKeys lists every entry of vcsim's session table, clone tickets included (vcsim keeps
// an unredeemed ticket as a copy of the session under the ticket's value).
func (h *harness) sessionKeys(ctx context.Context) ([]string, error) {
	c, err := h.internalClient(ctx)
	if err != nil {
		return nil, err
	}
	res, err := methods.RetrievePropertiesEx(ctx, c, &types.RetrievePropertiesEx{
		This: h.content.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			PropSet:   []types.PropertySpec{{Type: "SessionManager", PathSet: []string{"sessionList"}}},
			ObjectSet: []types.ObjectSpec{{Obj: *h.content.SessionManager}},
		}},
	})
	if err != nil {
		return nil, err
	}
	var keys []string
	if res.Returnval != nil {
		for _, oc := range res.Returnval.Objects {
			for _, p := range oc.PropSet {
				var list []types.UserSession
				switch v := p.Val.(type) {
				case types.ArrayOfUserSession:
					list = v.UserSession
				case *types.ArrayOfUserSession:
					list = v.UserSession
				}
				for _, s := range list {
					keys = append(keys, s.Key)
				}
			}
		}
	}
	return keys, nil
}

// sessionCounts splits vcsim's session table into sessions and outstanding clone tickets.
func (h *harness) sessionCounts(ctx context.Context) (sessions, tickets int, err error) {
	keys, err := h.sessionKeys(ctx)
	if err != nil {
		return 0, 0, err
	}
	tickets = h.tickets.retain(keys)
	return len(keys) - tickets, tickets, nil
}

// endAllSessions is what a restart does to vcsim: TerminateSession on every entry, through
// the SessionManager itself.
func (h *harness) endAllSessions(ctx context.Context) (int, error) {
	keys, err := h.sessionKeys(ctx)
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	c, err := h.internalClient(ctx)
	if err != nil {
		return 0, err
	}
	_, err = methods.TerminateSession(ctx, c, &types.TerminateSession{This: *h.content.SessionManager, SessionId: keys})
	if err != nil {
		return 0, err
	}
	h.tickets.retain(nil)
	return len(keys), nil
}

// ticketSet remembers the clone tickets handed out, and the session each was acquired in, so
// stats can tell them from sessions and a ticket can die with its session.
type ticketSet struct {
	mu   sync.Mutex
	keys map[string]string // ticket -> the session it was acquired in ("" if unknown)
}

func newTicketSet() *ticketSet { return &ticketSet{keys: map[string]string{}} }

func (t *ticketSet) add(ticket, source string) {
	t.mu.Lock()
	t.keys[ticket] = source
	t.mu.Unlock()
}

// has tells whether ticket is a clone ticket handed out and not known to be redeemed.
func (t *ticketSet) has(ticket string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.keys[ticket]
	return ok
}

// source is the session a ticket was acquired in.
func (t *ticketSet) source(ticket string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.keys[ticket]
	return s, ok
}

// retain forgets tickets no longer in vcsim's table (redeemed, expired, terminated) and
// returns how many are left.
func (t *ticketSet) retain(present []string) int {
	in := make(map[string]bool, len(present))
	for _, k := range present {
		in[k] = true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.keys {
		if !in[k] {
			delete(t.keys, k)
		}
	}
	return len(t.keys)
}

var (
	returnval   = regexp.MustCompile(`<returnval>([^<]+)</returnval>`)
	cloneTicket = regexp.MustCompile(`<(?:[\w.-]+:)?cloneTicket>([^<]+)</(?:[\w.-]+:)?cloneTicket>`)
)

// trackTickets notes the ticket in every AcquireCloneTicket answer a client receives over
// /sdk, with the session it came from. vcsim keeps a ticket as a copy of that session which
// outlives it; the reference says a ticket "is also invalidated when the corresponding
// session is closed or expires", so CloneSession with a ticket whose session is gone finds
// the ticket removed first (and vcsim answers InvalidLogin).
func (h *harness) trackTickets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := soapCallOf(r)
		switch {
		case call != nil && call.method == "AcquireCloneTicket":
			source := ""
			if c, err := r.Cookie("vmware_soap_session"); err == nil {
				source = strings.Trim(c.Value, `"`)
			}
			tee := &teeWriter{ResponseWriter: w}
			next.ServeHTTP(tee, r)
			if m := returnval.FindSubmatch(tee.buf.Bytes()); m != nil {
				h.tickets.add(string(m[1]), source)
			}
			return
		case call != nil && call.method == "CloneSession":
			if m := cloneTicket.FindSubmatch(call.body); m != nil {
				h.dropOrphanedTicket(r.Context(), string(m[1]))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// dropOrphanedTicket ends a ticket whose session is no longer in vcsim's table.
func (h *harness) dropOrphanedTicket(ctx context.Context, ticket string) {
	source, ok := h.tickets.source(ticket)
	if !ok || source == "" {
		return
	}
	keys, err := h.sessionKeys(ctx)
	if err != nil {
		return
	}
	for _, k := range keys {
		if k == source {
			return
		}
	}
	if c, err := h.internalClient(ctx); err == nil {
		_, _ = methods.TerminateSession(ctx, c, &types.TerminateSession{This: *h.content.SessionManager, SessionId: []string{ticket}})
	}
}

type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}

func typeNameOf(v interface{}) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	return t.Name()
}
