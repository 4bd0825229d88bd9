package main

import (
	"io"
	"net"
	"net/http"
	"strings"
)

// tunnelTarget is the only CONNECT target vCenter's port-80 reverse proxy accepts: clients
// reach vpxd's SOAP port through it when they log in with a client certificate that a
// TLS-terminating proxy in front of /sdk would otherwise swallow.
const tunnelTarget = "sdkTunnel:8089"

// startTunnel serves that proxy on a port of its own (the ready line's tunnelPort), tunnelling
// to the simulator's TLS listener, so the TLS session, client certificate included, runs
// end to end between client and simulator.
func (h *harness) startTunnel(target string) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			w.Header().Set("Allow", "CONNECT")
			http.Error(w, "CONNECT "+tunnelTarget+" only", http.StatusMethodNotAllowed)
			return
		}
		if !strings.EqualFold(r.Host, tunnelTarget) {
			h.count(&h.tunnelsRefused)
			http.Error(w, "tunnel target not allowed: "+r.Host, http.StatusForbidden)
			return
		}
		upstream, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			_ = upstream.Close()
			return
		}
		h.count(&h.tunnels)
		_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		// Bytes the client sent right behind the CONNECT (a TLS ClientHello, say) may already
		// sit in the server's read buffer.
		if n := buf.Reader.Buffered(); n > 0 {
			pending, _ := buf.Reader.Peek(n)
			_, _ = upstream.Write(pending)
		}
		go func() {
			_, _ = io.Copy(upstream, conn)
			_ = upstream.Close()
		}()
		_, _ = io.Copy(conn, upstream)
		_ = conn.Close()
	})}
	go func() { _ = srv.Serve(l) }()
	return l.Addr().(*net.TCPAddr).Port
}
