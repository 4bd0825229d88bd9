package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io/ioutil"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
)

// SSO tokens. What vcsim 0.24 does, and what the harness adds:
//
// vcsim's STS (sts/simulator, at config.vpxd.sso.sts.uri, VPX model only) answers every WS-Trust
// Issue and Renew (it looks at nothing but the SOAPAction's last path segment) with one fixed,
// canned SAML 2.0 assertion: subject Administrator@VSPHERE.LOCAL, confirmation method bearer,
// Conditions of 2018; only the RSTR's Lifetime is current (5 minutes). It checks no credentials
// and cannot issue holder-of-key tokens. vcsim's LoginByToken takes the NameID of any Assertion
// in the request's Security header and creates a session for it; it checks nothing else.
//
// The harness keeps both for bearer tokens (and strips the quotes SOAP 1.1 clients put around
// SOAPAction, which vcsim's STS would otherwise answer with 404). It adds holder-of-key tokens:
//
// STS Issue (POST, SOAPAction .../Issue) with wst:KeyType
// http://docs.oasis-open.org/ws-sx/ws-trust/200512/PublicKey is answered by the harness. The
// request must carry, in wsse:Security, a wsse:BinarySecurityToken (X509v3, base64 DER), a
// wsu:Timestamp (wsu:Id, current) and one ds:Signature over the Timestamp and the soapenv:Body
// (each referenced by its wsu:Id, "#id") that verifies with that certificate's key; then either a
// wsse:UsernameToken of a harness user (-username with the current password, or the viewer),
// whose name becomes the subject, or no UsernameToken and a certificate that SetExtensionCertificate
// set for an extension (a solution), whose key becomes the subject. Otherwise the answer is a
// SOAP fault with faultcode wst:FailedAuthentication. The token lives as requested by the
// RST's wst:Lifetime/wsu:Expires (clamped to 1 s .. 1 h; 5 minutes without one; an Expires
// already past gives a token that is valid at no instant, for tests of expiry). The answer is an
// RSTR collection like vcsim's with an unsigned saml2:Assertion whose SubjectConfirmation is
// urn:oasis:names:tc:SAML:2.0:cm:holder-of-key, carrying the certificate in
// SubjectConfirmationData/ds:KeyInfo/ds:X509Data/ds:X509Certificate.
//
// LoginByToken with an assertion whose SubjectConfirmation is holder-of-key is checked before
// vcsim sees it: the assertion must be one this harness issued (by ID), within its Conditions,
// with the subject it was issued for, and the request must be signed as above (Timestamp and
// Body, by wsu:Id) with the key of the certificate the token was issued for; anything else is
// InvalidLogin. The signature is checked by xmlsec1 (Debian package xmlsec1), an independent
// XML-DSig implementation, with only that certificate's key (key material in the request's
// KeyInfo is ignored); the harness itself checks which elements are signed, that the wsu:Id
// values are unique, and the Timestamp (Created no later than now + 1 minute, Expires no
// earlier than now - 1 minute). Bearer assertions go to vcsim unchecked, as before. A token
// may log in any number of times while it is valid. Renew stays vcsim's (the canned token).

const (
	nsSoap = "http://schemas.xmlsoap.org/soap/envelope/"
	nsWsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsWsu  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	nsDs   = "http://www.w3.org/2000/09/xmldsig#"
	nsSaml = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsWst  = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"

	keyTypePublicKey = nsWst + "/PublicKey"
	confirmHoK       = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
	samlTime         = "2006-01-02T15:04:05.000Z"
	clockSkew        = time.Minute
)

type stsState struct {
	url string
	dir string // scratch files for xmlsec1

	mu       sync.Mutex
	tokens   map[string]hokToken
	issued   int
	refused  int
	verified int
	rejected int
}

type hokToken struct {
	subject      string
	cert         []byte // DER
	notBefore    time.Time
	notOnOrAfter time.Time
}

