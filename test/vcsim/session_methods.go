package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The SessionManager methods vcsim 0.24 lacks (LoginBySSPI, ImpersonateUser, AcquireLocalTicket,
// SetLocale, UpdateServiceMessage), the locale properties, and fixes where vcsim's differ from
// the reference (../shared/seeds/session-manager-reference.txt). Sessions stay vcsim's own:
//
//   - Logins the harness decides itself (LoginBySSPI, Login with a local ticket or as the viewer)
//     are handed to vcsim's SessionManager.LoginByToken, rewritten to carry the user the harness
//     authenticated, so vcsim creates the session, sets the cookie and posts the event; the
//     answer is renamed back (LoginByTokenResponse -> LoginBySSPIResponse, LoginResponse).
//   - Methods acting on the caller's session (ImpersonateUser, SetLocale, and the checked
//     UpdateServiceMessage, TerminateSession, SessionIsActive, AcquireGenericServiceTicket) are
//     re-addressed to sessionExtras, a managed object of ours in vcsim's registry, so that vcsim's
//     dispatcher runs them with its own Context: the caller's real session (NotAuthenticated
//     without one, as vcsim answers), changed through Context.SetSession, vcsim's own API.
//
// Privileges: every user is an administrator, as in vcsim, except the viewer (-viewer), which
// lacks Sessions.ImpersonateUser, Sessions.TerminateSession, Sessions.ValidateSession and
// Sessions.GlobalMessage. Only these additions check privileges; vcsim's own methods do not.

const (
	extrasType  = "HarnessSessionManager"
	extrasValue = "harness-session-manager"
)

// Locales. supportedLocaleList lists what Login & co. accept (anything else is InvalidLocale);
// a session's messageLocale is its locale if listed in messageLocaleList, else its language if
// listed, else the default.
var (
	defaultLocale       = "en"
	supportedLocaleList = []string{"de", "de_DE", "en", "en_GB", "en_US", "es", "es_ES", "fr", "fr_CA", "fr_FR", "it", "it_IT", "ja", "ja_JP", "ko", "ko_KR", "zh_CN", "zh_TW"}
	messageLocaleList   = []string{"de", "en", "es", "fr", "it", "ja", "ko", "zh_CN", "zh_TW"}
)

func installLocales(sm *simulator.SessionManager) {
	sm.DefaultLocale = defaultLocale
	sm.SupportedLocaleList = append([]string(nil), supportedLocaleList...)
	sm.MessageLocaleList = append([]string(nil), messageLocaleList...)
}

func validLocale(l string) bool { return l == "" || contains(supportedLocaleList, l) }

func messageLocale(l string) string {
	switch {
	case contains(messageLocaleList, l):
		return l
	case len(l) > 2 && contains(messageLocaleList, l[:2]):
		return l[:2]
	}
	return defaultLocale
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// privileged tells whether a session of user holds the Sessions.* privileges.
func (h *harness) privileged(user string) bool {
	return h.viewerName == "" || user != h.viewerName
}

// knownUser is a user the harness can authenticate (SSPI, local tickets).
func (h *harness) knownUser(user string) bool {
	return user != "" && (user == h.username || user == h.viewerName)
}

// sessionMethods routes the SessionManager calls the harness adds or corrects.
func (h *harness) sessionMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := soapCallOf(r)
		if call == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch call.method {
		case "LoginBySSPI", "AcquireLocalTicket", "Login", "LoginByToken", "LoginExtensionByCertificate", "LoginExtensionBySubjectName",
			"ImpersonateUser", "SetLocale", "UpdateServiceMessage", "TerminateSession", "SessionIsActive", "AcquireGenericServiceTicket":
		default:
			next.ServeHTTP(w, r)
			return
		}
		method, err := simulator.UnmarshalBody(types.TypeFunc(), call.body)
		if err != nil || method.This != *h.content.SessionManager {
			next.ServeHTTP(w, r) // vcsim answers: a decoding fault, or not the SessionManager
			return
		}
		switch req := method.Body.(type) {
		case *types.LoginBySSPI:
			h.loginBySSPI(next, w, r, req)
		case *types.AcquireLocalTicket:
			h.acquireLocalTicket(w, req)
		case *types.Login:
			h.loginWithPassword(next, w, r, req)
		case *types.LoginByToken:
			if !validLocale(req.Locale) {
				writeLocaleFault(w, req.Locale)
				return
			}
			h.loginByToken(next, w, r, call)
		case *types.LoginExtensionByCertificate:
			withLocale(next, w, r, req.Locale)
		case *types.LoginExtensionBySubjectName:
			withLocale(next, w, r, req.Locale)
		default:
			// Methods on the caller's session: run by sessionExtras under vcsim's dispatcher.
			body := thisElement.ReplaceAll(call.body, []byte(`<${1}_this type="`+extrasType+`">`+extrasValue+`</${1}_this>`))
			forward(next, w, r, call.method, body, map[string]string{
				`type="` + extrasType + `">` + extrasValue + `<`: `type="SessionManager">` + h.content.SessionManager.Value + `<`,
			})
		}
	})
}

