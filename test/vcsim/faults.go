package main

import (
	"bytes"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// faults holds the switches tests flip to see how a client copes with a misbehaving server.
// Each switch is armed for the next N occurrences and disarms itself; reset disarms them all.
// Only the main TLS listener and SOAP requests are affected: control routes and the REST
// routes keep working, so a test can always observe and undo what it armed.
type faults struct {
	mu          sync.Mutex
	drop        int    // connections, requests or answers to drop
	dropStage   string // "accept": close right after accept; "request": close after reading a SOAP request; "answer": close instead of answering one
	dropMethod  string // "request" and "answer": only SOAP calls of this method ("" any)
	stall       time.Duration
	unavailable int // SOAP requests to answer with a 503 HTML page
	release     chan struct{}

	conns    map[net.Conn]bool // open connections on the main listener, for restart
	accepted int
	dropped  int
	stalled  int
	refused  int // 503 answers sent
}

func newFaults() *faults {
	return &faults{conns: map[net.Conn]bool{}, release: make(chan struct{}), dropStage: "accept"}
}

// connState wraps the server's connection hook (vcsim's test server tracks connections with it
// too). Closing a connection in StateNew happens before the TLS handshake, so the client sees
// its connection accepted and closed without a byte of answer, as from a crashed or
// overloaded server.
func (f *faults) connState(next func(net.Conn, http.ConnState)) func(net.Conn, http.ConnState) {
	return func(c net.Conn, s http.ConnState) {
		if next != nil {
			next(c, s)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		switch s {
		case http.StateNew:
			f.accepted++
			if f.drop > 0 && f.dropStage == "accept" {
				f.drop--
				f.dropped++
				_ = c.Close()
				return
			}
			f.conns[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(f.conns, c)
		}
	}
}

// takeDrop spends one armed drop of this stage, if the call's method is the one it is for.
func (f *faults) takeDrop(stage, method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.drop > 0 && f.dropStage == stage && (f.dropMethod == "" || f.dropMethod == method) {
		f.drop--
		f.dropped++
		return true
	}
	return false
}

func (f *faults) takeUnavailable() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unavailable > 0 {
		f.unavailable--
		f.refused++
		return true
	}
	return false
}

func (f *faults) takeStall() (time.Duration, chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.stall
	f.stall = 0
	if d > 0 {
		f.stalled++
	}
	return d, f.release
}

func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := soapCallOf(r)
		if call == nil {
			next.ServeHTTP(w, r)
			return
		}
		if f.takeDrop("request", call.method) {
			// The request was read, so the client cannot know whether it was executed.
			closeConnection(w)
			return
		}
		// Decided when the answer is written, not when the request comes: a call already in
		// flight when the switch is armed (a WaitForUpdatesEx that blocks) is caught too.
		w = &answerDropper{ResponseWriter: w, f: f, method: call.method}
		if f.takeUnavailable() {
			// What a reverse proxy in front of vpxd answers while vpxd is down or restarting.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "<html>\n<head><title>503 Service Unavailable</title></head>\n<body>\n<center><h1>503 Service Unavailable</h1></center>\n</body>\n</html>\n")
			return
		}
		if d, release := f.takeStall(); d > 0 {
			// Executed first, answered late: the client that gives up cannot tell whether the
			// call took effect, which is the case its timeout handling has to get right.
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
			case <-release:
			}
			t.Stop()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		next.ServeHTTP(w, r)
	})
}

func closeConnection(w http.ResponseWriter) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// answerDropper lets the call run, then, if an "answer" drop for its method is armed when the
// answer is about to be written, closes the connection instead: the call took effect and the
// client never learns how (a WaitForUpdatesEx's version spent, a collector made).
type answerDropper struct {
	http.ResponseWriter
	f       *faults
	method  string
	decided bool
	dropped bool
}

func (d *answerDropper) drop() bool {
	if !d.decided {
		d.decided = true
		if d.f.takeDrop("answer", d.method) {
			d.dropped = true
			closeConnection(d.ResponseWriter)
		}
	}
	return d.dropped
}

func (d *answerDropper) WriteHeader(code int) {
	if !d.drop() {
		d.ResponseWriter.WriteHeader(code)
	}
}

func (d *answerDropper) Write(b []byte) (int, error) {
	if d.drop() {
		return len(b), nil
	}
	return d.ResponseWriter.Write(b)
}

// closeConnections closes every open connection on the main listener except keep (the one
// carrying the restart request, which closes after its answer instead).
func (f *faults) closeConnections(keep string) int {
	f.mu.Lock()
	var victims []net.Conn
	for c := range f.conns {
		if c.RemoteAddr().String() != keep {
			victims = append(victims, c)
		}
	}
	f.mu.Unlock()
	for _, c := range victims {
		_ = c.Close()
	}
	return len(victims)
}

// reset disarms every switch, lets stalled answers go, and clears the counters.
func (f *faults) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop, f.dropStage, f.dropMethod, f.stall, f.unavailable = 0, "accept", "", 0, 0
	close(f.release)
	f.release = make(chan struct{})
	f.accepted, f.dropped, f.stalled, f.refused = 0, 0, 0, 0
}

func nopBody(b []byte) io.ReadCloser { return ioutil.NopCloser(bytes.NewReader(b)) }
