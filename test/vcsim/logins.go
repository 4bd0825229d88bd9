package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"html"
	"io/ioutil"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// LoginBySSPI with a documented test token scheme instead of Windows SSPI (base64 of UTF-8):
//
//	client: base64("round1:<user>")              -> SSPIChallenge fault, base64Token = base64("challenge:<nonce>")
//	client: base64("response:<nonce>:<user>")    -> a session of vcsim's for <user> (LoginBySSPIResponse)
//
// <user> must be a user the harness knows (-username, or the -viewer user); an unknown user in
// round 1, a nonce not issued, already answered or older than 5 minutes, another user in the
// response, a token that is not base64 or in neither form: InvalidLogin. A nonce answers once
// (a wrong response spends it). With SSPI switched off (-sspi=false, POST /_harness/sspi) every
// LoginBySSPI is NotSupported, as on a server without SSPI. Locale: as Login (InvalidLocale).
// A request already carrying a session is refused with InvalidLogin, as vcsim refuses Login.

const sspiNonceLifetime = 5 * time.Minute

type sspiState struct {
	mu        sync.Mutex
	startup   bool
	supported bool
	pending   map[string]sspiNonce
	completed int
}

type sspiNonce struct {
	user    string
	expires time.Time
}

func newSSPI(supported bool) *sspiState {
	return &sspiState{startup: supported, supported: supported, pending: map[string]sspiNonce{}}
}

func (s *sspiState) set(supported bool) {
	s.mu.Lock()
	s.supported = supported
	s.mu.Unlock()
}

func (s *sspiState) reset() {
	s.mu.Lock()
	s.supported = s.startup
	s.completed = 0
	s.mu.Unlock()
}

func (s *sspiState) clearPending() {
	s.mu.Lock()
	s.pending = map[string]sspiNonce{}
	s.mu.Unlock()
}

func (s *sspiState) completedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.completed
}

func (s *sspiState) isSupported() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.supported
}

func (s *sspiState) challenge(user string) string {
	nonce := randomHex(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, n := range s.pending {
		if now.After(n.expires) {
			delete(s.pending, k)
		}
	}
	s.pending[nonce] = sspiNonce{user: user, expires: now.Add(sspiNonceLifetime)}
	return nonce
}

// answer spends nonce and tells whether it was issued, in time, to user.
func (s *sspiState) answer(nonce, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.pending[nonce]
	delete(s.pending, nonce)
	ok = ok && n.user == user && time.Now().Before(n.expires)
	if ok {
		s.completed++
	}
	return ok
}

func (h *harness) loginBySSPI(next http.Handler, w http.ResponseWriter, r *http.Request, req *types.LoginBySSPI) {
	if !h.sspi.isSupported() {
		writeFault(w, "SSPI authentication is not supported by this server", "NotSupported")
		return
	}
	if !validLocale(req.Locale) {
		writeLocaleFault(w, req.Locale)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(req.Base64Token))
	if err != nil || len(raw) == 0 {
		writeFault(w, "Login failure: the SSPI token is not base64", "InvalidLogin")
		return
	}
	token := string(raw)
	switch {
	case strings.HasPrefix(token, "round1:"):
		user := strings.TrimPrefix(token, "round1:")
		if !h.knownUser(user) {
			writeFault(w, "Login failure: unknown SSPI user", "InvalidLogin")
			return
		}
		challenge := base64.StdEncoding.EncodeToString([]byte("challenge:" + h.sspi.challenge(user)))
		writeVimFault(w, "SSPI challenge", "SSPIChallenge", "<base64Token>"+challenge+"</base64Token>")
	case strings.HasPrefix(token, "response:"):
		parts := strings.SplitN(strings.TrimPrefix(token, "response:"), ":", 2)
		if len(parts) != 2 || !h.sspi.answer(parts[0], parts[1]) {
			writeFault(w, "Login failure: the SSPI response does not answer an outstanding challenge for this user", "InvalidLogin")
			return
		}
		h.loginAs(next, w, r, parts[1], req.Locale, "LoginBySSPI")
	default:
		writeFault(w, "Login failure: the SSPI token is not part of the harness's SSPI scheme", "InvalidLogin")
	}
}

// Local tickets: AcquireLocalTicket(userName) writes a random one-time password to a new file
// under <state-dir>/local-tickets (mode 0600) and answers SessionManagerLocalTicket{userName,
// passwordFilePath}; Login(userName, <file content>) then succeeds once (the file is removed),
// within 10 minutes. userName must be a user the harness knows (else InvalidLogin). Callers
// are local by default; -local-tickets=remote (or POST /_harness/local-ticket) treats them as
// remote (InvalidRequest, as the reference says remote clients get), "unsupported" answers
// NotSupported.

const localTicketLifetime = 10 * time.Minute

type localTickets struct {
	mu       sync.Mutex
	dir      string
	startup  string
	mode     string
	byPass   map[string]localTicket
	issued   int
	redeemed int
}

type localTicket struct {
	user, path string
	expires    time.Time
}

func validLocalTicketMode(m string) bool { return m == "local" || m == "remote" || m == "unsupported" }

func newLocalTickets(dir, mode string) *localTickets {
	return &localTickets{dir: dir, startup: mode, mode: mode, byPass: map[string]localTicket{}}
}

func (l *localTickets) setMode(mode string) {
	l.mu.Lock()
	l.mode = mode
	l.mu.Unlock()
}

func (l *localTickets) getMode() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mode
}

