package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/ioutil"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The vSphere Automation API under /api/ (vSphere 7.0 U2+ shapes) over govmomi's vAPI
// simulator, which serves the older /rest/com/vmware/... paths with {value} answers and
// {type, value} errors and keeps sessions of its own. The harness authenticates each /api/
// request by its vmware-api-session-id against vcsim's SessionManager, then hands the
// simulator the matching /rest/ request under one session of the harness's own, and answers
// in /api/ shapes: the bare value, errors as {error_type, messages}.
//
// POST /_harness/stall holds the next /api/ request as it holds a SOAP one (here before it is
// executed).
//
// Unified sessions (8.0 U3) are the default: a vim session id works on /api/. The switch
// POST /_harness/vapi-unified {"enabled": false} makes the harness an older server: /api/
// accepts only ids made by POST /api/session (which still works), and refuses vim ids (401).
// POST /api/session takes basic auth (vapi_session.go) or a SAML token in an Authorization: SIGN
// header, verified as the STS issued it (vapi_token.go). Stats: requests, refused, apiSessions
// (ids made by POST /api/session, ever) and tokenSessions {made, refused} (SIGN logins).
//
// Served: cis/tagging/category (GET list, POST create, GET/DELETE {id}), cis/tagging/tag (GET
// list, POST create, GET/DELETE {id}, POST tag/category/{id}?action=list-tags-for-category),
// cis/tagging/tag-association (POST ?action=list-attached-tags-on-objects |
// list-attached-objects-on-tags; POST {tag}?action=attach-tag-to-multiple-objects |
// detach-tag-from-multiple-objects), content/library (GET list, GET {id}, POST ?action=find),
// POST content/local-library (create), content/library/item (GET ?library_id= list, GET {id},
// POST create, POST ?action=find), vcenter/ovf/library-item/{id}?action=deploy (vapi_ovf.go,
// also for the drop switch on /api/ requests).
type vapiAPI struct {
	mu       sync.Mutex
	unified  bool
	own      map[string]bool // ids made by POST /api/session
	restID   string          // the harness's session on the simulator's /rest
	requests int
	refused  int
}

var vapi = &vapiAPI{unified: true, own: map[string]bool{}}

func (v *vapiAPI) remember(id string) {
	v.mu.Lock()
	v.own[id] = true
	v.mu.Unlock()
}

func (v *vapiAPI) stats() map[string]interface{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	return map[string]interface{}{"unified": v.unified, "requests": v.requests, "refused": v.refused, "apiSessions": len(v.own), "tokenSessions": vapiTok.counts()}
}

func (v *vapiAPI) reset() {
	v.mu.Lock()
	v.unified, v.requests, v.refused = true, 0, 0
	v.mu.Unlock()
}

func (h *harness) setVapiUnified(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled bool `json:"enabled"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	vapi.mu.Lock()
	vapi.unified = body.Enabled
	vapi.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// simulate runs one request on the simulator's /rest/ under the harness's session.
func (h *harness) simulate(method, path string, query url.Values, body interface{}) (int, []byte) {
	vapi.mu.Lock()
	id := vapi.restID
	vapi.mu.Unlock()
	if id == "" {
		req := httptest.NewRequest(http.MethodPost, "/rest/com/vmware/cis/session", nil)
		req.SetBasicAuth("harness", "harness")
		rec := httptest.NewRecorder()
		h.sim.ServeHTTP(rec, req)
		var v struct {
			Value string `json:"value"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &v)
		id = v.Value
		vapi.mu.Lock()
		vapi.restID = id
		vapi.mu.Unlock()
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := "/rest" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req := httptest.NewRequest(method, u, rd)
	req.Header.Set("vmware-api-session-id", id)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// relay answers the simulator's answer in /api/ shapes.
func relay(w http.ResponseWriter, status int, raw []byte, what string) {
	if status == http.StatusNotFound {
		writeJSON(w, http.StatusNotFound, vapiError("NOT_FOUND", what+" not found"))
		return
	}
	if status >= 400 {
		var e struct {
			Type  string `json:"type"`
			Value struct {
				Messages []string `json:"messages"`
			} `json:"value"`
		}
		_ = json.Unmarshal(raw, &e)
		kind := strings.ToUpper(e.Type[strings.LastIndexByte(e.Type, '.')+1:])
		if kind == "" {
			kind = "INVALID_ARGUMENT"
		}
		writeJSON(w, status, vapiError(kind, what+": "+strings.ToLower(strings.ReplaceAll(kind, "_", " "))))
		return
	}
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v.Value == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(v.Value)
}