var thisElement = regexp.MustCompile(`<([A-Za-z_][\w.-]*:)?_this\b[^>]*>[^<]*</(?:[A-Za-z_][\w.-]*:)?_this>`)

func withLocale(next http.Handler, w http.ResponseWriter, r *http.Request, locale string) {
	if !validLocale(locale) {
		writeLocaleFault(w, locale)
		return
	}
	next.ServeHTTP(w, r)
}

// loginWithPassword: a local ticket's one-time password, the viewer's password, else vcsim's Login.
func (h *harness) loginWithPassword(next http.Handler, w http.ResponseWriter, r *http.Request, req *types.Login) {
	if !validLocale(req.Locale) {
		writeLocaleFault(w, req.Locale)
		return
	}
	switch {
	case h.local.redeem(req.UserName, req.Password):
		h.loginAs(next, w, r, req.UserName, req.Locale, "Login")
	case h.viewerName != "" && req.UserName == h.viewerName && req.Password == h.viewerPass:
		h.loginAs(next, w, r, req.UserName, req.Locale, "Login")
	default:
		next.ServeHTTP(w, r)
	}
}

// loginAs has vcsim's LoginByToken create a session for user, answering as method would.
// vcsim refuses it, as it does Login, when the request already carries a session.
func (h *harness) loginAs(next http.Handler, w http.ResponseWriter, r *http.Request, user, locale, method string) {
	loc := ""
	if locale != "" {
		loc = "<locale>" + html.EscapeString(locale) + "</locale>"
	}
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><Security><Assertion><Subject><NameID>%s</NameID></Subject></Assertion></Security></soapenv:Header><soapenv:Body><LoginByToken xmlns="urn:vim25"><_this type="SessionManager">%s</_this>%s</LoginByToken></soapenv:Body></soapenv:Envelope>`,
		html.EscapeString(user), html.EscapeString(h.content.SessionManager.Value), loc)
	forward(next, w, r, "LoginByToken", []byte(body), map[string]string{"LoginByTokenResponse": method + "Response"})
}

// forward hands next the request with another body, replacing strings in the answer.
func forward(next http.Handler, w http.ResponseWriter, r *http.Request, method string, body []byte, replace map[string]string) {
	r2 := r.Clone(context.WithValue(r.Context(), soapCallKey{}, &soapCall{method: method, body: body}))
	r2.Body = nopBody(body)
	r2.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r2)
	out := rec.Body.Bytes()
	for from, to := range replace {
		out = bytes.ReplaceAll(out, []byte(from), []byte(to))
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// writeResponse answers a call with inner as the content of its <methodResponse>.
func writeResponse(w http.ResponseWriter, method, inner string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><%sResponse xmlns="urn:vim25">%s</%sResponse></soapenv:Body></soapenv:Envelope>`,
		method, inner, method)
}

// sessionExtras is the managed object vcsim dispatches the session-bound additions to.
// Its methods run with vcsim's Context, whose Session is the caller's (a copy of vcsim's
// table entry; SetSession writes it back).
type sessionExtras struct {
	Self types.ManagedObjectReference
	h    *harness
}

func (s *sessionExtras) Reference() types.ManagedObjectReference { return s.Self }

func installSessionExtras(h *harness) {
	simulator.Map.Put(&sessionExtras{Self: types.ManagedObjectReference{Type: extrasType, Value: extrasValue}, h: h})
}

func (s *sessionExtras) noPermission(privilege string) *soap.Fault {
	return simulator.Fault("Permission to perform this operation was denied.", &types.NoPermission{
		Object: *s.h.content.SessionManager, PrivilegeId: privilege,
	})
}

// ImpersonateUser: the caller needs Sessions.ImpersonateUser; userName must be the user of a
// currently active session (clone tickets do not count) or, failing that, a registered extension
// key; the caller's session (same key, same cookie) takes that user's name and full name, and
// the locale given (else keeps its own).
func (s *sessionExtras) ImpersonateUser(ctx *simulator.Context, req *types.ImpersonateUser) soap.HasFault {
	body := new(methods.ImpersonateUserBody)
	if !s.h.privileged(ctx.Session.UserName) {
		body.Fault_ = s.noPermission("Sessions.ImpersonateUser")
		return body
	}
	if !validLocale(req.Locale) {
		body.Fault_ = simulator.Fault("locale "+req.Locale+" is not supported", new(types.InvalidLocale))
		return body
	}
	fullName, found := "", false
	for _, us := range s.activeSessions(ctx) {
		if us.UserName == req.UserName {
			fullName, found = us.FullName, true
			break
		}
	}
	if !found {
		if ext, _ := s.h.ext.find(req.UserName); ext != nil {
			fullName, found = req.UserName, true
		}
	}
	if !found {
		body.Fault_ = simulator.Fault("Login failure: "+req.UserName+" has no active session and is no extension", new(types.InvalidLogin))
		return body
	}
	next := *ctx.Session
	next.UserName, next.FullName = req.UserName, fullName
	if req.Locale != "" {
		next.Locale, next.MessageLocale = req.Locale, messageLocale(req.Locale)
	}
	ctx.SetSession(next, false)
	body.Res = &types.ImpersonateUserResponse{Returnval: ctx.Session.UserSession}
	return body
}

