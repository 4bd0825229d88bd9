package main

import (
	"net"
	"net/http"
	"net/url"
	"time"
)

// Control routes, JSON in and out, under /_harness/ on the main port and on a plain-HTTP
// control port of their own (the ready line's controlUrl). The test helpers use the control
// port so that the fault switches, which act on the main listener, never hit the requests that
// arm, observe or undo them.
//
//	GET  /_harness/stats        counters, sessions, pending switches
//	POST /_harness/reset        clear counters and switches, restore the startup password
//	POST /_harness/password     {"password"}: the password Login accepts from now on
//	POST /_harness/ui-token     {"username","password"}: log in, mint a plug-in session token
//	POST /_harness/drop         {"count","stage","method"}: drop the next count connections
//	                            ("accept"), SOAP requests after reading them ("request"), or
//	                            SOAP answers after executing the call ("answer"); with method
//	                            ("request", "answer"), only calls of that method count; the
//	                            method "VAPI <VERB> <path>" names an /api/ request (vapi_ovf.go)
//	POST /_harness/stall        {"seconds"}: answer the next SOAP (or /api/) request that much later
//	POST /_harness/unavailable  {"count"}: answer the next count SOAP requests with a 503 page
//	POST /_harness/restart      end every session and close every connection; same URL,
//	                            port and certificate
//	POST /_harness/sspi         {"supported"}: false makes LoginBySSPI answer NotSupported
//	POST /_harness/local-tickets {"mode"}: AcquireLocalTicket callers are "local", "remote"
//	                            (InvalidRequest) or "unsupported" (NotSupported)
//	POST /_harness/vi-json      {"enabled"}: false makes every /sdk/vim25/ path 404 (no JSON API)
//	POST /_harness/vapi-unified {"enabled"}: false makes /api/ refuse vim session ids (a server
//	                            before 8.0 U3); ids from POST /api/session still work (vapi_api.go)
//	POST /_harness/vapi-ovf-item {"library_id","name","ovf"}: a content-library OVF item holding
//	                            that descriptor; answers its id (vapi_ovf.go)
//	POST /_harness/page-size    {"size"}: RetrievePropertiesEx answers at most size objects per
//	                            page (0: all at once unless the request sets maxObjects)
//	POST /_harness/deny         {"obj","path"}: that property of that object is NoPermission
//	POST /_harness/task         {"entity","name"}: a running Task on entity
//	POST /_harness/task-update  {"task","progress","state","fault","result","remove"}: changes
//	                            (or removes) it
//	POST /_harness/question     {"vm","text"}: sets (text "" clears) the VM's runtime.question
//	(these last five are inventory.go's)
//	GET  /_harness/leases       the HttpNfcLeases of ExportVm and ImportVApp: progress calls, how
//	                            each ended, bytes and SHA-256 of each file transferred
//	POST /_harness/export-vm    {"enabled"}: false makes ExportVm vcsim's again (MethodNotFound)
//	POST /_harness/nfc-fail     {"count"}: the next count NFC transfers answer 500
//	(these three are export_vm.go's)
//
// reset also restores the startup values of the sspi, local-tickets, vi-json and export-vm switches.
func (h *harness) controlRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/_harness/stats", h.stats)
	mux.HandleFunc("/_harness/reset", post(h.reset))
	mux.HandleFunc("/_harness/password", post(h.setPassword))
	mux.HandleFunc("/_harness/ui-token", post(h.uiToken))
	mux.HandleFunc("/_harness/drop", post(h.armDrop))
	mux.HandleFunc("/_harness/stall", post(h.armStall))
	mux.HandleFunc("/_harness/unavailable", post(h.armUnavailable))
	mux.HandleFunc("/_harness/restart", post(h.restart))
	mux.HandleFunc("/_harness/sspi", post(h.setSSPI))
	mux.HandleFunc("/_harness/local-tickets", post(h.setLocalTickets))
	mux.HandleFunc("/_harness/vi-json", post(h.setVIJSON))
	mux.HandleFunc("/_harness/vapi-unified", post(h.setVapiUnified))
	mux.HandleFunc("/_harness/vapi-ovf-item", post(h.addOvfItem))
	mux.HandleFunc("/_harness/page-size", post(h.inv.setPageSize))
	mux.HandleFunc("/_harness/deny", post(h.inv.deny))
	mux.HandleFunc("/_harness/task", post(h.inv.createTask))
	mux.HandleFunc("/_harness/task-update", post(h.inv.updateTask))
	mux.HandleFunc("/_harness/question", post(h.inv.setQuestion))
	mux.HandleFunc("/_harness/leases", h.nfc.list)
	mux.HandleFunc("/_harness/export-vm", post(h.nfc.setExportVM))
	mux.HandleFunc("/_harness/nfc-fail", post(h.nfc.armFailure))
	return mux
}

func (h *harness) startControl() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go func() { _ = http.Serve(l, h.controlRoutes()) }()
	return "http://" + l.Addr().String()
}

func post(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
			return
		}
		f(w, r)
	}
}

type pending struct {
	Drop         int     `json:"drop"`
	DropStage    string  `json:"dropStage"`
	DropMethod   string  `json:"dropMethod"`
	StallSeconds float64 `json:"stallSeconds"`
	Unavailable  int     `json:"unavailable"`
}

