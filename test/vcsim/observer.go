package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
)

// observer records what reached the simulator's SOAP endpoint, for tests to assert on.
type observer struct {
	mu          sync.Mutex
	methods     map[string]int
	soapActions map[string]int
	captureDir  string
	captured    int
}

func newObserver(captureDir string) *observer {
	return &observer{methods: map[string]int{}, soapActions: map[string]int{}, captureDir: captureDir}
}

func (o *observer) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/sdk") {
			body, err := ioutil.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = ioutil.NopCloser(bytes.NewReader(body))
			o.record(bodyMethod(body), r.Header.Get("SOAPAction"), body)
		}
		next.ServeHTTP(w, r)
	})
}

func (o *observer) record(method, soapAction string, body []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.methods[method]++
	o.soapActions[soapAction]++
	if o.captureDir != "" {
		o.captured++
		name := filepath.Join(o.captureDir, fmt.Sprintf("%06d-%s.xml", o.captured, method))
		_ = ioutil.WriteFile(name, body, 0o644)
	}
}

func (o *observer) stats(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]interface{}{
		"methods":     o.methods,
		"soapActions": o.soapActions,
	})
}

func (o *observer) reset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	o.mu.Lock()
	o.methods = map[string]int{}
	o.soapActions = map[string]int{}
	o.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
