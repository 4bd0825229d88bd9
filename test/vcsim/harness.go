package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

// harness is the state the additions share. Session state is not part of it: that lives in
// vcsim's SessionManager, which everything here reaches through real SOAP calls.
type harness struct {
	svc          *simulator.Service
	sim          http.Handler // the simulator's own mux, behind every middleware
	sdkURL       *url.URL
	apiVersion   string
	instanceUUID string
	content      types.ServiceContent
	username     string
	password     string // the startup password, which reset restores
	sha1         string // the server certificate's SHA-1 thumbprint
	viewerName   string // the unprivileged second user ("" for none)
	viewerPass   string

	obs     *observer
	faults  *faults
	ext     *extensionManager
	tickets *ticketSet
	ui      *uiTokens

	sspi       *sspiState
	local      *localTickets
	svcTickets *serviceTickets
	sts        *stsState
	inv        *inventoryExtras
	json       *viJSON
	nfc        *nfcExtras

	mu             sync.Mutex
	internal       *vim25.Client
	tunnels        int
	tunnelsRefused int
	pluginRequests int
	apiRequests    int
}

// routes puts the additions in front of the simulator: /_harness/ and /api/ are ours, and
// SOAP requests pass the observer, the fault switches, the clone-ticket tracker, the
// SessionManager additions and the extension-login guard on their way to vcsim. The order
// matters: the observer sees every request that arrived, even one a fault switch then swallows.
// Datastore file access (/folder/) needs a session or a generic service ticket, and the STS
// endpoint issues holder-of-key tokens itself (bearer ones are vcsim's). JSON API requests
// (/sdk/vim25/, vi_json.go) become SOAP requests that take the same way, observer included.
func (h *harness) routes() http.Handler {
	soapChain := h.faults.wrap(h.trackTickets(h.sessionMethods(h.extensionLogin(h.inv.collectorMethods(h.nfc.methods(guests.methods(h.sim)))))))
	mux := http.NewServeMux()
	viJSON := h.viJSONHandler(h.obs.wrap(soapChain))
	mux.Handle(viJSONPrefix, viJSON)
	mux.Handle("/_harness/", h.controlRoutes())
	mux.HandleFunc("/api/session", h.apiSession)
	mux.HandleFunc(pluginClonePath, h.pluginCloneTicket)
	mux.HandleFunc("/api/", h.apiRoutes) // vapi_api.go
	mux.Handle("/folder/", h.datastoreAccess(h.sim))
	mux.Handle("/nfc/", h.nfc.serve(h.sim))    // export_vm.go
	mux.HandleFunc("/guestFile", guests.serve) // guest_files.go
	if p := h.sts.path(); p != "" {
		mux.Handle(p, h.stsIssue(h.sim))
	}
	mux.Handle("/", soapChain)
	// A JSON path names objects by id, escaped: vcsim's datastore ids are directories ("/tmp/…"),
	// whose %2F the mux would decode, clean and answer with a 301. vi_json.go reads the escaped path.
	return h.obs.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, viJSONPrefix) {
			viJSON.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

func (h *harness) count(field *int) {
	h.mu.Lock()
	*field++
	h.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// readJSON decodes a small JSON request body, answering 400 itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v interface{}) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body: " + err.Error()})
		return false
	}
	return true
}