func (h *harness) apiRoutes(w http.ResponseWriter, r *http.Request) {
	if _, ovf := isOvfPath(r.URL.Path); !ovf && !strings.HasPrefix(r.URL.Path, "/api/cis/tagging/") &&
		!strings.HasPrefix(r.URL.Path, "/api/content/") && r.URL.Path != "/api/cis/tagging" {
		// Nothing the harness serves: 404 before any session check (vapi_session.go's tests).
		writeJSON(w, http.StatusNotFound, vapiError("NOT_FOUND", "no such resource in the harness"))
		return
	}
	vapi.mu.Lock()
	vapi.requests++
	unified := vapi.unified
	vapi.mu.Unlock()
	id := r.Header.Get("vmware-api-session-id")
	s, err := h.currentSession(r, id)
	vapi.mu.Lock()
	own := vapi.own[id]
	vapi.mu.Unlock()
	if err != nil || s == nil || (!unified && !own) {
		vapi.mu.Lock()
		vapi.refused++
		vapi.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "missing or unknown vmware-api-session-id"))
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/api")
	var body map[string]interface{}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch || r.Method == http.MethodPut {
		raw, _ := ioutil.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if len(raw) > 0 && json.Unmarshal(raw, &body) != nil {
			writeJSON(w, http.StatusBadRequest, vapiError("INVALID_ARGUMENT", "the request body is not JSON"))
			return
		}
	}
	if d, release := h.faults.takeStall(); d > 0 {
		// The stall switch holds an /api/ answer too (before it is executed here;
		// after its body was read: only then does the server notice a client that went away).
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-release:
		}
		t.Stop()
	}
	h.serveAPIWithDrops(w, r, func(w http.ResponseWriter) { h.dispatchAPI(w, r, p, body) })
}