func (h *harness) stats(w http.ResponseWriter, r *http.Request) {
	sessions, tickets, err := h.sessionCounts(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	methods, soapActions := h.obs.snapshot()
	f := h.faults
	f.mu.Lock()
	p := pending{Drop: f.drop, DropStage: f.dropStage, DropMethod: f.dropMethod, StallSeconds: f.stall.Seconds(), Unavailable: f.unavailable}
	accepted, dropped, stalled, refused := f.accepted, f.dropped, f.stalled, f.refused
	f.mu.Unlock()
	inventory := h.inv.stats(r.Context()) // before h.mu: it reads the session list through the internal client
	h.mu.Lock()
	defer h.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]interface{}{
		"methods":            methods,
		"soapActions":        soapActions,
		"sessions":           sessions,
		"cloneTickets":       tickets,
		"tunnels":            h.tunnels,
		"tunnelsRefused":     h.tunnelsRefused,
		"pluginRequests":     h.pluginRequests,
		"apiSessionRequests": h.apiRequests,
		"connections":        accepted,
		"dropped":            dropped,
		"stalled":            stalled,
		"unavailableAnswers": refused,
		"pending":            p,
		"sspiSupported":      h.sspi.isSupported(),
		"sspiLogins":         h.sspi.completedCount(),
		"localTicketMode":    h.local.getMode(),
		"localTickets":       h.local.counts(),
		"serviceTickets":     h.svcTickets.counts(),
		"sts":                h.sts.counts(),
		"inventory":          inventory,
		"viJson":             h.json.stats(),
		"vapi":               vapi.stats(),
	})
}

func (h *harness) reset(w http.ResponseWriter, r *http.Request) {
	h.obs.reset()
	h.faults.reset()
	h.mu.Lock()
	h.tunnels, h.tunnelsRefused, h.pluginRequests, h.apiRequests = 0, 0, 0, 0
	h.mu.Unlock()
	h.sspi.reset()
	h.local.reset()
	h.json.reset()
	h.nfc.reset()
	vapi.reset()
	h.svcTickets.resetCounters()
	h.sts.resetCounters()
	h.acceptPassword(h.password)
	w.WriteHeader(http.StatusNoContent)
}

// acceptPassword swaps the credentials vcsim's Login compares against (Service.Listen.User,
// read on every Login without a lock; a pointer store, so a racing Login sees either value).
func (h *harness) acceptPassword(password string) {
	h.svc.Listen.User = url.UserPassword(h.username, password)
}

func (h *harness) setPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password *string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Password == nil || *in.Password == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "password is required"})
		return
	}
	h.acceptPassword(*in.Password)
	w.WriteHeader(http.StatusNoContent)
}

func (h *harness) armDrop(w http.ResponseWriter, r *http.Request) {
	in := struct {
		Count  int    `json:"count"`
		Stage  string `json:"stage"`
		Method string `json:"method"`
	}{Count: 1, Stage: "accept"}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Count < 0 || (in.Stage != "accept" && in.Stage != "request" && in.Stage != "answer") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `count >= 0, stage "accept", "request" or "answer"`})
		return
	}
	if in.Stage == "accept" && in.Method != "" {
		// A connection is dropped before any request on it is read.
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `a method applies to stages "request" and "answer" only`})
		return
	}
	h.faults.mu.Lock()
	h.faults.drop, h.faults.dropStage, h.faults.dropMethod = in.Count, in.Stage, in.Method
	h.faults.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *harness) armStall(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Seconds float64 `json:"seconds"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Seconds < 0 || in.Seconds > 600 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "seconds between 0 and 600"})
		return
	}
	h.faults.mu.Lock()
	h.faults.stall = time.Duration(in.Seconds * float64(time.Second))
	h.faults.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// readCount reads a switch's {"count"} (default 1); false when it answered the request itself
// (bad JSON, a negative count).
func readCount(w http.ResponseWriter, r *http.Request) (int, bool) {
	in := struct {
		Count int `json:"count"`
	}{Count: 1}
	if !readJSON(w, r, &in) {
		return 0, false
	}
	if in.Count < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "count >= 0"})
		return 0, false
	}
	return in.Count, true
}

func (h *harness) armUnavailable(w http.ResponseWriter, r *http.Request) {
	count, ok := readCount(w, r)
	if !ok {
		return
	}
	h.faults.mu.Lock()
	h.faults.unavailable = count
	h.faults.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// restart is what clients see of a vpxd restart that keeps the machine: every session, clone
// ticket, generic service ticket and SSPI challenge gone, every connection cut, the same URL,
// port and certificate afterwards. Registered extensions and their certificates survive, as they
// live in vCenter's database, and so do SSO tokens (the STS is another service) and the service
// message.
func (h *harness) restart(w http.ResponseWriter, r *http.Request) {
	ended, err := h.endAllSessions(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	h.ui.clear()
	h.svcTickets.clear()
	h.sspi.clearPending()
	keep := ""
	if r.TLS != nil { // asked over the main listener: close this connection after answering
		keep = r.RemoteAddr
		w.Header().Set("Connection", "close")
	}
	closed := h.faults.closeConnections(keep)
	writeJSON(w, http.StatusOK, map[string]int{"sessionsEnded": ended, "connectionsClosed": closed})
}

func (h *harness) setSSPI(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Supported *bool `json:"supported"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Supported == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "supported (boolean) is required"})
		return
	}
	h.sspi.set(*in.Supported)
	w.WriteHeader(http.StatusNoContent)
}

func (h *harness) setLocalTickets(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Mode string `json:"mode"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if !validLocalTicketMode(in.Mode) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `mode "local", "remote" or "unsupported"`})
		return
	}
	h.local.setMode(in.Mode)
	w.WriteHeader(http.StatusNoContent)
}

func (h *harness) setVIJSON(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Enabled == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "enabled (boolean) is required"})
		return
	}
	h.json.set(*in.Enabled)
	w.WriteHeader(http.StatusNoContent)
}
