package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Guest file transfers without containers. vcsim serves GuestFileManager's
// InitiateFileTransferToGuest/FromGuest only for VMs backed by a Docker container, which the
// harness has none of. Here every powered-on VM has a guest file system of its own (a directory
// of the harness's), reached as vCenter and ESX do it: the call checks the VM's power state
// and the guest credentials (NamePasswordAuthentication with a user name and a password; the
// password "wrong" is an InvalidGuestLogin), and answers a URL https://*/guestFile?id=&token=
// that a single PUT (to the guest, with exactly the announced size) or GET (from it) redeems
// within 10 minutes. An existing file is FileAlreadyExists unless overwrite is set; a missing
// one, FileNotFound. The URL carries the ticket: no session cookie is needed, and one is not
// enough.
//
// The calls are re-addressed to a proxy in vcsim's registry (as export_vm.go does), so that
// vcsim's dispatcher runs them under the caller's session.

const (
	guestProxyType  = "HarnessGuestFileManager"
	guestProxyValue = "harness-guest-file-manager"
	guestTicketLife = 10 * time.Minute
)

type guestTicket struct {
	method  string
	file    string // the file in the harness's directory
	size    int64  // PUT: the announced size
	expires time.Time
}

type guestFiles struct {
	mu       sync.Mutex
	dir      string
	tickets  map[string]guestTicket
	once     sync.Once
	redeemed int
}

var guests = &guestFiles{tickets: map[string]guestTicket{}}

func (g *guestFiles) install() {
	g.once.Do(func() {
		if g.dir == "" {
			dir, err := os.MkdirTemp("", "vcsim-guest-files-")
			if err != nil {
				panic(err)
			}
			g.dir = dir
		}
		_ = os.MkdirAll(g.dir, 0o700)
	})
	if simulator.Map.Get(types.ManagedObjectReference{Type: guestProxyType, Value: guestProxyValue}) == nil {
		simulator.Map.Put(&guestProxy{Self: types.ManagedObjectReference{Type: guestProxyType, Value: guestProxyValue}, g: g})
	}
}

// fileOf is where a VM's guest path lives in the harness's directory.
func (g *guestFiles) fileOf(vm types.ManagedObjectReference, guestPath string) string {
	sum := sha256.Sum256([]byte(vm.Value + "\x00" + guestPath))
	return filepath.Join(g.dir, hex.EncodeToString(sum[:]))
}

func (g *guestFiles) issue(t guestTicket) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	t.expires = time.Now().Add(guestTicketLife)
	g.mu.Lock()
	g.tickets[id] = t
	g.mu.Unlock()
	return id
}

func (g *guestFiles) redeem(id, method string) (guestTicket, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.tickets[id]
	if !ok || t.method != method || time.Now().After(t.expires) {
		return guestTicket{}, false
	}
	delete(g.tickets, id)
	g.redeemed++
	return t, true
}

// methods re-addresses the two GuestFileManager calls to the proxy.
func (g *guestFiles) methods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := soapCallOf(r)
		if call == nil || (call.method != "InitiateFileTransferToGuest" && call.method != "InitiateFileTransferFromGuest") {
			next.ServeHTTP(w, r)
			return
		}
		g.install()
		body := thisElement.ReplaceAll(call.body, []byte(`<${1}_this type="`+guestProxyType+`">`+guestProxyValue+`</${1}_this>`))
		forward(next, w, r, call.method, body, nil)
	})
}

// serve is /guestFile: a PUT or GET that spends its ticket.
func (g *guestFiles) serve(w http.ResponseWriter, r *http.Request) {
	t, ok := g.redeem(r.URL.Query().Get("token"), r.Method)
	if !ok {
		http.Error(w, "unknown, used or expired guest file ticket", http.StatusUnauthorized)
		return
	}
	switch r.Method {
	case http.MethodPut:
		if r.ContentLength != t.size {
			http.Error(w, "the body is not the announced size", http.StatusBadRequest)
			return
		}
		tmp := t.file + ".part"
		f, err := os.Create(tmp)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		n, err := io.Copy(f, r.Body)
		_ = f.Close()
		if err != nil || n != t.size {
			_ = os.Remove(tmp)
			http.Error(w, "the upload was cut short", http.StatusBadRequest)
			return
		}
		if err := os.Rename(tmp, t.file); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		f, err := os.Open(t.file)
		if err != nil {
			http.Error(w, "no such file", http.StatusNotFound)
			return
		}
		defer f.Close()
		st, _ := f.Stat()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
		_, _ = io.Copy(w, f)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

type guestProxy struct {
	Self types.ManagedObjectReference
	g    *guestFiles
}

func (p *guestProxy) Reference() types.ManagedObjectReference { return p.Self }

// guestCheck is what both calls check: the VM exists and is powered on, the credentials are there.
func guestCheck(vmRef types.ManagedObjectReference, auth types.BaseGuestAuthentication) types.BaseMethodFault {
	vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
	if !ok {
		return &types.ManagedObjectNotFound{Obj: vmRef}
	}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: vm.Runtime.PowerState}
	}
	creds, ok := auth.(*types.NamePasswordAuthentication)
	if !ok || creds.Username == "" || creds.Password == "" || creds.Password == "wrong" {
		return new(types.InvalidGuestLogin)
	}
	return nil
}

func guestURL(token string) string {
	return (&url.URL{Scheme: "https", Host: "*", Path: "/guestFile", RawQuery: url.Values{"id": []string{"1"}, "token": []string{token}}.Encode()}).String()
}

func (p *guestProxy) InitiateFileTransferToGuest(ctx *simulator.Context, req *types.InitiateFileTransferToGuest) soap.HasFault {
	body := new(methods.InitiateFileTransferToGuestBody)
	if fault := guestCheck(req.Vm, req.Auth); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	if req.GuestFilePath == "" || req.FileSize < 0 {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "guestFilePath"})
		return body
	}
	file := p.g.fileOf(req.Vm, req.GuestFilePath)
	if _, err := os.Stat(file); err == nil && !req.Overwrite {
		body.Fault_ = simulator.Fault("", &types.FileAlreadyExists{FileFault: types.FileFault{File: req.GuestFilePath}})
		return body
	}
	token := p.g.issue(guestTicket{method: http.MethodPut, file: file, size: req.FileSize})
	body.Res = &types.InitiateFileTransferToGuestResponse{Returnval: guestURL(token)}
	return body
}

func (p *guestProxy) InitiateFileTransferFromGuest(ctx *simulator.Context, req *types.InitiateFileTransferFromGuest) soap.HasFault {
	body := new(methods.InitiateFileTransferFromGuestBody)
	if fault := guestCheck(req.Vm, req.Auth); fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	file := p.g.fileOf(req.Vm, req.GuestFilePath)
	st, err := os.Stat(file)
	if err != nil {
		body.Fault_ = simulator.Fault("", &types.FileNotFound{FileFault: types.FileFault{File: req.GuestFilePath}})
		return body
	}
	mtime := st.ModTime()
	token := p.g.issue(guestTicket{method: http.MethodGet, file: file})
	body.Res = &types.InitiateFileTransferFromGuestResponse{Returnval: types.FileTransferInformation{
		Attributes: &types.GuestPosixFileAttributes{GuestFileAttributes: types.GuestFileAttributes{ModificationTime: &mtime}},
		Size:       st.Size(),
		Url:        guestURL(token),
	}}
	return body
}
