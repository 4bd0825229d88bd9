package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"reflect"
	"strings"
	"sync"

	govobject "github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// What OVF export and import need and vcsim 0.24 lacks:
//
//   - VirtualMachine.ExportVm: a real HttpNfcLease of vcsim's (in the caller's session, so its
//     state, info and the HttpNfcLeaseProgress/Complete/Abort methods are vcsim's own) whose
//     deviceUrl entries, one per virtual disk, stream the VM's disk files from the simulated
//     datastore (GET /nfc/<lease>/disk-<n>.vmdk). A powered-on VM is refused with
//     InvalidPowerState, as vCenter does. POST /_harness/export-vm {"enabled": false} (or
//     -export-vm=false) makes the harness an older server again: ExportVm goes to vcsim, which
//     answers MethodNotFound.
//   - OvfManager.CreateDescriptor: an OVF 1.x descriptor of the VM (CPUs, memory, controllers,
//     disks with the files the caller names by deviceId, NICs and their networks) that vcsim's
//     own CreateImportSpec reads back, so an exported VM can be imported again.
//   - Uploads that land: vcsim throws the bytes of an import lease's uploads away. ImportVApp goes
//     through vcsim unchanged, and the harness then serves that lease's upload URLs itself,
//     writing each file to the disk it backs, so that exporting the imported VM gives the bytes back.
//   - What a test asserts on: GET /_harness/leases lists every lease of either kind with the
//     HttpNfcLeaseProgress calls, how it ended (Complete, or Abort with the fault it carried) and
//     each file's transferred byte count and SHA-256. POST /_harness/nfc-fail {"count"} makes the
//     next count NFC transfers fail with a 500 after reading the request.
//
// ExportVm and ImportVApp are re-addressed to proxies of ours in vcsim's registry (one per VM or
// pool, since neither call carries the object elsewhere than in _this), as session_methods.go
// does, so that vcsim's dispatcher runs them with its own Context: the caller's session.

const (
	exportProxyType = "HarnessExportVm"
	importProxyType = "HarnessImportVApp"
	ovfProxyType    = "HarnessOvfManager"
	ovfProxyValue   = "harness-ovf-manager"
)

type nfcFile struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Method   string `json:"method,omitempty"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256,omitempty"`
	Requests int    `json:"requests"`
	path     string
}

type nfcLeaseRecord struct {
	Lease         string     `json:"lease"`
	Kind          string     `json:"kind"` // "export" or "import"
	Entity        string     `json:"entity"`
	State         string     `json:"state"` // "open", "completed" or "aborted"
	ProgressCalls int        `json:"progressCalls"`
	LastProgress  int32      `json:"lastProgress"`
	AbortFault    string     `json:"abortFault,omitempty"`
	AbortMessage  string     `json:"abortMessage,omitempty"`
	Files         []*nfcFile `json:"files"`
}

type nfcExtras struct {
	h       *harness
	startup bool

	mu       sync.Mutex
	enabled  bool
	failNext int
	failed   int
	leases   map[string]*nfcLeaseRecord
	order    []string
	proxies  map[types.ManagedObjectReference]bool
}

func installNFCExtras(h *harness, exportVM bool) *nfcExtras {
	x := &nfcExtras{h: h, startup: exportVM, enabled: exportVM, leases: map[string]*nfcLeaseRecord{}, proxies: map[types.ManagedObjectReference]bool{}}
	simulator.Map.Put(&ovfProxy{Self: types.ManagedObjectReference{Type: ovfProxyType, Value: ovfProxyValue}})
	return x
}

// ---- SOAP ----

