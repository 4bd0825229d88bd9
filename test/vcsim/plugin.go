package main

import (
	"mime"
	"net/http"
	"sync"

	"github.com/google/uuid"
)

// The vSphere Client plug-in flow: the plug-in UI hands its server a session token minted by
// the vsphere-ui service, and the server trades it at vsphere-ui for a clone ticket of the
// user's vim session (POST /api/ui/vcenter/session/clone-ticket), then redeems the ticket with
// SessionManager.CloneSession. The harness plays vsphere-ui: /_harness/ui-token logs the user
// in to vcsim (a real session) and mints a token for it, and this endpoint asks vcsim's
// AcquireCloneTicket on that session.

const pluginClonePath = "/api/ui/vcenter/session/clone-ticket"

// uiTokens maps plug-in session tokens to the vim session each stands for. Only the mapping is
// kept here; whether the session still exists is always asked of vcsim.
type uiTokens struct {
	mu     sync.Mutex
	tokens map[string]string
}

func newUITokens() *uiTokens { return &uiTokens{tokens: map[string]string{}} }

func (u *uiTokens) mint(sessionID string) string {
	// A different shape from vim session ids on purpose: clients must treat both as opaque.
	token := "ui-session-" + uuid.New().String()
	u.mu.Lock()
	u.tokens[token] = sessionID
	u.mu.Unlock()
	return token
}

func (u *uiTokens) session(token string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id, ok := u.tokens[token]
	return id, ok
}

func (u *uiTokens) clear() {
	u.mu.Lock()
	u.tokens = map[string]string{}
	u.mu.Unlock()
}

// uiToken is POST /_harness/ui-token {"username","password"} -> {"token","sessionId"}.
func (h *harness) uiToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	s, err := h.login(r, in.Username, in.Password)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "login failed: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": h.ui.mint(s.Key), "sessionId": s.Key})
}

func (h *harness) pluginCloneTicket(w http.ResponseWriter, r *http.Request) {
	h.count(&h.pluginRequests)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, vapiError("METHOD_NOT_ALLOWED", "POST only"))
		return
	}
	sessionID, ok := h.ui.session(r.Header.Get("vmware-api-session-id"))
	if !ok {
		writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "missing or unknown vmware-api-session-id"))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, vapiError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"))
		return
	}
	var in struct {
		VCGUID *string `json:"vc_guid"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.VCGUID == nil || *in.VCGUID == "" {
		writeJSON(w, http.StatusBadRequest, vapiError("INVALID_ARGUMENT", "vc_guid is required"))
		return
	}
	if *in.VCGUID != h.instanceUUID {
		writeJSON(w, http.StatusNotFound, vapiError("NOT_FOUND", "no vCenter Server with guid "+*in.VCGUID))
		return
	}
	ticket, err := h.acquireCloneTicket(r, sessionID)
	if err != nil {
		// The token's session is gone (logged out, expired, restart): the token is dead too.
		writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "the session behind the token has ended"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"session_clone_ticket": ticket})
}

// vapiError is the shape of a vAPI error answer.
func vapiError(kind, msg string) map[string]interface{} {
	return map[string]interface{}{
		"error_type": kind,
		"messages":   []map[string]string{{"id": "vim25-soap.harness", "default_message": msg}},
	}
}
