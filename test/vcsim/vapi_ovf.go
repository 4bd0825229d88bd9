package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

// OVF library items under /api/ (vSphere 7.0 U2+ shapes) over the vAPI simulator's /rest ones.
//
//	POST /api/vcenter/ovf/library-item/{id}?action=deploy  {target, deployment_spec}
//
// becomes the simulator's POST /rest/com/vmware/vcenter/ovf/library-item/id:{id}?~action=deploy,
// which deploys for real: it reads the item's .ovf from the library's datastore directory and
// runs OvfManager.CreateImportSpec, ImportVApp and the HttpNfcLease on vcsim through the
// harness's own SDK endpoint (so those SOAP calls, a Login among them, show in /stats). The
// answer is the /api DeploymentResult: {succeeded, resource_id: {type, id}, error}. /api's
// network_mappings is a map (OVF network name -> network id); /rest's is a list of
// {key, value}: translated here.
//
// The simulator has no way to put an .ovf into an item but the transfer flow (update session,
// PUSH file, PUT, complete), so the control route POST /_harness/vapi-ovf-item
// {"library_id","name","ovf"} runs that flow on the simulator and answers the new item's id.
//
// Dropped connections: POST /_harness/drop with a method "VAPI <VERB> <path>" (e.g.
// "VAPI GET /api/cis/tagging/tag") and stage "request" closes the connection of the next such
// /api/ request once it was read, before it is executed; stage "answer" executes it and
// closes the connection instead of answering. An armed drop without a method stays SOAP's.

// apiDropName is how a drop names an /api/ request.
func apiDropName(r *http.Request) string {
	return "VAPI " + r.Method + " " + r.URL.Path
}

// takeAPIDrop spends an armed drop of this stage when it names this /api/ request.
func (h *harness) takeAPIDrop(stage, name string) bool {
	h.faults.mu.Lock()
	armed := h.faults.dropMethod == name
	h.faults.mu.Unlock()
	return armed && h.faults.takeDrop(stage, name)
}

// serveAPIWithDrops runs serve, closing the connection before or after it as an armed drop says.
func (h *harness) serveAPIWithDrops(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter)) {
	name := apiDropName(r)
	if h.takeAPIDrop("request", name) {
		closeConnection(w)
		return
	}
	rec := httptest.NewRecorder()
	serve(rec)
	if h.takeAPIDrop("answer", name) {
		closeConnection(w)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// ovfDeploy answers POST /api/vcenter/ovf/library-item/{id}?action=deploy.
func (h *harness) ovfDeploy(w http.ResponseWriter, id string, body map[string]interface{}) {
	target, _ := body["target"].(map[string]interface{})
	spec, _ := body["deployment_spec"].(map[string]interface{})
	if target == nil || spec == nil || str(target, "resource_pool_id") == "" {
		writeJSON(w, http.StatusBadRequest, vapiError("INVALID_ARGUMENT", "target.resource_pool_id and deployment_spec are required"))
		return
	}
	if m, ok := spec["network_mappings"].(map[string]interface{}); ok {
		var list []map[string]interface{}
		for k, v := range m {
			list = append(list, map[string]interface{}{"key": k, "value": v})
		}
		spec["network_mappings"] = list
	}
	st, raw := h.simulate("POST", "/com/vmware/vcenter/ovf/library-item/id:"+id, url.Values{"~action": {"deploy"}},
		map[string]interface{}{"target": target, "deployment_spec": spec})
	relay(w, st, raw, "library item "+id)
}

// addOvfItem answers POST /_harness/vapi-ovf-item {"library_id","name","ovf"} with the new item's id.
func (h *harness) addOvfItem(w http.ResponseWriter, r *http.Request) {
	var in struct {
		LibraryID string `json:"library_id"`
		Name      string `json:"name"`
		OVF       string `json:"ovf"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	fail := func(step string, st int, raw []byte) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": step + ": " + http.StatusText(st) + " " + string(raw)})
	}
	value := func(raw []byte) json.RawMessage {
		var v struct {
			Value json.RawMessage `json:"value"`
		}
		_ = json.Unmarshal(raw, &v)
		return v.Value
	}
	st, raw := h.simulate("POST", "/com/vmware/content/library/item", nil, map[string]interface{}{
		"create_spec": map[string]interface{}{"library_id": in.LibraryID, "name": in.Name, "type": "ovf"},
	})
	var item string
	if st != http.StatusOK || json.Unmarshal(value(raw), &item) != nil {
		fail("create item", st, raw)
		return
	}
	st, raw = h.simulate("POST", "/com/vmware/content/library/item/update-session", nil, map[string]interface{}{
		"create_spec": map[string]interface{}{"library_item_id": item},
	})
	var session string
	if st != http.StatusOK || json.Unmarshal(value(raw), &session) != nil {
		fail("update session", st, raw)
		return
	}
	st, raw = h.simulate("POST", "/com/vmware/content/library/item/updatesession/file/id:"+session, url.Values{"~action": {"add"}},
		map[string]interface{}{"file_spec": map[string]interface{}{"name": in.Name + ".ovf", "source_type": "PUSH"}})
	var file struct {
		UploadEndpoint struct {
			URI string `json:"uri"`
		} `json:"upload_endpoint"`
	}
	if st != http.StatusOK || json.Unmarshal(value(raw), &file) != nil || file.UploadEndpoint.URI == "" {
		fail("add file", st, raw)
		return
	}
	u, err := url.Parse(file.UploadEndpoint.URI)
	if err != nil {
		fail("upload endpoint", st, raw)
		return
	}
	if st, raw = h.simulateRaw(http.MethodPut, u.Path, []byte(in.OVF)); st != http.StatusOK {
		fail("upload", st, raw)
		return
	}
	if st, raw = h.simulate("POST", "/com/vmware/content/library/item/update-session/id:"+session, url.Values{"~action": {"complete"}}, nil); st != http.StatusOK {
		fail("complete", st, raw)
		return
	}
	writeJSON(w, http.StatusCreated, item)
}

// simulateRaw sends a body as it is (an upload) to a path of the simulator, under the harness's session.
func (h *harness) simulateRaw(method, path string, body []byte) (int, []byte) {
	h.simulate("GET", "/com/vmware/cis/session", nil, nil) // makes the harness's session if it has none yet
	vapi.mu.Lock()
	id := vapi.restID
	vapi.mu.Unlock()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("vmware-api-session-id", id)
	rec := httptest.NewRecorder()
	h.sim.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// isOvfPath: /api/vcenter/ovf/library-item/{id}.
func isOvfPath(p string) (string, bool) {
	const prefix = "/api/vcenter/ovf/library-item/"
	if !strings.HasPrefix(p, prefix) || strings.Contains(p[len(prefix):], "/") || len(p) == len(prefix) {
		return "", false
	}
	return p[len(prefix):], true
}