// activeSessions is vcsim's session table without the clone tickets it keeps in it.
func (s *sessionExtras) activeSessions(ctx *simulator.Context) []types.UserSession {
	view := ctx.Session.Get(*s.h.content.SessionManager).(*simulator.SessionManager)
	var out []types.UserSession
	for _, us := range view.SessionList {
		if !s.h.tickets.has(us.Key) {
			out = append(out, us)
		}
	}
	return out
}

func (s *sessionExtras) SetLocale(ctx *simulator.Context, req *types.SetLocale) soap.HasFault {
	body := new(methods.SetLocaleBody)
	if req.Locale == "" || !validLocale(req.Locale) {
		body.Fault_ = simulator.Fault("locale "+req.Locale+" is not supported", new(types.InvalidLocale))
		return body
	}
	next := *ctx.Session
	next.Locale, next.MessageLocale = req.Locale, messageLocale(req.Locale)
	ctx.SetSession(next, false)
	body.Res = new(types.SetLocaleResponse)
	return body
}

// UpdateServiceMessage sets SessionManager.message (an empty message clears it).
func (s *sessionExtras) UpdateServiceMessage(ctx *simulator.Context, req *types.UpdateServiceMessage) soap.HasFault {
	body := new(methods.UpdateServiceMessageBody)
	if !s.h.privileged(ctx.Session.UserName) {
		body.Fault_ = s.noPermission("Sessions.GlobalMessage")
		return body
	}
	var msg *string
	if req.Message != "" {
		m := req.Message
		msg = &m
	}
	// vcsim answers SessionManager property reads from a copy of this struct, made per read.
	simulator.Map.SessionManager().Message = msg
	body.Res = new(types.UpdateServiceMessageResponse)
	return body
}

// TerminateSession is vcsim's (sequential; own session InvalidArgument, unknown id NotFound,
// the ones before it terminated), except that an unredeemed clone ticket, which vcsim keeps in
// its session table, is an unknown session id, as on vCenter.
func (s *sessionExtras) TerminateSession(ctx *simulator.Context, req *types.TerminateSession) soap.HasFault {
	if !s.h.privileged(ctx.Session.UserName) {
		return &methods.TerminateSessionBody{Fault_: s.noPermission("Sessions.TerminateSession")}
	}
	ids := req.SessionId
	for i, id := range ids {
		if s.h.tickets.has(id) {
			prefix := *req
			prefix.SessionId = ids[:i]
			if res := simulator.Map.SessionManager().TerminateSession(ctx, &prefix); res.Fault() != nil {
				return res
			}
			return &methods.TerminateSessionBody{Fault_: simulator.Fault("session "+id+" not found", new(types.NotFound))}
		}
	}
	return simulator.Map.SessionManager().TerminateSession(ctx, req)
}

// SessionIsActive is vcsim's (false for an unknown id or another user's; NotImplemented in
// ESX mode), except that a clone ticket is no active session.
func (s *sessionExtras) SessionIsActive(ctx *simulator.Context, req *types.SessionIsActive) soap.HasFault {
	if !s.h.privileged(ctx.Session.UserName) {
		return &methods.SessionIsActiveBody{Fault_: s.noPermission("Sessions.ValidateSession")}
	}
	if s.h.tickets.has(req.SessionID) {
		r := *req
		r.SessionID = "" // no session has an empty key
		req = &r
	}
	return simulator.Map.SessionManager().SessionIsActive(ctx, req)
}

// AcquireGenericServiceTicket: vcsim mints the ticket; the harness checks the spec (an HTTP
// request for a datastore file, see service_tickets.go), adds the server's SHA-1 thumbprint
// and remembers the ticket for the one request it is valid for.
func (s *sessionExtras) AcquireGenericServiceTicket(ctx *simulator.Context, req *types.AcquireGenericServiceTicket) soap.HasFault {
	body := new(methods.AcquireGenericServiceTicketBody)
	spec, err := datastoreRequestSpec(req.Spec)
	if err != nil {
		body.Fault_ = simulator.Fault(err.Error(), &types.InvalidArgument{InvalidProperty: "spec"})
		return body
	}
	res := simulator.Map.SessionManager().AcquireGenericServiceTicket(req)
	if res.Fault() != nil {
		return res
	}
	ticket := res.(*methods.AcquireGenericServiceTicketBody).Res.Returnval
	ticket.SslThumbprint = s.h.sha1
	s.h.svcTickets.add(ticket.Id, spec)
	body.Res = &types.AcquireGenericServiceTicketResponse{Returnval: ticket}
	return body
}

func writeLocaleFault(w http.ResponseWriter, locale string) {
	writeFault(w, "locale "+locale+" is not supported", "InvalidLocale")
}
