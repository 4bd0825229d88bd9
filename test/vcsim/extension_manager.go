package main

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// extensionManager is the ExtensionManager vcsim 0.24 lacks: ServiceContent names it, but the
// registry only holds a bare mo.ExtensionManager with no methods.
//
// mo.ExtensionManager must stay the first field: vcsim's PropertyCollector finds a wrapper's
// properties (extensionList here) through its first embedded field. The embedded Mutex makes
// the type a sync.Locker, so vcsim's per-object lock around each method call and the login
// guard (extension_login.go), which reads registrations outside any SOAP call, share one lock.
type extensionManager struct {
	mo.ExtensionManager
	sync.Mutex

	// SHA-1 thumbprints (colon-separated upper-case hex) set by SetExtensionCertificate, by key.
	// Kept outside Extension because vCenter does not show an extension's certificate either.
	thumbprints map[string]string

	// peer carries the TLS client certificate of the SetExtensionCertificate call in progress:
	// vcsim does not pass the HTTP request to managed-object methods, so the middleware in
	// front of it (withPeer) fills this in, one such call at a time.
	peerMu sync.Mutex
	peer   *x509.Certificate
}

// installExtensionManager puts ours in the registry under ServiceContent.extensionManager,
// adding that reference first if the model has none (vcsim's ESX model, for one).
func installExtensionManager(si *simulator.ServiceInstance) *extensionManager {
	if si.Content.ExtensionManager == nil {
		si.Content.ExtensionManager = &types.ManagedObjectReference{Type: "ExtensionManager", Value: "ExtensionManager"}
	}
	ref := *si.Content.ExtensionManager
	m := &extensionManager{thumbprints: map[string]string{}}
	m.Self = ref
	// Put replaces the methodless placeholder vcsim loaded for the ServiceContent reference.
	simulator.Map.Put(m)
	return m
}

// find returns a copy of the registration and its certificate thumbprint, for the login guard.
func (m *extensionManager) find(key string) (*types.Extension, string) {
	m.Lock()
	defer m.Unlock()
	if i := m.index(key); i >= 0 {
		e := m.ExtensionList[i]
		return &e, m.thumbprints[key]
	}
	return nil, ""
}

// keyForThumbprint returns the key of the registered extension whose certificate (set by
// SetExtensionCertificate) has this SHA-1 thumbprint, the least such key if several share it.
func (m *extensionManager) keyForThumbprint(thumbprint string) string {
	m.Lock()
	defer m.Unlock()
	found := ""
	for key, tp := range m.thumbprints {
		if tp == thumbprint && m.index(key) >= 0 && (found == "" || key < found) {
			found = key
		}
	}
	return found
}

func (m *extensionManager) index(key string) int {
	for i := range m.ExtensionList {
		if m.ExtensionList[i].Key == key {
			return i
		}
	}
	return -1
}

// The methods below run inside vcsim's dispatcher, which already holds m's lock.

func (m *extensionManager) RegisterExtension(ctx *simulator.Context, req *types.RegisterExtension) soap.HasFault {
	body := new(methods.RegisterExtensionBody)
	e := req.Extension
	switch {
	case e.Key == "":
		body.Fault_ = simulator.Fault("extension.key is empty", &types.InvalidArgument{InvalidProperty: "extension.key"})
	case m.index(e.Key) >= 0:
		// The WSDL lists only RuntimeFault here; InvalidArgument is the RuntimeFault vCenter uses
		// for a key that is taken.
		body.Fault_ = simulator.Fault("extension "+e.Key+" is already registered", &types.InvalidArgument{InvalidProperty: "extension.key"})
	default:
		if e.LastHeartbeatTime.IsZero() {
			e.LastHeartbeatTime = time.Now().UTC()
		}
		m.ExtensionList = append(m.ExtensionList, e)
		body.Res = new(types.RegisterExtensionResponse)
	}
	return body
}

func (m *extensionManager) FindExtension(ctx *simulator.Context, req *types.FindExtension) soap.HasFault {
	res := new(types.FindExtensionResponse)
	if i := m.index(req.ExtensionKey); i >= 0 {
		e := m.ExtensionList[i]
		res.Returnval = &e
	}
	return &methods.FindExtensionBody{Res: res}
}

func (m *extensionManager) UpdateExtension(ctx *simulator.Context, req *types.UpdateExtension) soap.HasFault {
	body := new(methods.UpdateExtensionBody)
	i := m.index(req.Extension.Key)
	if i < 0 {
		body.Fault_ = simulator.Fault("extension "+req.Extension.Key+" is not registered", new(types.NotFound))
		return body
	}
	e := req.Extension
	if e.LastHeartbeatTime.IsZero() {
		e.LastHeartbeatTime = m.ExtensionList[i].LastHeartbeatTime
	}
	m.ExtensionList[i] = e
	body.Res = new(types.UpdateExtensionResponse)
	return body
}

func (m *extensionManager) UnregisterExtension(ctx *simulator.Context, req *types.UnregisterExtension) soap.HasFault {
	body := new(methods.UnregisterExtensionBody)
	i := m.index(req.ExtensionKey)
	if i < 0 {
		body.Fault_ = simulator.Fault("extension "+req.ExtensionKey+" is not registered", new(types.NotFound))
		return body
	}
	m.ExtensionList = append(m.ExtensionList[:i:i], m.ExtensionList[i+1:]...)
	delete(m.thumbprints, req.ExtensionKey)
	body.Res = new(types.UnregisterExtensionResponse)
	return body
}

// SetExtensionCertificate stores the certificate LoginExtensionByCertificate will accept: the
// PEM given, or, as vCenter does without one, the certificate the caller connected with.
func (m *extensionManager) SetExtensionCertificate(ctx *simulator.Context, req *types.SetExtensionCertificate) soap.HasFault {
	body := new(methods.SetExtensionCertificateBody)
	if m.index(req.ExtensionKey) < 0 {
		body.Fault_ = simulator.Fault("extension "+req.ExtensionKey+" is not registered", new(types.NotFound))
		return body
	}
	var der []byte
	if req.CertificatePem != "" {
		block, _ := pem.Decode([]byte(req.CertificatePem))
		if block == nil || block.Type != "CERTIFICATE" {
			body.Fault_ = simulator.Fault("certificatePem is not a PEM certificate", &types.InvalidArgument{InvalidProperty: "certificatePem"})
			return body
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			body.Fault_ = simulator.Fault(err.Error(), &types.InvalidArgument{InvalidProperty: "certificatePem"})
			return body
		}
		der = block.Bytes
	} else if m.peer != nil {
		der = m.peer.Raw
	} else {
		body.Fault_ = simulator.Fault("no certificatePem and no client certificate", new(types.NoClientCertificate))
		return body
	}
	m.thumbprints[req.ExtensionKey] = fingerprint(sha1.Sum(der))
	body.Res = new(types.SetExtensionCertificateResponse)
	return body
}

// withPeer hands the connection's client certificate to SetExtensionCertificate.
func (m *extensionManager) withPeer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.peerMu.Lock()
		defer m.peerMu.Unlock()
		m.peer = peerCertificate(r)
		defer func() { m.peer = nil }()
		next.ServeHTTP(w, r)
	})
}

func peerCertificate(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}