// methods routes ExportVm, ImportVApp and CreateDescriptor to the proxies and records what
// happens to leases.
func (x *nfcExtras) methods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := soapCallOf(r)
		if call == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch call.method {
		case "ExportVm", "ImportVApp", "CreateDescriptor", "HttpNfcLeaseProgress", "HttpNfcLeaseComplete", "HttpNfcLeaseAbort":
		default:
			next.ServeHTTP(w, r)
			return
		}
		method, err := simulator.UnmarshalBody(types.TypeFunc(), call.body)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		switch req := method.Body.(type) {
		case *types.ExportVm:
			x.mu.Lock()
			on := x.enabled
			x.mu.Unlock()
			if !on || simulator.Map.Get(req.This) == nil {
				next.ServeHTTP(w, r) // MethodNotFound (an older server), or ManagedObjectNotFound
				return
			}
			x.readdress(next, w, r, call, exportProxyType, req.This)
		case *types.ImportVApp:
			if simulator.Map.Get(req.This) == nil {
				next.ServeHTTP(w, r)
				return
			}
			x.readdress(next, w, r, call, importProxyType, req.This)
		case *types.CreateDescriptor:
			if x.h.content.OvfManager == nil || req.This != *x.h.content.OvfManager {
				next.ServeHTTP(w, r)
				return
			}
			body := thisElement.ReplaceAll(call.body, []byte(`<${1}_this type="`+ovfProxyType+`">`+ovfProxyValue+`</${1}_this>`))
			forward(next, w, r, call.method, body, nil)
		case *types.HttpNfcLeaseProgress:
			rec := record(next, r)
			if rec.Code == http.StatusOK {
				x.update(req.This.Value, func(l *nfcLeaseRecord) { l.ProgressCalls++; l.LastProgress = req.Percent })
			}
			replay(w, rec)
		case *types.HttpNfcLeaseComplete:
			rec := record(next, r)
			if rec.Code == http.StatusOK {
				x.update(req.This.Value, func(l *nfcLeaseRecord) { l.State = "completed" })
			}
			replay(w, rec)
		case *types.HttpNfcLeaseAbort:
			rec := record(next, r)
			if rec.Code == http.StatusOK {
				x.update(req.This.Value, func(l *nfcLeaseRecord) {
					l.State = "aborted"
					if req.Fault != nil {
						if req.Fault.Fault != nil {
							l.AbortFault = reflect.TypeOf(req.Fault.Fault).Elem().Name()
						}
						l.AbortMessage = req.Fault.LocalizedMessage
					}
				})
			}
			replay(w, rec)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// readdress sends the call to the proxy of kind for target, registering the proxy on first use.
func (x *nfcExtras) readdress(next http.Handler, w http.ResponseWriter, r *http.Request, call *soapCall, kind string, target types.ManagedObjectReference) {
	proxy := types.ManagedObjectReference{Type: kind, Value: target.Type + "-" + target.Value}
	x.mu.Lock()
	if !x.proxies[proxy] {
		x.proxies[proxy] = true
		if kind == exportProxyType {
			simulator.Map.Put(&exportProxy{Self: proxy, vm: target, x: x})
		} else {
			simulator.Map.Put(&importProxy{Self: proxy, pool: target, x: x})
		}
	}
	x.mu.Unlock()
	body := thisElement.ReplaceAll(call.body, []byte(`<${1}_this type="`+kind+`">`+proxy.Value+`</${1}_this>`))
	forward(next, w, r, call.method, body, nil)
}

func (x *nfcExtras) update(lease string, change func(*nfcLeaseRecord)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if l := x.leases[lease]; l != nil {
		change(l)
	}
}

func (x *nfcExtras) add(l *nfcLeaseRecord) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.leases[l.Lease] = l
	x.order = append(x.order, l.Lease)
}

// diskFile is a file-backed device of a VM: the deviceUrl key vCenter gives it, the local file
// behind it, and the disk's capacity.
type diskFile struct {
	key        string
	kind       string
	n          int
	name       string // base name of the backing file
	path       string // the file on the simulated datastore
	capacityKB int64
	device     types.BaseVirtualDevice
}

