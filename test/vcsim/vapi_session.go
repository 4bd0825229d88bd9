package main

import (
	"net/http"
	"strings"
	"time"
)

// Unified VIM/vAPI sessions (vSphere 8.0 U3): a session made by POST /api/session is a vim
// session, its id works as the vmware_soap_session cookie on /sdk, and a vim session id from
// Login works as vmware-api-session-id on /api. Here the vAPI side is a thin skin over vcsim's
// SessionManager, so both kinds are the same vcsim session by construction.
func (h *harness) apiSession(w http.ResponseWriter, r *http.Request) {
	h.count(&h.apiRequests)
	switch r.Method {
	case http.MethodPost:
		if strings.HasPrefix(r.Header.Get("Authorization"), "SIGN ") {
			h.tokenSession(w, r) // a SAML token (vapi_token.go)
			return
		}
		user, password, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="VMware vAPI"`)
			writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "basic authentication required"))
			return
		}
		s, err := h.login(r, user, password)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "invalid user name or password"))
			return
		}
		vapi.remember(s.Key)
		writeJSON(w, http.StatusCreated, s.Key)
	case http.MethodGet:
		s, err := h.currentSession(r, r.Header.Get("vmware-api-session-id"))
		if err != nil || s == nil {
			writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "missing or unknown vmware-api-session-id"))
			return
		}
		writeJSON(w, http.StatusOK, map[string]interface{}{
			"user":               s.UserName,
			"created_time":       s.LoginTime.UTC().Format(time.RFC3339Nano),
			"last_accessed_time": s.LastActiveTime.UTC().Format(time.RFC3339Nano),
		})
	case http.MethodDelete:
		id := r.Header.Get("vmware-api-session-id")
		if s, err := h.currentSession(r, id); err != nil || s == nil {
			writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", "missing or unknown vmware-api-session-id"))
			return
		}
		if err := h.logout(r, id); err != nil {
			writeJSON(w, http.StatusUnauthorized, vapiError("UNAUTHENTICATED", err.Error()))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "POST, GET, DELETE")
		writeJSON(w, http.StatusMethodNotAllowed, vapiError("METHOD_NOT_ALLOWED", r.Method+" not allowed"))
	}
}