func newSTS(stateDir string) *stsState {
	return &stsState{dir: stateDir, tokens: map[string]hokToken{}}
}

// stsURL is config.vpxd.sso.sts.uri, where vcsim serves its STS (VPX model only).
func stsURL() string {
	if !simulator.Map.IsVPX() {
		return ""
	}
	for _, o := range simulator.Map.OptionManager().Setting {
		if v := o.GetOptionValue(); v.Key == "config.vpxd.sso.sts.uri" {
			s, _ := v.Value.(string)
			return s
		}
	}
	return ""
}

func (s *stsState) path() string {
	u, err := url.Parse(s.url)
	if err != nil || s.url == "" {
		return ""
	}
	return u.Path
}

func (s *stsState) count(field *int) {
	s.mu.Lock()
	*field++
	s.mu.Unlock()
}

func (s *stsState) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]int{"hokIssued": s.issued, "hokRefused": s.refused, "signaturesVerified": s.verified, "signaturesRejected": s.rejected}
}

func (s *stsState) resetCounters() {
	s.mu.Lock()
	s.issued, s.refused, s.verified, s.rejected = 0, 0, 0, 0
	s.mu.Unlock()
}

// The parts of a WS-Security SOAP request the harness reads.
type wsEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Header  struct {
		Security *wsSecurity `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Security"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Header"`
	Body struct {
		ID  string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Id,attr"`
		RST *struct {
			RequestType string `xml:"http://docs.oasis-open.org/ws-sx/ws-trust/200512 RequestType"`
			KeyType     string `xml:"http://docs.oasis-open.org/ws-sx/ws-trust/200512 KeyType"`
			Lifetime    *struct {
				Expires string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Expires"`
			} `xml:"http://docs.oasis-open.org/ws-sx/ws-trust/200512 Lifetime"`
		} `xml:"http://docs.oasis-open.org/ws-sx/ws-trust/200512 RequestSecurityToken"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

type wsSecurity struct {
	Timestamp *struct {
		ID      string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Id,attr"`
		Created string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Created"`
		Expires string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Expires"`
	} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd Timestamp"`
	BinarySecurityToken []struct {
		ValueType string `xml:"ValueType,attr"`
		Value     string `xml:",chardata"`
	} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd BinarySecurityToken"`
	UsernameToken *struct {
		Username string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Username"`
		Password string `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd Password"`
	} `xml:"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd UsernameToken"`
	Assertion *samlAssertion `xml:"urn:oasis:names:tc:SAML:2.0:assertion Assertion"`
	Signature []struct {
		SignedInfo struct {
			Reference []struct {
				URI string `xml:"URI,attr"`
			} `xml:"http://www.w3.org/2000/09/xmldsig# Reference"`
		} `xml:"http://www.w3.org/2000/09/xmldsig# SignedInfo"`
	} `xml:"http://www.w3.org/2000/09/xmldsig# Signature"`
}