func (l *localTickets) reset() {
	l.mu.Lock()
	l.mode = l.startup
	l.issued, l.redeemed = 0, 0
	l.mu.Unlock()
}

func (l *localTickets) counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return map[string]int{"issued": l.issued, "redeemed": l.redeemed, "outstanding": len(l.byPass)}
}

func (l *localTickets) issue(user string) (string, error) {
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return "", err
	}
	password := randomHex(24)
	path := filepath.Join(l.dir, "ticket-"+randomHex(8))
	if err := ioutil.WriteFile(path, []byte(password), 0o600); err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byPass[password] = localTicket{user: user, path: path, expires: time.Now().Add(localTicketLifetime)}
	l.issued++
	return path, nil
}

// redeem spends the ticket whose password this is, if it was issued to user and is in time.
func (l *localTickets) redeem(user, password string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.byPass[password]
	if !ok || t.user != user {
		return false
	}
	delete(l.byPass, password)
	_ = os.Remove(t.path)
	if time.Now().After(t.expires) {
		return false
	}
	l.redeemed++
	return true
}

func (h *harness) acquireLocalTicket(w http.ResponseWriter, req *types.AcquireLocalTicket) {
	switch h.local.getMode() {
	case "remote":
		writeFault(w, "AcquireLocalTicket is only available to local clients", "InvalidRequest")
		return
	case "unsupported":
		writeFault(w, "AcquireLocalTicket is not supported by this server", "NotSupported")
		return
	}
	if !h.knownUser(req.UserName) {
		writeFault(w, "Login failure: unknown user", "InvalidLogin")
		return
	}
	path, err := h.local.issue(req.UserName)
	if err != nil {
		writeVimFault(w, "cannot write the one-time password file", "SystemError", "<reason>"+html.EscapeString(err.Error())+"</reason>")
		return
	}
	writeResponse(w, "AcquireLocalTicket", `<returnval><userName>`+html.EscapeString(req.UserName)+
		`</userName><passwordFilePath>`+html.EscapeString(path)+`</passwordFilePath></returnval>`)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// writeVimFault answers with a SOAP fault shaped like vcsim's own (ServeSDK), the fault's
// fields given as XML.
func writeVimFault(w http.ResponseWriter, msg, fault, fields string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>` +
		html.EscapeString(msg) + `</faultstring><detail><` + fault + `Fault xmlns="urn:vim25" xsi:type="` + fault + `">` + fields + `</` + fault + `Fault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`))
}
