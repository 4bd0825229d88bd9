package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/ioutil"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// vCenter's Virtual Infrastructure JSON API (VI/JSON, vCenter 8.0 U1+), served beside SOAP:
//
//	POST /sdk/vim25/{release}/{Type}/{moId}/{Method}   body: the parameters (no _this), JSON
//	GET  /sdk/vim25/{release}/{Type}/{moId}/{property} one property of one managed object
//
// Design: a JSON request is turned into the SOAP request a SOAP client would send for it
// (vi_json_codec.go) and handed, as POST /sdk, to the same handler chain SOAP requests take:
// the observer (which counts it and captures its SOAP body for the conformance check, as it
// captures every SOAP request), the fault switches, the clone-ticket tracker, the SessionManager
// additions, the extension-login guards, the inventory additions and vcsim. The SOAP answer is
// then decoded into govmomi's types and written back as JSON. So every addition of the harness,
// and every check of vcsim's, applies to both wires alike, and no JSON request reaches vcsim in a
// form a SOAP request could not have. A property GET is the RetrievePropertiesEx a client would
// send for that one property.
//
// Sessions: the vmware-api-session-id request header is handed to the chain as the
// vmware_soap_session cookie (cookies sent to the JSON API are ignored), and a session cookie
// in the SOAP answer (the logins: Login, LoginByToken, LoginBySSPI, LoginExtensionBy*,
// CloneSession) is answered as the vmware-api-session-id response header. Both wires name the
// same vcsim session, so a session made on either works on the other (unified sessions).
//
// Answers: the return value itself as JSON (200); 204 without a body for a void method, an
// unset optional return value or an unset property; a fault as HTTP 500 with the fault object
// plus "faultstring". The harness refuses, before anything reaches the simulator, a request it
// cannot turn into SOAP: 400 with an InvalidRequest fault (malformed JSON, unknown property or
// type, wrong JSON kind), 415 for a body that is not application/json, 404 (a JSON error) for an
// unknown release or method, 405 for other HTTP methods. A fault switch's drop, stall or 503
// page reaches a JSON client as it reaches a SOAP client.
//
// Releases: those of vCenter 8.0 U1 and later up to the harness's about.apiVersion (with
// -api-version below 8.0.1.0 none). -vi-json=false (POST /_harness/vi-json) turns the API off:
// every /sdk/vim25/ path then answers 404, as on a vCenter without it. It is vCenter's API: in
// ESX mode it is off unless -vi-json is given.

const (
	viJSONPrefix     = "/sdk/vim25/"
	viJSONSessionKey = "vmware-api-session-id"
	viJSONFirst      = "8.0.1.0"
	viJSONBodyLimit  = 32 << 20
)

// viJSONReleases: the VI/JSON releases vCenter has published.
var viJSONReleases = []string{"8.0.1.0", "8.0.2.0", "8.0.3.0", "9.0.0.0"}

type viJSON struct {
	mu       sync.Mutex
	startup  bool
	enabled  bool
	releases []string
	requests int
	refused  int
	reads    int // property GETs handed on (counted in requests too)
}

func newVIJSON(enabled bool, apiVersion string) *viJSON {
	j := &viJSON{startup: enabled, enabled: enabled, releases: []string{}}
	for _, r := range append(append([]string(nil), viJSONReleases...), apiVersion) {
		if compareVersions(r, viJSONFirst) >= 0 && compareVersions(r, apiVersion) <= 0 && !contains(j.releases, r) {
			j.releases = append(j.releases, r)
		}
	}
	sort.Slice(j.releases, func(a, b int) bool { return compareVersions(j.releases[a], j.releases[b]) < 0 })
	return j
}

// compareVersions compares dotted numeric versions ("8.0.2.0").
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (j *viJSON) set(enabled bool) {
	j.mu.Lock()
	j.enabled = enabled
	j.mu.Unlock()
}

func (j *viJSON) isEnabled() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.enabled
}

func (j *viJSON) reset() {
	j.mu.Lock()
	j.enabled = j.startup
	j.requests, j.refused, j.reads = 0, 0, 0
	j.mu.Unlock()
}