// vmFiles lists vm's file-backed devices in device order; disksOnly keeps the virtual disks.
func vmFiles(vm *simulator.VirtualMachine, disksOnly bool) []diskFile {
	devices := govobject.VirtualDeviceList(vm.Config.Hardware.Device)
	count := map[string]int{}
	var out []diskFile
	for _, d := range devices {
		backing, ok := d.GetVirtualDevice().Backing.(types.BaseVirtualDeviceFileBackingInfo)
		if !ok {
			continue
		}
		disk, isDisk := d.(*types.VirtualDisk)
		if disksOnly && !isDisk {
			continue
		}
		var p govobject.DatastorePath
		if !p.FromString(backing.GetVirtualDeviceFileBackingInfo().FileName) {
			continue
		}
		ds, _ := simulator.Map.FindByName(p.Datastore, vm.Datastore).(*simulator.Datastore)
		if ds == nil {
			continue
		}
		kind := devices.Type(d)
		n := count[kind]
		count[kind]++
		f := diskFile{
			key:    fmt.Sprintf("/%s/%s:%d", vm.Self.Value, kind, n),
			kind:   kind,
			n:      n,
			name:   path.Base(p.Path),
			path:   path.Join(ds.Info.GetDatastoreInfo().Url, p.Path),
			device: d,
		}
		if isDisk {
			f.capacityKB = disk.CapacityInKB
		}
		out = append(out, f)
	}
	return out
}

func nfcURL(lease types.ManagedObjectReference, name string) string {
	return (&url.URL{Scheme: "https", Host: "*", Path: "/nfc/" + path.Join(lease.Value, name)}).String()
}

// exportProxy is the VM's ExportVm.
type exportProxy struct {
	Self types.ManagedObjectReference
	vm   types.ManagedObjectReference
	x    *nfcExtras
}

func (p *exportProxy) Reference() types.ManagedObjectReference { return p.Self }

func (p *exportProxy) ExportVm(ctx *simulator.Context, req *types.ExportVm) soap.HasFault {
	body := new(methods.ExportVmBody)
	vm, ok := simulator.Map.Get(p.vm).(*simulator.VirtualMachine)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: p.vm})
		return body
	}
	ctx.Caller = &p.vm
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
			body.Fault_ = simulator.Fault("The attempted operation cannot be performed in the current state (Powered on).", &types.InvalidPowerState{
				RequestedState: types.VirtualMachinePowerStatePoweredOff, ExistingState: vm.Runtime.PowerState,
			})
			return
		}
		lease := simulator.NewHttpNfcLease(ctx, vm.Self)
		lease.Info.Lease = lease.Self
		record := &nfcLeaseRecord{Lease: lease.Self.Value, Kind: "export", Entity: vm.Self.Value, State: "open"}
		var total int64
		for _, f := range vmFiles(vm, true) {
			target := fmt.Sprintf("disk-%d.vmdk", f.n)
			size := int64(0)
			if st, err := os.Stat(f.path); err == nil {
				size = st.Size()
			}
			lease.Info.DeviceUrl = append(lease.Info.DeviceUrl, types.HttpNfcLeaseDeviceUrl{
				Key:       f.key,
				ImportKey: f.key,
				Url:       nfcURL(lease.Self, target),
				Disk:      types.NewBool(true),
				TargetId:  target,
				FileSize:  size,
			})
			total += f.capacityKB
			record.Files = append(record.Files, &nfcFile{Name: target, Key: f.key, path: f.path})
		}
		lease.Info.TotalDiskCapacityInKB = total
		p.x.add(record)
		body.Res = &types.ExportVmResponse{Returnval: lease.Self}
	})
	return body
}

// importProxy is the pool's ImportVApp: vcsim's own, then the lease's uploads are the harness's.
type importProxy struct {
	Self types.ManagedObjectReference
	pool types.ManagedObjectReference
	x    *nfcExtras
}

func (p *importProxy) Reference() types.ManagedObjectReference { return p.Self }

