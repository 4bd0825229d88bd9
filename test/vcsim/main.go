// Command vcsim-harness runs govmomi's vCenter simulator as the peer our tests talk to.
//
// It adds what a real vCenter has and vcsim 0.24 lacks for our purposes: the WSDL bundle
// served under /sdk/, a TLS certificate we control (so tests can verify or pin it), an
// apiVersion matching the bundle, and test-only observability under /_harness/.
// It prints one JSON line describing itself on stdout once it is ready, and exits when
// stdin closes so a crashed test runner never leaves it behind.
package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/vpx"
	"github.com/vmware/govmomi/vim25"
	_ "github.com/vmware/govmomi/sts/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

type ready struct {
	URL          string `json:"url"`
	CertFile     string `json:"certFile"`
	SHA1         string `json:"sha1"`
	SHA256       string `json:"sha256"`
	APIVersion   string `json:"apiVersion"`
	InstanceUUID string `json:"instanceUuid"`
	Username     string `json:"username"`
	Password     string `json:"password"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	wsdlDir := flag.String("wsdl", "", "directory of the vim25 WSDL bundle served under /sdk/")
	apiVersion := flag.String("api-version", "8.0.2.0", "about.apiVersion the simulator reports")
	username := flag.String("username", "user", "accepted user name")
	password := flag.String("password", "pass", "accepted password")
	idle := flag.Duration("idle-timeout", 0, "session idle timeout (0: never)")
	stateDir := flag.String("state-dir", "", "directory for the certificate and captured requests")
	captureDir := flag.String("capture-dir", "", "write every SOAP request body to this directory")
	flag.Parse()

	if *stateDir == "" {
		d, err := ioutil.TempDir("", "vcsim-harness-")
		check(err)
		*stateDir = d
	}
	certFile := filepath.Join(*stateDir, "server.pem")
	cert, der := selfSigned()
	check(ioutil.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))

	simulator.SessionIdleTimeout = *idle
	// Set before Create: the simulator copies this template into the ServiceInstance and its
	// own internal client (which answers /sdk/vimServiceVersions.xml).
	vpx.ServiceContent.About.ApiVersion = *apiVersion
	model := simulator.VPX()
	check(model.Create())
	content := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance).Content

	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	model.Service.RegisterEndpoints = true
	model.Service.ServeMux = http.NewServeMux()
	model.Service.Listen = &url.URL{Host: *addr, User: url.UserPassword(*username, *password)}
	if *wsdlDir != "" {
		model.Service.Handle("/sdk/", http.StripPrefix("/sdk/", wsdlFiles(*wsdlDir)))
	}

	obs := newObserver(*captureDir)
	model.Service.HandleFunc("/_harness/stats", obs.stats)
	model.Service.HandleFunc("/_harness/reset", obs.reset)

	srv := model.Service.NewServer()
	// The simulator's server is already listening, but no client knows its address yet.
	srv.Config.Handler = obs.wrap(srv.Config.Handler)
	// Clients that probe a pin or drop a connection on purpose are not the harness's concern.
	srv.Config.ErrorLog = log.New(ioutil.Discard, "", 0)

	u := *srv.URL
	u.User = nil
	out, _ := json.Marshal(ready{
		URL:          u.String(),
		CertFile:     certFile,
		SHA1:         fingerprint(sha1.Sum(der)),
		SHA256:       fingerprint(sha256.Sum256(der)),
		APIVersion:   *apiVersion,
		InstanceUUID: content.About.InstanceUuid,
		Username:     *username,
		Password:     *password,
	})
	fmt.Println(string(out))

	_, _ = io.Copy(ioutil.Discard, bufio.NewReader(os.Stdin))
	srv.Close()
	model.Remove()
}

// wsdlFiles serves the bundle as vCenter does: plain files, nothing else under /sdk/.
func wsdlFiles(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		if r.Method != http.MethodGet || name != r.URL.Path || !(strings.HasSuffix(name, ".wsdl") || strings.HasSuffix(name, ".xsd")) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		http.ServeFile(w, r, filepath.Join(dir, name))
	})
}

func selfSigned() (tls.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	check(err)
	tpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"vim25-soap test harness"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	check(err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der
}

func fingerprint(sum interface{}) string {
	var b []byte
	switch s := sum.(type) {
	case [20]byte:
		b = s[:]
	case [32]byte:
		b = s[:]
	}
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, ":")
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
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
