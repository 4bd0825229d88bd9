package main

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
)

// POST /api/session with a SAML token, as vCenter takes it (and govmomi's sts.Signer.SignRequest
// sends it): Authorization: SIGN token="<base64 of the gzipped assertion>" for a bearer token;
// a holder-of-key token adds signature_alg="RSA-SHA256", signature, nonce ("<ms>:<n>") and
// bodyhash (base64 SHA-256 of the body), the signature being RSA-SHA256 with the token's key
// over "nonce\nMETHOD\npath\nhost\nport\n" + SHA-256(body) + "\n" (port "80" when the Host
// header has none, as govmomi signs it).
//
// The token is verified as the STS issued it:
//   - bearer: byte for byte the assertion vcsim's STS issues (it has one, canned and signed; its
//     Conditions are of 2018, so no time check is possible beyond that identity);
//   - holder-of-key: one this harness's STS issued (sts.go, by ID), within its validity, with the
//     subject it was issued for, the signature verifying with the key of the certificate it was
//     issued for (key material in the header is not used), the body hash matching, the nonce's
//     time within a minute of now and the nonce not seen before.
//
// Anything else is 401 UNAUTHENTICATED. A verified token makes a vcsim session for its subject
// (LoginByToken in-process), remembered like a basic-auth one as a vAPI session of its own.
type vapiTokens struct {
	mu      sync.Mutex
	bearer  []byte               // the STS's assertion, read once
	nonces  map[string]time.Time // holder-of-key nonces seen, until they are too old to be taken anyway
	made    int
	refused int
}

var vapiTok = &vapiTokens{nonces: map[string]time.Time{}}

func (v *vapiTokens) counts() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return map[string]int{"made": v.made, "refused": v.refused}
}

const maxTokenBytes = 256 << 10

// tokenSession answers POST /api/session with an Authorization: SIGN header.
func (h *harness) tokenSession(w http.ResponseWriter, r *http.Request) {
	refuse := func(why string) {
		vapiTok.mu.Lock()
		vapiTok.refused++
		vapiTok.mu.Unlock()
		// As vCenter: the details are not disclosed to the client; the harness's log has them.
		_ = why
		writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "the SAML token was not accepted"))
	}
	params, err := signParams(r.Header.Get("Authorization"))
	if err != nil {
		refuse(err.Error())
		return
	}
	zipped, err := base64.StdEncoding.DecodeString(params["token"])
	if err != nil || len(zipped) == 0 {
		refuse("token is not base64")
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		refuse("token is not gzip")
		return
	}
	assertion, err := ioutil.ReadAll(io.LimitReader(zr, maxTokenBytes+1))
	if err != nil || len(assertion) > maxTokenBytes {
		refuse("token too large or corrupt")
		return
	}
	body, err := ioutil.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		refuse("body")
		return
	}
	var a samlAssertion
	if bytes.Contains(assertion, []byte("<!DOCTYPE")) || xml.Unmarshal(assertion, &a) != nil {
		refuse("not an assertion")
		return
	}
	if a.holderOfKey() {
		if err := h.verifyHoKRequest(r, params, body, a.ID, strings.TrimSpace(a.Subject.NameID)); err != nil {
			refuse(err.Error())
			return
		}
	} else {
		issued, err := h.stsBearerAssertion()
		if err != nil || !bytes.Equal(issued, assertion) {
			refuse("a bearer token the STS did not issue")
			return
		}
	}
	id, err := h.loginWithAssertion(r, assertion)
	if err != nil {
		refuse(err.Error())
		return
	}
	vapiTok.mu.Lock()
	vapiTok.made++
	vapiTok.mu.Unlock()
	vapi.remember(id)
	writeJSON(w, http.StatusCreated, id)
}

// signParams reads `SIGN k="v", k="v"` (values are base64 or a nonce: no quotes or commas).
func signParams(header string) (map[string]string, error) {
	if !strings.HasPrefix(header, "SIGN ") || len(header) > 2*maxTokenBytes {
		return nil, errors.New("not a SIGN authorization")
	}
	out := map[string]string{}
	for _, part := range strings.Split(header[len("SIGN "):], ",") {
		part = strings.TrimSpace(part)
		eq := strings.IndexByte(part, '=')
		if eq <= 0 || len(part) < eq+3 || part[eq+1] != '"' || part[len(part)-1] != '"' {
			return nil, errors.New("malformed SIGN parameter")
		}
		k := part[:eq]
		if _, dup := out[k]; dup {
			return nil, errors.New("SIGN parameter given twice")
		}
		out[k] = part[eq+2 : len(part)-1]
	}
	if out["token"] == "" {
		return nil, errors.New("no token")
	}
	return out, nil
}

