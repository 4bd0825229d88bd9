// Command vcsim-harness runs govmomi's vCenter simulator as the peer our tests talk to.
//
// It adds what a real vCenter has and vcsim 0.24 lacks for our purposes: the WSDL bundle
// served under /sdk/, a TLS certificate we control (so tests can verify or pin it), an
// apiVersion matching the bundle, an ExtensionManager with certificate logins, the sdkTunnel
// proxy, the vSphere Client plug-in clone-ticket endpoint, unified VIM/vAPI sessions, vCenter
// 8.0 U1's VI/JSON API beside SOAP (vi_json.go), and test-only observability and fault
// switches under /_harness/ (see control.go).
// With -esx it runs vcsim's ESX model instead (about.apiType "HostAgent"), keeping all of the
// above except the sdkTunnel's purpose and the STS (a real ESXi has neither). A real ESXi has
// no ExtensionManager either: the harness keeps one in ESX mode, with the certificate login
// guards, so that a client's direct mutual-TLS login path (no tunnel) can be tested.
// The SessionManager methods vcsim lacks or gets wrong are added in session_methods.go,
// the STS's holder-of-key tokens and the LoginByToken signature check in sts.go, datastore
// access by session or generic service ticket in service_tickets.go.
// Every session it hands out is one of vcsim's own: the additions sit in front of the
// simulator's SessionManager or call it in-process, they never keep session state of their own.
// It prints one JSON line describing itself on stdout once it is ready, and exits when
// stdin closes so a crashed test runner never leaves it behind.
package main

import (
	"bufio"
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
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/simulator/vpx"
	_ "github.com/vmware/govmomi/sts/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
	"github.com/vmware/govmomi/vim25"
)

type ready struct {
	URL          string   `json:"url"`
	CertFile     string   `json:"certFile"`
	SHA1         string   `json:"sha1"`
	SHA256       string   `json:"sha256"`
	APIVersion   string   `json:"apiVersion"`
	InstanceUUID string   `json:"instanceUuid"`
	Username     string   `json:"username"`
	Password     string   `json:"password"`
	TunnelPort   int      `json:"tunnelPort"`
	ControlURL   string   `json:"controlUrl"`
	APIType      string   `json:"apiType"`
	STSURL       string   `json:"stsUrl"`
	ViewerName   string   `json:"viewerUsername"`
	ViewerPass   string   `json:"viewerPassword"`
	StateDir     string   `json:"stateDir"`
	VIJSON       []string `json:"viJsonReleases"`
}