func (p *importProxy) ImportVApp(ctx *simulator.Context, req *types.ImportVApp) soap.HasFault {
	req.This = p.pool
	obj := simulator.Map.Get(p.pool)
	var res soap.HasFault
	// vcsim's dispatcher holds the pool's lock while its ImportVApp runs, and the calls inside
	// skip that lock as the caller's: the same here.
	ctx.Caller = &p.pool
	simulator.Map.WithLock(obj, func() {
		switch pool := obj.(type) {
		case *simulator.ResourcePool:
			res = pool.ImportVApp(ctx, req)
		case *simulator.VirtualApp:
			res = pool.ImportVApp(ctx, req)
		default:
			res = &methods.ImportVAppBody{Fault_: simulator.Fault("", &types.InvalidArgument{InvalidProperty: "_this"})}
		}
	})
	if res.Fault() != nil {
		return res
	}
	ref := res.(*methods.ImportVAppBody).Res.Returnval
	lease, ok := ctx.Session.Get(ref).(*simulator.HttpNfcLease)
	if !ok {
		return res
	}
	vm, ok := simulator.Map.Get(lease.Info.Entity).(*simulator.VirtualMachine)
	if !ok {
		return res
	}
	byName := map[string]string{}
	for _, f := range vmFiles(vm, false) {
		byName[f.name] = f.path
	}
	record := &nfcLeaseRecord{Lease: ref.Value, Kind: "import", Entity: vm.Self.Value, State: "open"}
	for _, d := range lease.Info.DeviceUrl {
		if file, ok := byName[d.TargetId]; ok {
			record.Files = append(record.Files, &nfcFile{Name: d.TargetId, Key: d.ImportKey, path: file})
		}
	}
	p.x.add(record)
	return res
}

// ---- the NFC URLs ----

// serve answers /nfc/<lease>/<name> for the harness's leases; others go to vcsim.
func (x *nfcExtras) serve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/nfc/"), "/")
		if len(parts) != 2 {
			next.ServeHTTP(w, r)
			return
		}
		x.mu.Lock()
		l := x.leases[parts[0]]
		var file *nfcFile
		if l != nil {
			for _, f := range l.Files {
				if f.Name == parts[1] {
					file = f
				}
			}
		}
		open := l != nil && l.State == "open"
		fail := x.failNext > 0 && file != nil && open
		if fail {
			x.failNext--
			x.failed++
		}
		x.mu.Unlock()
		switch {
		case l == nil:
			next.ServeHTTP(w, r)
		case file == nil || !open:
			http.NotFound(w, r) // no such device, or a lease that ended: its URLs are gone
		case fail:
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<30))
			http.Error(w, "harness: injected NFC failure", http.StatusInternalServerError)
		case l.Kind == "export" && r.Method == http.MethodGet:
			x.download(w, l, file)
		case l.Kind == "import" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
			x.upload(w, r, file)
		default:
			w.Header().Set("Allow", map[string]string{"export": "GET", "import": "PUT, POST"}[l.Kind])
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
}

func (x *nfcExtras) download(w http.ResponseWriter, l *nfcLeaseRecord, file *nfcFile) {
	f, err := os.Open(file.path)
	if err != nil {
		http.NotFound(w, nil)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(st.Size()))
	h := sha256.New()
	n, _ := io.Copy(io.MultiWriter(w, h), f)
	x.transferred(file, "GET", n, h.Sum(nil))
}

func (x *nfcExtras) upload(w http.ResponseWriter, r *http.Request, file *nfcFile) {
	f, err := os.Create(file.path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	x.transferred(file, r.Method, n, h.Sum(nil))
	w.WriteHeader(http.StatusOK)
}

func (x *nfcExtras) transferred(file *nfcFile, method string, n int64, sum []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	file.Method, file.Bytes, file.SHA256 = method, n, hex.EncodeToString(sum)
	file.Requests++
}

// ---- control routes ----

func (x *nfcExtras) list(w http.ResponseWriter, r *http.Request) {
	x.mu.Lock()
	defer x.mu.Unlock()
	leases := make([]*nfcLeaseRecord, 0, len(x.order))
	for _, id := range x.order {
		leases = append(leases, x.leases[id])
	}
	writeJSON(w, http.StatusOK, map[string]interface{}{"exportVm": x.enabled, "pendingFailures": x.failNext, "failed": x.failed, "leases": leases})
}

func (x *nfcExtras) setExportVM(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if in.Enabled == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "enabled (boolean) is required"})
		return
	}
	x.mu.Lock()
	x.enabled = *in.Enabled
	x.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (x *nfcExtras) armFailure(w http.ResponseWriter, r *http.Request) {
	count, ok := readCount(w, r)
	if !ok {
		return
	}
	x.mu.Lock()
	x.failNext = count
	x.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// reset restores the startup ExportVm switch, disarms failures and forgets the leases that ended.
func (x *nfcExtras) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.enabled, x.failNext, x.failed = x.startup, 0, 0
	kept := x.order[:0]
	for _, id := range x.order {
		if x.leases[id].State == "open" {
			kept = append(kept, id)
		} else {
			delete(x.leases, id)
		}
	}
	x.order = kept
}