func parseWS(doc []byte) (*wsEnvelope, error) {
	if bytes.Contains(doc, []byte("<!DOCTYPE")) {
		return nil, errors.New("a document type declaration is not allowed")
	}
	var env wsEnvelope
	if err := xml.Unmarshal(doc, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// samlAssertion is what the harness reads of a saml2:Assertion: its ID, subject and how the
// subject is confirmed (a WS-Security header's token, or a vAPI token request's).
type samlAssertion struct {
	ID      string `xml:"ID,attr"`
	Subject struct {
		NameID       string `xml:"urn:oasis:names:tc:SAML:2.0:assertion NameID"`
		Confirmation []struct {
			Method string `xml:"Method,attr"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:assertion SubjectConfirmation"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Subject"`
}

func (a *samlAssertion) holderOfKey() bool {
	for _, c := range a.Subject.Confirmation {
		if c.Method == confirmHoK {
			return true
		}
	}
	return false
}

func (env *wsEnvelope) holderOfKey() bool {
	sec := env.Header.Security
	return sec != nil && sec.Assertion != nil && sec.Assertion.holderOfKey()
}

// verifySigned checks that doc is signed over its Timestamp and Body with cert's key.
func (s *stsState) verifySigned(doc []byte, env *wsEnvelope, cert []byte) (err error) {
	defer func() {
		if err == nil {
			s.count(&s.verified)
		} else if !errors.Is(err, errNoVerifier) {
			s.count(&s.rejected)
		}
	}()
	sec := env.Header.Security
	switch {
	case sec == nil:
		return errors.New("no wsse:Security header")
	case sec.Timestamp == nil || sec.Timestamp.ID == "":
		return errors.New("no wsu:Timestamp with a wsu:Id in the Security header")
	case env.Body.ID == "":
		return errors.New("the soapenv:Body has no wsu:Id")
	case len(sec.Signature) != 1:
		return fmt.Errorf("the Security header has %d ds:Signature elements, not one", len(sec.Signature))
	}
	refs := map[string]bool{}
	for _, r := range sec.Signature[0].SignedInfo.Reference {
		refs[r.URI] = true
	}
	if !refs["#"+sec.Timestamp.ID] || !refs["#"+env.Body.ID] {
		return errors.New("the signature does not cover both the Timestamp and the Body")
	}
	if err := uniqueIDs(doc); err != nil {
		return err
	}
	created, err1 := time.Parse(time.RFC3339Nano, strings.TrimSpace(sec.Timestamp.Created))
	expires, err2 := time.Parse(time.RFC3339Nano, strings.TrimSpace(sec.Timestamp.Expires))
	now := time.Now()
	switch {
	case err1 != nil || err2 != nil:
		return errors.New("the Timestamp's Created or Expires is not a dateTime")
	case created.After(now.Add(clockSkew)):
		return errors.New("the Timestamp was created in the future")
	case expires.Before(now.Add(-clockSkew)):
		return errors.New("the Timestamp has expired")
	}
	return s.xmlsec(doc, cert)
}

// uniqueIDs refuses a document in which two elements carry the same Id/ID attribute value
// (a reference must name exactly the element the harness checked).
func uniqueIDs(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	seen := map[string]bool{}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "Id" || a.Name.Local == "ID" || a.Name.Local == "id" {
					if seen[a.Value] {
						return errors.New("the Id " + a.Value + " is used twice")
					}
					seen[a.Value] = true
				}
			}
		}
	}
}

var errNoVerifier = errors.New("xmlsec1 is not installed (Debian package xmlsec1): the harness cannot verify signatures")

// xmlsec runs xmlsec1 --verify on the one signature in the Security header, with cert's key as
// the only key it may use.
func (s *stsState) xmlsec(doc, cert []byte) error {
	dir, err := ioutil.TempDir(s.dir, "xmlsec-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	docFile, certFile := filepath.Join(dir, "request.xml"), filepath.Join(dir, "key.pem")
	if err := ioutil.WriteFile(docFile, doc, 0o600); err != nil {
		return err
	}
	if err := ioutil.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o600); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "xmlsec1", "--verify",
		"--enabled-key-data", "key-name", // ignore key material in the request's KeyInfo
		"--pubkey-cert-pem", certFile,
		"--id-attr:Id", nsWsu+":Timestamp",
		"--id-attr:Id", nsSoap+":Body",
		"--enabled-reference-uris", "same-doc",
		"--node-xpath", "/*[local-name()='Envelope']/*[local-name()='Header']/*[local-name()='Security']/*[local-name()='Signature' and namespace-uri()='"+nsDs+"']",
		docFile).CombinedOutput()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return errNoVerifier
		}
		msg := "the signature does not verify"
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "error=") || strings.HasPrefix(line, "SignedInfo References") {
				msg += "; " + strings.TrimSpace(line)
			}
		}
		return errors.New(msg)
	}
	return nil
}