// dispatchAPI runs one authenticated /api/ request (p: its path without /api) on the simulator.
func (h *harness) dispatchAPI(w http.ResponseWriter, r *http.Request, p string, body map[string]interface{}) {
	q := r.URL.Query()
	action := q.Get("action")
	const tagging = "/com/vmware/cis/tagging"
	seg := strings.Split(strings.Trim(p, "/"), "/")
	if id, ok := isOvfPath("/api" + p); ok {
		if r.Method != http.MethodPost || action != "deploy" {
			writeJSON(w, http.StatusNotFound, vapiError("NOT_FOUND", "no such resource in the harness"))
			return
		}
		h.ovfDeploy(w, id, body)
		return
	}
	switch {
	case p == "/cis/tagging/category" && r.Method == http.MethodGet:
		st, raw := h.simulate("GET", tagging+"/category", nil, nil)
		relay(w, st, orEmptyList(st, raw), "category")
	case p == "/cis/tagging/category" && r.Method == http.MethodPost:
		if str(body, "name") == "" || str(body, "cardinality") == "" {
			writeJSON(w, http.StatusBadRequest, vapiError("INVALID_ARGUMENT", "name and cardinality are required"))
			return
		}
		st, raw := h.simulate("POST", tagging+"/category", nil, map[string]interface{}{"create_spec": body})
		relay(w, created(st), raw, "category")
	case len(seg) == 4 && seg[0] == "cis" && seg[2] == "category":
		st, raw := h.simulate(r.Method, tagging+"/category/id:"+seg[3], nil, nil)
		relay(w, st, raw, "category "+seg[3])
	case p == "/cis/tagging/tag" && r.Method == http.MethodGet:
		st, raw := h.simulate("GET", tagging+"/tag", nil, nil)
		relay(w, st, orEmptyList(st, raw), "tag")
	case p == "/cis/tagging/tag" && r.Method == http.MethodPost:
		if str(body, "name") == "" || str(body, "category_id") == "" {
			writeJSON(w, http.StatusBadRequest, vapiError("INVALID_ARGUMENT", "name and category_id are required"))
			return
		}
		cst, _ := h.simulate("GET", tagging+"/category/id:"+str(body, "category_id"), nil, nil)
		if cst == http.StatusNotFound {
			writeJSON(w, http.StatusNotFound, vapiError("NOT_FOUND", "category "+str(body, "category_id")+" not found"))
			return
		}
		st, raw := h.simulate("POST", tagging+"/tag", nil, map[string]interface{}{"create_spec": body})
		relay(w, created(st), raw, "tag")
	case len(seg) == 5 && seg[2] == "tag" && seg[3] == "category" && action == "list-tags-for-category":
		cst, _ := h.simulate("GET", tagging+"/category/id:"+seg[4], nil, nil)
		if cst == http.StatusNotFound {
			relay(w, cst, nil, "category "+seg[4])
			return
		}
		st, raw := h.simulate("POST", tagging+"/tag/id:"+seg[4], url.Values{"~action": {"list-tags-for-category"}}, nil)
		relay(w, st, orEmptyList(st, raw), "category "+seg[4])
	case len(seg) == 4 && seg[0] == "cis" && seg[2] == "tag":
		st, raw := h.simulate(r.Method, tagging+"/tag/id:"+seg[3], nil, nil)
		relay(w, st, raw, "tag "+seg[3])
	case p == "/cis/tagging/tag-association" && r.Method == http.MethodPost &&
		(action == "list-attached-tags-on-objects" || action == "list-attached-objects-on-tags"):
		st, raw := h.simulate("POST", tagging+"/tag-association", url.Values{"~action": {action}}, body)
		relay(w, st, emptyLists(orEmptyList(st, raw), "object_ids", "tag_ids"), "association")
	case len(seg) == 4 && seg[2] == "tag-association" && r.Method == http.MethodPost &&
		(action == "attach-tag-to-multiple-objects" || action == "detach-tag-from-multiple-objects"):
		tst, _ := h.simulate("GET", tagging+"/tag/id:"+seg[3], nil, nil)
		if tst == http.StatusNotFound {
			relay(w, tst, nil, "tag "+seg[3])
			return
		}
		objs, _ := body["object_ids"].([]interface{})
		if action == "attach-tag-to-multiple-objects" {
			st, raw := h.simulate("POST", tagging+"/tag-association/id:"+seg[3], url.Values{"~action": {action}}, map[string]interface{}{"object_ids": objs})
			relay(w, st, raw, "tag "+seg[3])
			return
		}
		for _, o := range objs {
			st, raw := h.simulate("POST", tagging+"/tag-association/id:"+seg[3], url.Values{"~action": {"detach"}}, map[string]interface{}{"object_id": o})
			if st >= 400 {
				relay(w, st, raw, "tag "+seg[3])
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	case p == "/content/local-library" && r.Method == http.MethodPost:
		st, raw := h.simulate("POST", "/com/vmware/content/local-library", nil, map[string]interface{}{"create_spec": body})
		relay(w, created(st), raw, "library")
	case p == "/content/library/item" && r.Method == http.MethodPost && action == "":
		st, raw := h.simulate("POST", "/com/vmware/content/library/item", nil, map[string]interface{}{"create_spec": body})
		relay(w, created(st), raw, "library "+str(body, "library_id"))
	case p == "/content/library/item" && r.Method == http.MethodPost && action == "find":
		st, raw := h.simulate("POST", "/com/vmware/content/library/item", url.Values{"~action": {"find"}}, map[string]interface{}{"spec": body})
		relay(w, st, orEmptyList(st, raw), "library item")
	case p == "/content/library" && r.Method == http.MethodGet:
		st, raw := h.simulate("GET", "/com/vmware/content/library", nil, nil)
		relay(w, st, orEmptyList(st, raw), "library")
	case p == "/content/library" && r.Method == http.MethodPost && action == "find":
		st, raw := h.simulate("POST", "/com/vmware/content/library", url.Values{"~action": {"find"}}, map[string]interface{}{"spec": body})
		relay(w, st, orEmptyList(st, raw), "library")
	case len(seg) == 3 && seg[0] == "content" && seg[1] == "library" && seg[2] != "item" && r.Method == http.MethodGet:
		st, raw := h.simulate("GET", "/com/vmware/content/library/id:"+seg[2], nil, nil)
		relay(w, st, raw, "library "+seg[2])
	case p == "/content/library/item" && r.Method == http.MethodGet:
		st, raw := h.simulate("GET", "/com/vmware/content/library/item", url.Values{"library_id": {q.Get("library_id")}}, nil)
		relay(w, st, orEmptyList(st, raw), "library "+q.Get("library_id"))
	case len(seg) == 4 && seg[1] == "library" && seg[2] == "item" && r.Method == http.MethodGet:
		st, raw := h.simulate("GET", "/com/vmware/content/library/item/id:"+seg[3], nil, nil)
		relay(w, st, raw, "library item "+seg[3])
	default:
		writeJSON(w, http.StatusNotFound, vapiError("NOT_FOUND", "no such resource in the harness"))
	}
}

func str(m map[string]interface{}, k string) string {
	s, _ := m[k].(string)
	return s
}

// created: the simulator answers 200 to a create; /api answers 201.
func created(status int) int {
	if status == http.StatusOK {
		return http.StatusCreated
	}
	return status
}

// orEmptyList: the simulator omits an empty list ({} for {value: []}).
func orEmptyList(status int, raw []byte) []byte {
	var v struct {
		Value json.RawMessage `json:"value"`
	}
	if status == http.StatusOK && (json.Unmarshal(raw, &v) != nil || v.Value == nil || string(v.Value) == "null") {
		return []byte(`{"value":[]}`)
	}
	return raw
}

// emptyLists: the simulator answers an empty list as null (or leaves it out); /api as [].
func emptyLists(raw []byte, fields ...string) []byte {
	var v struct {
		Value []map[string]interface{} `json:"value"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	for _, o := range v.Value {
		for _, f := range fields {
			if _, isObject := o[f].(map[string]interface{}); !isObject && o[f] == nil && (f != "object_ids" || o["tag_id"] != nil) && (f != "tag_ids" || o["object_id"] != nil) {
				o[f] = []interface{}{}
			}
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}