func (j *viJSON) count(refused bool) {
	j.mu.Lock()
	if refused {
		j.refused++
	} else {
		j.requests++
	}
	j.mu.Unlock()
}

func (j *viJSON) countRead() {
	j.mu.Lock()
	j.reads++
	j.mu.Unlock()
}

func (j *viJSON) stats() map[string]interface{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return map[string]interface{}{"enabled": j.enabled, "releases": j.releases, "requests": j.requests, "refused": j.refused, "propertyReads": j.reads}
}

// isVIJSONPath tells whether a request path is the JSON API's (the observer leaves those to it).
func isVIJSONPath(p string) bool {
	return p == strings.TrimSuffix(viJSONPrefix, "/") || strings.HasPrefix(p, viJSONPrefix)
}

// viJSONHandler serves the JSON API, handing each call to chain (the observer and the SOAP chain).
func (h *harness) viJSONHandler(chain http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.json.isEnabled() {
			http.NotFound(w, r)
			return
		}
		parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), viJSONPrefix), "/")
		if len(parts) != 4 {
			h.jsonRefuse(w, http.StatusNotFound, "no such resource: the JSON API's paths are /sdk/vim25/{release}/{Type}/{moId}/{method or property}")
			return
		}
		for i, p := range parts {
			u, err := url.PathUnescape(p)
			if err != nil || u == "" {
				h.jsonRefuse(w, http.StatusNotFound, "no such resource: an empty or malformed path segment")
				return
			}
			parts[i] = u
		}
		release, this, name := parts[0], types.ManagedObjectReference{Type: parts[1], Value: parts[2]}, parts[3]
		if !contains(h.json.releases, release) {
			h.jsonRefuse(w, http.StatusNotFound, "unknown release "+release+" (this server serves "+strings.Join(h.json.releases, ", ")+")")
			return
		}
		switch r.Method {
		case http.MethodPost:
			h.jsonCall(w, r, chain, release, this, name)
		case http.MethodGet:
			h.jsonProperty(w, r, chain, release, this, name)
		default:
			w.Header().Set("Allow", "GET, POST")
			h.jsonRefuse(w, http.StatusMethodNotAllowed, r.Method+" not allowed: GET reads a property, POST calls a method")
		}
	})
}