// stsIssue answers holder-of-key Issue requests and hands everything else to vcsim's STS.
func (h *harness) stsIssue(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := strings.Trim(r.Header.Get("SOAPAction"), `"`)
		r.Header.Set("SOAPAction", action)
		if r.Method != http.MethodPost || path.Base(action) != "Issue" {
			next.ServeHTTP(w, r)
			return
		}
		doc, err := ioutil.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		env, err := parseWS(doc)
		if err != nil || env.Body.RST == nil || strings.TrimSpace(env.Body.RST.KeyType) != keyTypePublicKey {
			r.Body = nopBody(doc)
			next.ServeHTTP(w, r)
			return
		}
		h.issueHoK(w, doc, env)
	})
}

func (h *harness) issueHoK(w http.ResponseWriter, doc []byte, env *wsEnvelope) {
	refuse := func(msg string) {
		h.sts.count(&h.sts.refused)
		writeSTSFault(w, "FailedAuthentication", msg)
	}
	sec := env.Header.Security
	if sec == nil || len(sec.BinarySecurityToken) != 1 {
		refuse("a holder-of-key request needs one wsse:BinarySecurityToken with the certificate")
		return
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(sec.BinarySecurityToken[0].Value), ""))
	if err != nil {
		refuse("the BinarySecurityToken is not base64")
		return
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		refuse("the BinarySecurityToken is not an X.509 certificate")
		return
	}
	if err := h.sts.verifySigned(doc, env, der); err != nil {
		if errors.Is(err, errNoVerifier) {
			writeSTSFault(w, "RequestFailed", err.Error())
			return
		}
		refuse("the request's signature: " + err.Error())
		return
	}
	subject, authn := "", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	if ut := sec.UsernameToken; ut != nil {
		current, _ := h.svc.Listen.User.Password()
		ok := (ut.Username == h.username && ut.Password == current) ||
			(h.viewerName != "" && ut.Username == h.viewerName && ut.Password == h.viewerPass)
		if !ok {
			refuse("invalid user name or password")
			return
		}
		subject = ut.Username
	} else {
		subject = h.ext.keyForThumbprint(fingerprint(sha1.Sum(cert.Raw)))
		if subject == "" {
			refuse("the certificate is not the certificate of a registered extension (solution)")
			return
		}
		authn = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
	}
	now := time.Now().UTC()
	expires := now.Add(5 * time.Minute)
	if lt := env.Body.RST.Lifetime; lt != nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(lt.Expires)); err == nil {
			expires = t.UTC()
		}
	}
	switch {
	case !expires.After(now):
		expires = now // a Lifetime already over: a token valid at no instant (for tests of expiry)
	case expires.Before(now.Add(time.Second)):
		expires = now.Add(time.Second)
	case expires.After(now.Add(time.Hour)):
		expires = now.Add(time.Hour)
	}
	id := "_" + uuid.New().String()
	h.sts.mu.Lock()
	h.sts.tokens[id] = hokToken{subject: subject, cert: der, notBefore: now, notOnOrAfter: expires}
	h.sts.issued++
	h.sts.mu.Unlock()

	t := func(x time.Time) string { return x.Format(samlTime) }
	issuer := "https://" + h.sdkURL.Host + "/websso/SAML2/Metadata/vsphere.local"
	assertion := `<saml2:Assertion xmlns:saml2="` + nsSaml + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="` + id + `" IssueInstant="` + t(now) + `" Version="2.0">` +
		`<saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">` + issuer + `</saml2:Issuer>` +
		`<saml2:Subject><saml2:NameID Format="http://schemas.xmlsoap.org/claims/UPN">` + html.EscapeString(subject) + `</saml2:NameID>` +
		`<saml2:SubjectConfirmation Method="` + confirmHoK + `"><saml2:SubjectConfirmationData xsi:type="saml2:KeyInfoConfirmationDataType" NotOnOrAfter="` + t(expires) + `">` +
		`<ds:KeyInfo xmlns:ds="` + nsDs + `"><ds:X509Data><ds:X509Certificate>` + base64.StdEncoding.EncodeToString(der) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
		`</saml2:SubjectConfirmationData></saml2:SubjectConfirmation></saml2:Subject>` +
		`<saml2:Conditions NotBefore="` + t(now) + `" NotOnOrAfter="` + t(expires) + `"><saml2:ProxyRestriction Count="10"/></saml2:Conditions>` +
		`<saml2:AuthnStatement AuthnInstant="` + t(now) + `"><saml2:AuthnContext><saml2:AuthnContextClassRef>` + authn + `</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
		`</saml2:Assertion>`
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="` + nsSoap + `"><S:Body><wst:RequestSecurityTokenResponseCollection xmlns:wst="` + nsWst + `"><wst:RequestSecurityTokenResponse>` +
		`<wst:TokenType>urn:oasis:names:tc:SAML:2.0:assertion</wst:TokenType>` +
		`<wst:RequestedSecurityToken>` + assertion + `</wst:RequestedSecurityToken>` +
		`<wst:Lifetime><wsu:Created xmlns:wsu="` + nsWsu + `">` + t(now) + `</wsu:Created><wsu:Expires xmlns:wsu="` + nsWsu + `">` + t(expires) + `</wsu:Expires></wst:Lifetime>` +
		`<wst:Renewing Allow="false" OK="false"/><wst:Delegatable>false</wst:Delegatable>` +
		`<wst:KeyType>` + keyTypePublicKey + `</wst:KeyType><wst:SignatureAlgorithm>http://www.w3.org/2001/04/xmldsig-more#rsa-sha256</wst:SignatureAlgorithm>` +
		`</wst:RequestSecurityTokenResponse></wst:RequestSecurityTokenResponseCollection></S:Body></S:Envelope>`))
}