// ---- OvfManager.CreateDescriptor ----

type ovfProxy struct {
	Self types.ManagedObjectReference
}

func (p *ovfProxy) Reference() types.ManagedObjectReference { return p.Self }

func (p *ovfProxy) CreateDescriptor(ctx *simulator.Context, req *types.CreateDescriptor) soap.HasFault {
	body := new(methods.CreateDescriptorBody)
	vm, ok := simulator.Map.Get(req.Obj).(*simulator.VirtualMachine)
	if !ok {
		body.Fault_ = simulator.Fault("", &types.ManagedObjectNotFound{Obj: req.Obj})
		return body
	}
	var descriptor string
	var result types.OvfCreateDescriptorResult
	simulator.Map.WithLock(vm, func() {
		descriptor, result.Error = ovfDescriptor(vm, req.Cdp)
	})
	result.OvfDescriptor = descriptor
	body.Res = &types.CreateDescriptorResponse{Returnval: result}
	return body
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlText(s string) string { return xmlReplacer.Replace(s) }

// ovfDescriptor writes the VM as an OVF 1.x envelope. Each disk refers to the file the caller
// named for its deviceId (the export lease's deviceUrl key); a disk without one is an error in
// the result, as vCenter reports it.
func ovfDescriptor(vm *simulator.VirtualMachine, cdp types.OvfCreateDescriptorParams) (string, []types.LocalizedMethodFault) {
	name := cdp.Name
	if name == "" {
		name = vm.Name
	}
	files := map[string]types.OvfFile{}
	for _, f := range cdp.OvfFiles {
		files[f.DeviceId] = f
	}
	var refs, disks, items bytes.Buffer
	var faults []types.LocalizedMethodFault
	devices := govobject.VirtualDeviceList(vm.Config.Hardware.Device)
	instance := 3 // 1 and 2: CPU and memory
	controllers := map[int32]int{}
	networks := map[string]bool{}
	var networkOrder []string
	item := func(body string) {
		fmt.Fprintf(&items, "      <Item>%s</Item>\n", body)
	}
	rasd := func(tag, value string) string { return "<rasd:" + tag + ">" + xmlText(value) + "</rasd:" + tag + ">" }
	for _, d := range devices {
		dev := d.GetVirtualDevice()
		switch c := d.(type) {
		case types.BaseVirtualSCSIController:
			sub := map[string]string{"lsilogic": "lsilogic", "lsilogic-sas": "lsilogicsas", "pvscsi": "VirtualSCSI", "buslogic": "buslogic"}[devices.Type(d)]
			if sub == "" {
				sub = "lsilogic"
			}
			controllers[dev.Key] = instance
			item(rasd("Address", fmt.Sprint(c.GetVirtualSCSIController().BusNumber)) + rasd("ElementName", fmt.Sprintf("SCSI controller %d", c.GetVirtualSCSIController().BusNumber)) +
				rasd("InstanceID", fmt.Sprint(instance)) + rasd("ResourceSubType", sub) + rasd("ResourceType", "6"))
			instance++
		case *types.VirtualIDEController:
			controllers[dev.Key] = instance
			item(rasd("Address", fmt.Sprint(c.BusNumber)) + rasd("ElementName", fmt.Sprintf("IDE %d", c.BusNumber)) + rasd("InstanceID", fmt.Sprint(instance)) + rasd("ResourceType", "5"))
			instance++
		}
	}
	ndisk := 0
	for _, f := range vmFiles(vm, true) {
		disk := f.device.(*types.VirtualDisk)
		file, ok := files[f.key]
		if !ok {
			faults = append(faults, types.LocalizedMethodFault{
				Fault:            &types.InvalidArgument{InvalidProperty: "cdp.ovfFiles"},
				LocalizedMessage: "no file given for device " + f.key,
			})
			continue
		}
		ndisk++
		fileID, diskID := fmt.Sprintf("file%d", ndisk), fmt.Sprintf("vmdisk%d", ndisk)
		fmt.Fprintf(&refs, "    <File ovf:href=\"%s\" ovf:id=\"%s\" ovf:size=\"%d\"/>\n", xmlText(file.Path), fileID, file.Size)
		fmt.Fprintf(&disks, "    <Disk ovf:capacity=\"%d\" ovf:capacityAllocationUnits=\"byte * 2^10\" ovf:diskId=\"%s\" ovf:fileRef=\"%s\" ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\"/>\n",
			f.capacityKB, diskID, fileID)
		parent := controllers[disk.ControllerKey]
		unit := int32(0)
		if disk.UnitNumber != nil {
			unit = *disk.UnitNumber
		}
		item(rasd("AddressOnParent", fmt.Sprint(unit)) + rasd("ElementName", fmt.Sprintf("Hard disk %d", ndisk)) + rasd("HostResource", "ovf:/disk/"+diskID) +
			rasd("InstanceID", fmt.Sprint(instance)) + rasd("Parent", fmt.Sprint(parent)) + rasd("ResourceType", "17"))
		instance++
	}
	for _, d := range devices {
		nic, ok := d.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		network := "VM Network"
		if b, ok := nic.GetVirtualEthernetCard().Backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok && b.DeviceName != "" {
			network = b.DeviceName
		}
		if !networks[network] {
			networks[network] = true
			networkOrder = append(networkOrder, network)
		}
		sub := map[string]string{"e1000": "E1000", "e1000e": "E1000e", "vmxnet3": "VmxNet3", "vmxnet2": "VmxNet2", "pcnet32": "PCNet32"}[devices.Type(d)]
		if sub == "" {
			sub = "E1000"
		}
		item(rasd("AddressOnParent", fmt.Sprint(instance)) + rasd("AutomaticAllocation", "true") + rasd("Connection", network) +
			rasd("ElementName", "Network adapter") + rasd("InstanceID", fmt.Sprint(instance)) + rasd("ResourceSubType", sub) + rasd("ResourceType", "10"))
		instance++
	}
	var nets bytes.Buffer
	for _, n := range networkOrder {
		fmt.Fprintf(&nets, "    <Network ovf:name=\"%s\">\n      <Description>The %s network</Description>\n    </Network>\n", xmlText(n), xmlText(n))
	}
	guest := vm.Config.GuestId
	if guest == "" {
		guest = "otherGuest"
	}
	version := vm.Config.Version
	if version == "" {
		version = "vmx-13"
	}
	out := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
%s  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
%s  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
%s  </NetworkSection>
  <VirtualSystem ovf:id="%s">
    <Info>A virtual machine</Info>
    <Name>%s</Name>
    <OperatingSystemSection ovf:id="1" vmw:osType="%s">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>%s</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>%s</vssd:VirtualSystemType>
      </System>
      <Item>%s</Item>
      <Item>%s</Item>
%s    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`, refs.String(), disks.String(), nets.String(), xmlText(name), xmlText(name), xmlText(guest), xmlText(name), xmlText(version),
		rasd("AllocationUnits", "hertz * 10^6")+rasd("ElementName", fmt.Sprintf("%d virtual CPU(s)", vm.Config.Hardware.NumCPU))+rasd("InstanceID", "1")+rasd("ResourceType", "3")+rasd("VirtualQuantity", fmt.Sprint(vm.Config.Hardware.NumCPU)),
		rasd("AllocationUnits", "byte * 2^20")+rasd("ElementName", fmt.Sprintf("%dMB of memory", vm.Config.Hardware.MemoryMB))+rasd("InstanceID", "2")+rasd("ResourceType", "4")+rasd("VirtualQuantity", fmt.Sprint(vm.Config.Hardware.MemoryMB)),
		items.String())
	return out, faults
}