func (h *harness) verifyHoKRequest(r *http.Request, p map[string]string, body []byte, id, subject string) error {
	h.sts.mu.Lock()
	tok, ok := h.sts.tokens[id]
	h.sts.mu.Unlock()
	now := time.Now()
	switch {
	case !ok:
		return errors.New("a holder-of-key token this STS did not issue")
	case now.Before(tok.notBefore.Add(-clockSkew)) || !now.Before(tok.notOnOrAfter):
		return errors.New("the token is not valid now")
	case subject != tok.subject:
		return errors.New("the token's subject was altered")
	case p["signature_alg"] != "RSA-SHA256" || p["signature"] == "" || p["nonce"] == "" || p["bodyhash"] == "":
		return errors.New("a holder-of-key token needs a signed request")
	}
	sum := sha256.Sum256(body)
	if p["bodyhash"] != base64.StdEncoding.EncodeToString(sum[:]) {
		return errors.New("the body hash does not match")
	}
	colon := strings.IndexByte(p["nonce"], ':')
	ms, err := strconv.ParseInt(p["nonce"][:max(colon, 0)], 10, 64)
	if colon <= 0 || err != nil {
		return errors.New("the nonce is not <ms>:<n>")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > clockSkew || d < -clockSkew {
		return errors.New("the nonce is too old or in the future")
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "80"
	}
	var msg bytes.Buffer
	for _, s := range []string{p["nonce"], r.Method, r.URL.Path, strings.ToLower(host), port} {
		msg.WriteString(s)
		msg.WriteByte('\n')
	}
	msg.Write(sum[:])
	msg.WriteByte('\n')
	cert, err := x509.ParseCertificate(tok.cert)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the token's certificate has no RSA key")
	}
	sig, err := base64.StdEncoding.DecodeString(p["signature"])
	if err != nil {
		return errors.New("the signature is not base64")
	}
	digest := sha256.Sum256(msg.Bytes())
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return errors.New("the signature does not verify with the token's key")
	}
	vapiTok.mu.Lock()
	defer vapiTok.mu.Unlock()
	for n, at := range vapiTok.nonces {
		if now.Sub(at) > 2*clockSkew {
			delete(vapiTok.nonces, n)
		}
	}
	if _, seen := vapiTok.nonces[p["nonce"]]; seen {
		return errors.New("the nonce was used before")
	}
	vapiTok.nonces[p["nonce"]] = now
	return nil
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// stsBearerAssertion is the assertion vcsim's STS issues, asked for in-process once.
func (h *harness) stsBearerAssertion() ([]byte, error) {
	vapiTok.mu.Lock()
	known := vapiTok.bearer
	vapiTok.mu.Unlock()
	if known != nil {
		return known, nil
	}
	p := h.sts.path()
	if p == "" {
		return nil, errors.New("no STS")
	}
	req := httptest.NewRequest(http.MethodPost, p, strings.NewReader(`<Envelope xmlns="`+nsSoap+`"><Body/></Envelope>`))
	req.Header.Set("SOAPAction", nsWst+"/RST/Issue")
	req.Header.Set("Content-Type", "text/xml")
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, req)
	doc := rec.Body.Bytes()
	open := bytes.Index(doc, []byte("<saml2:Assertion"))
	end := []byte("</saml2:Assertion>")
	close := bytes.LastIndex(doc, end)
	if open < 0 || close < open {
		return nil, errors.New("the STS issued no assertion")
	}
	a := append([]byte(nil), doc[open:close+len(end)]...)
	vapiTok.mu.Lock()
	vapiTok.bearer = a
	vapiTok.mu.Unlock()
	return a, nil
}

// loginWithAssertion makes a vcsim session for the assertion's subject: LoginByToken, in-process
// (the token was verified above; vcsim itself reads only its NameID).
func (h *harness) loginWithAssertion(from *http.Request, assertion []byte) (string, error) {
	env := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="` + nsSoap + `"><soapenv:Header>` +
		`<wsse:Security xmlns:wsse="` + nsWsse + `">` + string(assertion) + `</wsse:Security></soapenv:Header>` +
		`<soapenv:Body><LoginByToken xmlns="urn:vim25"><_this type="SessionManager">` + h.content.SessionManager.Value +
		`</_this></LoginByToken></soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, h.sdkURL.Path, strings.NewReader(env))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", "urn:vim25/"+h.apiVersion)
	req.RemoteAddr = from.RemoteAddr
	req.Header.Set("User-Agent", from.UserAgent())
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == soap.SessionCookieName && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", errors.New("LoginByToken made no session")
}