// writeSTSFault answers with a SOAP 1.1 fault whose code is a WS-Trust fault QName.
func writeSTSFault(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="` + nsSoap + `"><S:Body><S:Fault><faultcode xmlns:wst="` + nsWst + `">wst:` + code + `</faultcode><faultstring>` +
		html.EscapeString(msg) + `</faultstring></S:Fault></S:Body></S:Envelope>`))
}

// loginByToken checks holder-of-key LoginByToken requests; bearer ones go to vcsim as they are.
func (h *harness) loginByToken(next http.Handler, w http.ResponseWriter, r *http.Request, call *soapCall) {
	env, err := parseWS(call.body)
	if err != nil || !env.holderOfKey() {
		next.ServeHTTP(w, r)
		return
	}
	a := env.Header.Security.Assertion
	h.sts.mu.Lock()
	tok, ok := h.sts.tokens[a.ID]
	h.sts.mu.Unlock()
	now := time.Now()
	switch {
	case !ok:
		writeFault(w, "Login failure: the holder-of-key token was not issued by this server's STS", "InvalidLogin")
	case now.Before(tok.notBefore.Add(-clockSkew)) || !now.Before(tok.notOnOrAfter):
		writeFault(w, "Login failure: the token is not valid now (expired or not yet valid)", "InvalidLogin")
	case strings.TrimSpace(a.Subject.NameID) != tok.subject:
		writeFault(w, "Login failure: the token's subject was altered", "InvalidLogin")
	default:
		if err := h.sts.verifySigned(call.body, env, tok.cert); err != nil {
			if errors.Is(err, errNoVerifier) {
				writeVimFault(w, err.Error(), "SystemError", "<reason>"+html.EscapeString(err.Error())+"</reason>")
				return
			}
			writeFault(w, "Login failure: the request's signature: "+err.Error(), "InvalidLogin")
			return
		}
		next.ServeHTTP(w, r)
	}
}