func main() {
	defaults := simulator.VPX()
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	wsdlDir := flag.String("wsdl", "", "directory of the vim25 WSDL bundle served under /sdk/")
	apiVersion := flag.String("api-version", "8.0.2.0", "about.apiVersion the simulator reports")
	username := flag.String("username", "user", "accepted user name")
	password := flag.String("password", "pass", "accepted password (POST /_harness/password changes it at run time)")
	idle := flag.Duration("idle-timeout", 0, "session idle timeout (0: never)")
	stateDir := flag.String("state-dir", "", "directory for the certificate, local-ticket password files and signature-check scratch files (default: a temporary one, removed on exit)")
	captureDir := flag.String("capture-dir", "", "write every SOAP request body to this directory")
	captureDistinct := flag.Bool("capture-distinct", false, "with -capture-dir: write each distinct request body once")
	datacenters := flag.Int("datacenters", defaults.Datacenter, "datacenters (Model.Datacenter)")
	clusters := flag.Int("clusters", defaults.Cluster, "clusters per datacenter (Model.Cluster)")
	hosts := flag.Int("hosts", defaults.ClusterHost, "hosts per cluster (Model.ClusterHost)")
	standalone := flag.Int("standalone-hosts", defaults.Host, "standalone hosts per datacenter (Model.Host)")
	vms := flag.Int("vms", defaults.Machine, "VMs per standalone host and per cluster (Model.Machine); in ESX mode, VMs on the host")
	esxMode := flag.Bool("esx", false, "run vcsim's ESX model (about.apiType HostAgent) instead of its vCenter model")
	instanceUUID := flag.String("instance-uuid", "", "about.instanceUuid (default: the model's; empty in ESX mode)")
	sspi := flag.Bool("sspi", true, "answer LoginBySSPI (false: NotSupported, as a server without SSPI; POST /_harness/sspi switches)")
	localTicket := flag.String("local-tickets", "local", `AcquireLocalTicket callers are "local" (served), "remote" (InvalidRequest) or "unsupported" (NotSupported)`)
	viJSONOn := flag.Bool("vi-json", true, "serve the VI/JSON API under /sdk/vim25/ (false: 404 there, as a vCenter before 8.0 U1; POST /_harness/vi-json switches); with -esx, off unless given")
	exportVM := flag.Bool("export-vm", true, "serve VirtualMachine.ExportVm and OvfManager.CreateDescriptor's export leases (false: ExportVm answers MethodNotFound, as vcsim; POST /_harness/export-vm switches)")
	viewer := flag.String("viewer", "viewer:viewer", `a second, unprivileged user "name:password" Login accepts ("" for none; none either when the name is -username's)`)
	flag.Parse()
	// The JSON API is vCenter's (8.0 U1+): an ESXi host has none unless a test asks for it.
	viJSONGiven := false
	flag.Visit(func(f *flag.Flag) { viJSONGiven = viJSONGiven || f.Name == "vi-json" })
	if *esxMode && !viJSONGiven {
		*viJSONOn = false
	}
	if !validLocalTicketMode(*localTicket) {
		log.Fatalf("-local-tickets: %q is not local, remote or unsupported", *localTicket)
	}
	viewerName, viewerPass := "", ""
	if *viewer != "" {
		i := strings.IndexByte(*viewer, ':')
		if i <= 0 || i == len(*viewer)-1 {
			log.Fatalf("-viewer: want name:password")
		}
		if (*viewer)[:i] != *username {
			viewerName, viewerPass = (*viewer)[:i], (*viewer)[i+1:]
		}
	}

	if *stateDir == "" {
		d, err := ioutil.TempDir("", "vcsim-harness-")
		check(err)
		*stateDir = d
		defer os.RemoveAll(d)
	}
	certFile := filepath.Join(*stateDir, "server.pem")
	cert, der := selfSigned()
	check(ioutil.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))

	simulator.SessionIdleTimeout = *idle
	// Set before Create: the simulator copies this template into the ServiceInstance and its
	// own internal client (which answers /sdk/vimServiceVersions.xml).
	var model *simulator.Model
	if *esxMode {
		esx.ServiceContent.About.ApiVersion = *apiVersion
		model = simulator.ESX()
		model.Machine = *vms // the host's VMs; the vCenter inventory flags do not apply
	} else {
		vpx.ServiceContent.About.ApiVersion = *apiVersion
		model = simulator.VPX()
		model.Datacenter = *datacenters
		model.Cluster = *clusters
		model.ClusterHost = *hosts
		model.Host = *standalone
		model.Machine = *vms
	}
	if *instanceUUID != "" {
		model.ServiceContent.About.InstanceUuid = *instanceUUID
	}
	check(model.Create())
	si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	ext := installExtensionManager(si)
	content := si.Content
	installLocales(simulator.Map.SessionManager())

	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	model.Service.RegisterEndpoints = true
	model.Service.ServeMux = http.NewServeMux()
	model.Service.Listen = &url.URL{Host: *addr, User: url.UserPassword(*username, *password)}
	if *wsdlDir != "" {
		model.Service.Handle("/sdk/", http.StripPrefix("/sdk/", wsdlFiles(*wsdlDir)))
	}

	srv := model.Service.NewServer()
	h := &harness{
		svc:          model.Service,
		sim:          model.Service.ServeMux,
		sdkURL:       withoutUser(srv.URL),
		apiVersion:   *apiVersion,
		instanceUUID: content.About.InstanceUuid,
		content:      content,
		username:     *username,
		password:     *password,
		obs:          newObserver(*captureDir, *captureDistinct),
		faults:       newFaults(),
		ext:          ext,
		tickets:      newTicketSet(),
		ui:           newUITokens(),
		sha1:         fingerprint(sha1.Sum(der)),
		viewerName:   viewerName,
		viewerPass:   viewerPass,
		sspi:         newSSPI(*sspi),
		local:        newLocalTickets(filepath.Join(*stateDir, "local-tickets"), *localTicket),
		svcTickets:   newServiceTickets(),
		sts:          newSTS(*stateDir),
		json:         newVIJSON(*viJSONOn, *apiVersion),
	}
	installSessionExtras(h)
	h.inv = installInventoryExtras(h)
	h.nfc = installNFCExtras(h, *exportVM)
	guests.dir = filepath.Join(*stateDir, "guest-files") // guest_files.go
	h.sts.url = stsURL()                                 // known once NewServer has put the listener's address into the settings
	// The simulator's server is already listening, but no client knows its address yet, so
	// swapping the handler and the connection hook here races with nobody.
	srv.Config.Handler = h.routes()
	srv.Config.ConnState = h.faults.connState(srv.Config.ConnState)
	// Clients that probe a pin or drop a connection on purpose are not the harness's concern.
	srv.Config.ErrorLog = log.New(ioutil.Discard, "", 0)

	tunnelPort := h.startTunnel(srv.Listener.Addr().String())
	controlURL := h.startControl()

	out, _ := json.Marshal(ready{
		URL:          h.sdkURL.String(),
		CertFile:     certFile,
		SHA1:         fingerprint(sha1.Sum(der)),
		SHA256:       fingerprint(sha256.Sum256(der)),
		APIVersion:   *apiVersion,
		InstanceUUID: content.About.InstanceUuid,
		Username:     *username,
		Password:     *password,
		TunnelPort:   tunnelPort,
		ControlURL:   controlURL,
		APIType:      content.About.ApiType,
		STSURL:       h.sts.url,
		ViewerName:   viewerName,
		ViewerPass:   viewerPass,
		StateDir:     *stateDir,
		VIJSON:       h.json.releases,
	})
	fmt.Println(string(out))

	_, _ = io.Copy(ioutil.Discard, bufio.NewReader(os.Stdin))
	srv.Close()
	model.Remove()
}

func withoutUser(u *url.URL) *url.URL {
	c := *u
	c.User = nil
	return &c
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
		SerialNumber: serial,
		// A subject of its own per instance: a client trusting two harnesses must be able to
		// tell their self-signed certificates apart (OpenSSL picks a CA by subject name).
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"vim25-soap test harness"}, OrganizationalUnit: []string{fmt.Sprintf("instance %x", serial)}},
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