// jsonRefuse answers a request the harness does not hand on, in the vAPI error shape.
func (h *harness) jsonRefuse(w http.ResponseWriter, status int, msg string) {
	h.json.count(true)
	kind := map[int]string{http.StatusNotFound: "NOT_FOUND", http.StatusMethodNotAllowed: "METHOD_NOT_ALLOWED", http.StatusUnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE"}[status]
	if kind == "" {
		kind = "INVALID_REQUEST"
	}
	writeJSON(w, status, vapiError(kind, msg))
}

// jsonBadRequest refuses a body the harness cannot turn into SOAP: 400 with an InvalidRequest fault.
func (h *harness) jsonBadRequest(w http.ResponseWriter, msg string) {
	h.json.count(true)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(jsonFault(&types.InvalidRequest{}, msg))
}

func (h *harness) jsonCall(w http.ResponseWriter, r *http.Request, chain http.Handler, release string, this types.ManagedObjectReference, method string) {
	reqType, ok := vimTypes(method)
	if !ok || reqType.Kind() != reflect.Struct || strings.HasSuffix(method, "RequestType") {
		h.jsonRefuse(w, http.StatusNotFound, "no method "+method)
		return
	}
	if f, hasThis := reqType.FieldByName("This"); !hasThis || f.Type != morefType {
		h.jsonRefuse(w, http.StatusNotFound, "no method "+method)
		return
	}
	resType, ok := viJSONResponses[method]
	if !ok {
		h.jsonRefuse(w, http.StatusNotFound, "no method "+method)
		return
	}
	body, err := ioutil.ReadAll(http.MaxBytesReader(w, r.Body, viJSONBodyLimit))
	if err != nil {
		h.jsonBadRequest(w, "cannot read the request body: "+err.Error())
		return
	}
	params := map[string]interface{}{}
	if len(bytes.TrimSpace(body)) > 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			h.jsonRefuse(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v interface{}
		if err := dec.Decode(&v); err != nil {
			h.jsonBadRequest(w, "the body is not JSON: "+err.Error())
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			h.jsonBadRequest(w, "the body holds more than one JSON value")
			return
		}
		m, isObject := v.(map[string]interface{})
		if !isObject {
			h.jsonBadRequest(w, "the body is not a JSON object of the method's parameters")
			return
		}
		params = m
	}
	envelope, err := requestXML(method, reqType, this, params)
	if err != nil {
		h.jsonBadRequest(w, err.Error())
		return
	}
	h.json.count(false)
	answer := h.viaSOAP(w, r, chain, release, envelope)
	if answer.passThrough(w) {
		return
	}
	res, fault, err := decodeAnswer(answer.body.Bytes(), resType)
	switch {
	case err != nil:
		writeJSONFault(w, nil, "the harness cannot read the simulator's answer: "+err.Error())
	case fault != nil:
		writeJSONFault(w, fault.Detail.Fault, fault.String)
	default:
		rv := res.Elem().FieldByName("Returnval")
		if !rv.IsValid() || ((rv.Kind() == reflect.Ptr || rv.Kind() == reflect.Interface) && rv.IsNil()) {
			w.WriteHeader(http.StatusNoContent) // void, or an unset optional return value
			return
		}
		f, _ := res.Elem().Type().FieldByName("Returnval")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(jsonOf(rv, f.Type.Kind() == reflect.Interface))
	}
}

// jsonProperty reads one property, as RetrievePropertiesEx of that one path of that one object.
func (h *harness) jsonProperty(w http.ResponseWriter, r *http.Request, chain http.Handler, release string, this types.ManagedObjectReference, property string) {
	if this.Type == "ServiceInstance" && property == "content" {
		// What the JSON API reads without a session is what SOAP clients read with
		// RetrieveServiceContent (vcsim answers a property read of it NotAuthenticated).
		h.json.countRead()
		h.jsonCall(w, r, chain, release, this, "RetrieveServiceContent")
		return
	}
	xw := &xmlWriter{}
	xw.buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>`)
	xw.open("RetrievePropertiesEx", "", "xmlns", "urn:vim25")
	xw.open("_this", "", "type", h.content.PropertyCollector.Type)
	xw.text(h.content.PropertyCollector.Value)
	xw.close("_this")
	xw.buf.WriteString("<specSet><propSet>")
	xw.simple("type", "", this.Type)
	xw.simple("pathSet", "", property)
	xw.buf.WriteString("</propSet><objectSet>")
	xw.open("obj", "", "type", this.Type)
	xw.text(this.Value)
	xw.close("obj")
	xw.buf.WriteString("</objectSet></specSet><options/></RetrievePropertiesEx></soapenv:Body></soapenv:Envelope>")
	h.json.count(false)
	h.json.countRead()
	answer := h.viaSOAP(w, r, chain, release, xw.buf.Bytes())
	if answer.passThrough(w) {
		return
	}
	res, fault, err := decodeAnswer(answer.body.Bytes(), reflect.TypeOf(types.RetrievePropertiesExResponse{}))
	if err != nil {
		writeJSONFault(w, nil, "the harness cannot read the simulator's answer: "+err.Error())
		return
	}
	if fault != nil {
		writeJSONFault(w, fault.Detail.Fault, fault.String)
		return
	}
	result := res.Interface().(*types.RetrievePropertiesExResponse).Returnval
	if result != nil {
		for _, oc := range result.Objects {
			for _, m := range oc.MissingSet {
				writeJSONFault(w, m.Fault.Fault, m.Fault.LocalizedMessage)
				return
			}
			for _, p := range oc.PropSet {
				if p.Name == property && p.Val != nil {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusOK)
					_, _ = w.Write(jsonProperty(p.Val))
					return
				}
			}
		}
	}
	w.WriteHeader(http.StatusNoContent) // an unset property
}

func writeJSONFault(w http.ResponseWriter, fault interface{}, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(jsonFault(fault, message))
}

// viaSOAP hands the SOAP envelope to chain as the POST /sdk a SOAP client would send, carrying
// the JSON request's session header as the session cookie, and returns what chain answered.
func (h *harness) viaSOAP(w http.ResponseWriter, r *http.Request, chain http.Handler, release string, envelope []byte) *soapAnswer {
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodPost
	r2.URL = &url.URL{Path: "/sdk"}
	r2.RequestURI = "/sdk"
	r2.Body = nopBody(envelope)
	r2.ContentLength = int64(len(envelope))
	r2.Header.Del("Content-Length")
	r2.Header.Del("Cookie")
	r2.Header.Set("Content-Type", "text/xml; charset=utf-8")
	r2.Header.Set("SOAPAction", `"urn:vim25/`+release+`"`)
	if id := strings.TrimSpace(r.Header.Get(viJSONSessionKey)); id != "" {
		r2.Header.Set("Cookie", soap.SessionCookieName+"="+id)
	}
	a := &soapAnswer{real: w, header: http.Header{}}
	chain.ServeHTTP(a, r2)
	if a.code == 0 {
		a.code = http.StatusOK
	}
	return a
}

// soapAnswer records the SOAP chain's answer to a JSON request. A fault switch that drops the
// connection hijacks the JSON request's own connection through it.
type soapAnswer struct {
	real     http.ResponseWriter
	header   http.Header
	code     int
	body     bytes.Buffer
	hijacked bool
}

func (a *soapAnswer) Header() http.Header { return a.header }

func (a *soapAnswer) WriteHeader(code int) {
	if a.code == 0 {
		a.code = code
	}
}

func (a *soapAnswer) Write(b []byte) (int, error) {
	if a.code == 0 {
		a.code = http.StatusOK
	}
	return a.body.Write(b)
}

func (a *soapAnswer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := a.real.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the JSON request's connection cannot be hijacked")
	}
	a.hijacked = true
	return hj.Hijack()
}

// passThrough writes what needs no conversion and tells whether it did: nothing for a dropped
// connection, the answer as it is when it is no SOAP answer (a 503 page). It also turns a new
// session's cookie into the vmware-api-session-id header.
func (a *soapAnswer) passThrough(w http.ResponseWriter) bool {
	if a.hijacked {
		return true
	}
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == soap.SessionCookieName && c.Value != "" {
			w.Header()[viJSONSessionKey] = []string{c.Value} // lower case, as vCenter writes it
		}
	}
	ct := a.header.Get("Content-Type")
	if ct == "" { // vcsim leaves it to net/http, which sniffs the body
		ct = http.DetectContentType(a.body.Bytes())
	}
	mt, _, _ := mime.ParseMediaType(ct)
	if (a.code == http.StatusOK || a.code == http.StatusInternalServerError) && strings.HasSuffix(mt, "xml") {
		return false
	}
	for k, v := range a.header {
		if k != "Set-Cookie" && k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(a.code)
	_, _ = w.Write(a.body.Bytes())
	return true
}

// decodeAnswer decodes a SOAP answer into a new *resType (the method's XResponse) or its fault.
func decodeAnswer(data []byte, resType reflect.Type) (reflect.Value, *soap.Fault, error) {
	bodyType := reflect.StructOf([]reflect.StructField{
		{Name: "Res", Type: reflect.PtrTo(resType), Tag: reflect.StructTag(`xml:"urn:vim25 ` + resType.Name() + `,omitempty"`)},
		{Name: "Fault", Type: reflect.TypeOf(&soap.Fault{}), Tag: `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`},
	})
	body := reflect.New(bodyType)
	env := soap.Envelope{Body: body.Interface()}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.TypeFunc = vimTypes
	if err := dec.Decode(&env); err != nil {
		return reflect.Value{}, nil, err
	}
	if f := body.Elem().Field(1).Interface().(*soap.Fault); f != nil {
		return reflect.Value{}, f, nil
	}
	res := body.Elem().Field(0)
	if res.IsNil() {
		return reflect.Value{}, nil, fmt.Errorf("no %s in the answer", resType.Name())
	}
	return res, nil, nil
}
