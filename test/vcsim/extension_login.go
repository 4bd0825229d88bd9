package main

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Extension logins are checked here, in front of vcsim, and then handed to vcsim's own
// SessionManager.LoginExtensionByCertificate, which creates the session (a real one, named
// after the extension key) but accepts any client certificate for any key. The checks cannot
// live in a SessionManager override: vcsim type-asserts its registry entry to
// *simulator.SessionManager (Registry.SessionManager) and answers calls made within a session
// from a copy of that struct, so a wrapper type in the registry would break it.
//
// LoginExtensionBySubjectName is not among the methods vcsim lets through without a session,
// so after its checks pass it is forwarded as LoginExtensionByCertificate (same fields) and
// the answer renamed back.

var (
	bySubjectOpen  = regexp.MustCompile(`<([A-Za-z_][\w.-]*:)?LoginExtensionBySubjectName([\s/>])`)
	bySubjectClose = regexp.MustCompile(`</([A-Za-z_][\w.-]*:)?LoginExtensionBySubjectName>`)
	byCertResponse = []byte("LoginExtensionByCertificateResponse")
)

func (h *harness) extensionLogin(next http.Handler) http.Handler {
	setCert := h.ext.withPeer(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := soapCallOf(r)
		if call == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch call.method {
		case "LoginExtensionByCertificate":
			h.loginByCertificate(next, w, r, call)
		case "LoginExtensionBySubjectName":
			h.loginBySubjectName(next, w, r, call)
		case "SetExtensionCertificate":
			setCert.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (h *harness) loginByCertificate(next http.Handler, w http.ResponseWriter, r *http.Request, call *soapCall) {
	method, err := simulator.UnmarshalBody(types.TypeFunc(), call.body)
	peer := peerCertificate(r)
	if err != nil || peer == nil {
		// vcsim answers these itself: a decoding fault, or NoClientCertificate.
		next.ServeHTTP(w, r)
		return
	}
	key := method.Body.(*types.LoginExtensionByCertificate).ExtensionKey
	ext, thumbprint := h.ext.find(key)
	switch {
	case ext == nil:
		writeFault(w, "Login failure: extension "+key+" is not registered", "InvalidLogin")
	case thumbprint == "" || thumbprint != fingerprint(sha1.Sum(peer.Raw)):
		writeFault(w, "Login failure: the client certificate is not the certificate set for "+key, "InvalidLogin")
	default:
		next.ServeHTTP(w, r)
	}
}

func (h *harness) loginBySubjectName(next http.Handler, w http.ResponseWriter, r *http.Request, call *soapCall) {
	method, err := simulator.UnmarshalBody(types.TypeFunc(), call.body)
	if err != nil {
		next.ServeHTTP(w, r)
		return
	}
	peer := peerCertificate(r)
	key := method.Body.(*types.LoginExtensionBySubjectName).ExtensionKey
	if peer != nil {
		ext, _ := h.ext.find(key)
		switch {
		case ext == nil:
			writeFault(w, "Login failure: extension "+key+" is not registered", "InvalidLogin")
			return
		case ext.SubjectName == "":
			writeFault(w, "extension "+key+" was registered without a subject name", "NoSubjectName")
			return
		case !sameSubject(subjectName(peer.RawSubject), ext.SubjectName):
			writeFault(w, "Login failure: the client certificate's subject is not the subject name of "+key, "InvalidLogin")
			return
		}
	}
	// Without a client certificate vcsim's LoginExtensionByCertificate answers
	// NoClientCertificate, as vCenter does for this method too.
	body := bySubjectOpen.ReplaceAll(call.body, []byte("<${1}LoginExtensionByCertificate$2"))
	body = bySubjectClose.ReplaceAll(body, []byte("</${1}LoginExtensionByCertificate>"))
	r2 := r.Clone(r.Context())
	r2.Body = nopBody(body)
	r2.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r2)
	out := bytes.ReplaceAll(rec.Body.Bytes(), byCertResponse, []byte("LoginExtensionBySubjectNameResponse"))
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// subjectName is the subject as compared with Extension.subjectName: the RFC 4514 string of
// the certificate's subject, RDNs in reverse order of the DER encoding (most specific first
// for a conventionally built certificate), e.g. "CN=my-ext,OU=Plugins,O=Example,C=US".
func subjectName(rawSubject []byte) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(rawSubject, &rdns); err != nil {
		return ""
	}
	return rdns.String()
}

// sameSubject compares two RFC 4514 names, ignoring blanks around the separators and the case
// of attribute types (so "CN=a, OU=b" matches "cn=a,OU=b"); values compare exactly.
func sameSubject(a, b string) bool {
	na, nb := normaliseDN(a), normaliseDN(b)
	return na != "" && na == nb
}

func normaliseDN(dn string) string {
	var parts []string
	start, escaped := 0, false
	for i := 0; i <= len(dn); i++ {
		if i < len(dn) && (escaped || dn[i] != ',') {
			escaped = !escaped && dn[i] == '\\'
			continue
		}
		part := strings.TrimSpace(dn[start:i])
		if eq := strings.IndexByte(part, '='); eq > 0 {
			part = strings.ToUpper(strings.TrimSpace(part[:eq])) + "=" + strings.TrimSpace(part[eq+1:])
		}
		parts = append(parts, part)
		start = i + 1
	}
	return strings.Join(parts, ",")
}

// writeFault answers with a SOAP fault shaped like vcsim's own (ServeSDK), for fault types
// without fields (writeVimFault, logins.go, takes fields).
func writeFault(w http.ResponseWriter, msg, fault string) {
	writeVimFault(w, msg, fault, "")
}
