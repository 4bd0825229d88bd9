package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/ioutil"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// observer records what reached the simulator's SOAP endpoint, for tests to assert on, and
// captures each request body for the wire-conformance check (test/conformance).
type observer struct {
	mu          sync.Mutex
	methods     map[string]int
	soapActions map[string]int
	captureDir  string
	captured    int
	// distinct: write each request body once per process. The run-wide capture is read only to
	// validate, and a byte-identical body validates alike: most of a run's requests are the same
	// few CurrentTime, Login and RetrieveServiceContent bodies (3 717 requests, 744 distinct).
	// A test that counts its own requests passes a capture directory of its own, which keeps all.
	distinct bool
	seen     map[[sha256.Size]byte]struct{}
}

// soapCall is a SOAP request as the observer read it; later middleware reads the body from
// here instead of consuming the request stream again.
type soapCall struct {
	method string
	body   []byte
}

type soapCallKey struct{}

func soapCallOf(r *http.Request) *soapCall {
	c, _ := r.Context().Value(soapCallKey{}).(*soapCall)
	return c
}

func newObserver(captureDir string, distinct bool) *observer {
	return &observer{methods: map[string]int{}, soapActions: map[string]int{}, captureDir: captureDir, distinct: distinct, seen: map[[sha256.Size]byte]struct{}{}}
}

func (o *observer) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// JSON API requests (vi_json.go) come back through here as the SOAP requests they become.
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/sdk") && !isVIJSONPath(r.URL.Path) {
			body, err := ioutil.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			call := &soapCall{method: bodyMethod(body), body: body}
			o.record(call.method, r.Header.Get("SOAPAction"), body)
			r = r.WithContext(context.WithValue(r.Context(), soapCallKey{}, call))
			r.Body = ioutil.NopCloser(bytes.NewReader(body))
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
		if o.distinct {
			sum := sha256.Sum256(body)
			if _, ok := o.seen[sum]; ok {
				return
			}
			o.seen[sum] = struct{}{}
		}
		o.captured++
		// Several harnesses of one test run may share the directory: the pid keeps names apart.
		name := filepath.Join(o.captureDir, fmt.Sprintf("%d-%06d-%s.xml", os.Getpid(), o.captured, method))
		_ = ioutil.WriteFile(name, body, 0o644)
	}
}

// snapshot copies the counters, so the stats encoder never holds the lock while writing.
func (o *observer) snapshot() (methods, soapActions map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	methods, soapActions = map[string]int{}, map[string]int{}
	for k, v := range o.methods {
		methods[k] = v
	}
	for k, v := range o.soapActions {
		soapActions[k] = v
	}
	return methods, soapActions
}

// reset clears the counters but never the capture: the conformance check wants every request
// of the run, including those sent before a test reset the stats.
func (o *observer) reset() {
	o.mu.Lock()
	o.methods = map[string]int{}
	o.soapActions = map[string]int{}
	o.mu.Unlock()
}

// bodyMethod returns the local name of the first element inside the SOAP Body.
func bodyMethod(body []byte) string {
	i := bytes.Index(body, []byte("Body"))
	if i < 0 {
		return ""
	}
	rest := body[i:]
	j := bytes.IndexByte(rest, '<')
	if j < 0 {
		return ""
	}
	rest = rest[j+1:]
	end := bytes.IndexAny(rest, " />\t\r\n")
	if end < 0 {
		return ""
	}
	name := string(rest[:end])
	if k := strings.IndexByte(name, ':'); k >= 0 {
		name = name[k+1:]
	}
	return name
}
