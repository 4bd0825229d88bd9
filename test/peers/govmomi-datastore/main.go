// Command govmomi-datastore moves datastore files with govmomi's object.Datastore.Upload and
// Download (the /folder URLs, as govc datastore.upload/download do): the interoperability peer
// of the library's datastore transfers, and the baseline of their benchmark.
//
//	govmomi-datastore -url https://host/sdk [-ca file | -insecure] -user u -password p [-dc DC] upload LOCAL DATASTORE PATH
//	govmomi-datastore ... download DATASTORE PATH LOCAL
//	govmomi-datastore ... import-ova OVA DATASTORE NAME
//	govmomi-datastore ... none DATASTORE - -
//
// import-ova deploys an OVA as govc import.ova does (importOva below). With -report, one JSON
// line on stdout once done: the transfer's wall time (after login and finding the datastore, as
// the library's bench child times it) and the process's peak RSS (VmHWM; getrusage's maxrss
// too); `none` does everything but the transfer, the RSS baseline. Errors go to stderr, exit
// status 1.
package main

import (
	"archive/tar"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/nfc"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/ovf"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	rawURL := flag.String("url", "", "SDK URL, https://host/sdk")
	user := flag.String("user", "", "user name")
	password := flag.String("password", "", "password")
	ca := flag.String("ca", "", "PEM file of CA certificates to trust")
	insecure := flag.Bool("insecure", false, "skip server certificate verification")
	dc := flag.String("dc", "", "datacenter (default: the only one)")
	timeout := flag.Duration("timeout", 10*time.Minute, "overall deadline")
	report := flag.Bool("report", false, "print {op, ms, maxRssKiB} as JSON once done")
	flag.Parse()
	if *rawURL == "" || flag.NArg() != 4 {
		fmt.Fprintln(os.Stderr, "usage: govmomi-datastore -url URL [-ca FILE] -user U -password P [-dc DC] upload LOCAL DATASTORE PATH | download DATASTORE PATH LOCAL")
		os.Exit(64)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	u, err := soap.ParseURL(*rawURL)
	fail(err)
	sc := soap.NewClient(u, *insecure)
	if *ca != "" {
		fail(sc.SetRootCAs(*ca))
	}
	c, err := vim25.NewClient(ctx, sc)
	fail(err)
	c.Version = c.ServiceContent.About.ApiVersion
	fail(session.NewManager(c).Login(ctx, url.UserPassword(*user, *password)))

	finder := find.NewFinder(c, true)
	datacenter, err := finder.DatacenterOrDefault(ctx, *dc)
	fail(err)
	finder.SetDatacenter(datacenter)

	var start, stop time.Time
	switch cmd := flag.Arg(0); cmd {
	case "upload":
		ds, err := finder.Datastore(ctx, flag.Arg(2))
		fail(err)
		start = time.Now()
		fail(ds.UploadFile(ctx, flag.Arg(1), flag.Arg(3), nil))
	case "download":
		ds, err := finder.Datastore(ctx, flag.Arg(1))
		fail(err)
		start = time.Now()
		fail(ds.DownloadFile(ctx, flag.Arg(2), flag.Arg(3), nil))
	case "import-ova":
		ds, err := finder.Datastore(ctx, flag.Arg(2))
		fail(err)
		pools, err := finder.ResourcePoolList(ctx, "*/Resources")
		fail(err)
		folders, err := datacenter.Folders(ctx)
		fail(err)
		start = time.Now()
		vm, err := importOva(ctx, c, flag.Arg(1), flag.Arg(3), pools[0], ds, folders.VmFolder)
		fail(err)
		stop = time.Now()
		// The VM and its disk go once timed, so that repeated runs do not fill the datastore.
		task, err := vm.Destroy(ctx)
		fail(err)
		fail(task.Wait(ctx))
	case "none":
		_, err := finder.Datastore(ctx, flag.Arg(1))
		fail(err)
		start = time.Now()
	default:
		fmt.Fprintln(os.Stderr, "unknown command", cmd)
		os.Exit(64)
	}
	if *report {
		if stop.IsZero() {
			stop = time.Now()
		}
		ms := float64(stop.Sub(start).Microseconds()) / 1000
		var ru syscall.Rusage
		fail(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
		// ru_maxrss (KiB on Linux) keeps the high-water mark of what the process was before its
		// exec, its parent's pages after a fork: VmHWM is this program's own peak.
		fmt.Printf("{\"op\":%q,\"ms\":%.1f,\"maxRssKiB\":%d,\"hwmKiB\":%d}\n", flag.Arg(0), ms, ru.Maxrss, vmHWM())
	}
}

// importOva deploys an OVA as govc's import.ova does, with govmomi's ovf.Manager and nfc.Lease:
// the descriptor (the tar's first entry), CreateImportSpec, ImportVApp, the lease's device URLs
// fed each disk straight from the tar stream, progress kept by the lease updater, Complete (Abort
// on a failure). The manifest is not checked (govc does not either).
func importOva(ctx context.Context, c *vim25.Client, path, name string, pool *object.ResourcePool, ds *object.Datastore, folder *object.Folder) (*object.VirtualMachine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	if _, err := tr.Next(); err != nil {
		return nil, err
	}
	descriptor, err := io.ReadAll(tr)
	if err != nil {
		return nil, err
	}
	spec, err := ovf.NewManager(c).CreateImportSpec(ctx, string(descriptor), pool, ds, types.OvfCreateImportSpecParams{EntityName: name})
	if err != nil {
		return nil, err
	}
	if spec.Error != nil {
		return nil, errors.New(spec.Error[0].LocalizedMessage)
	}
	lease, err := pool.ImportVApp(ctx, spec.ImportSpec, folder, nil)
	if err != nil {
		return nil, err
	}
	info, err := lease.Wait(ctx, spec.FileItem)
	if err != nil {
		return nil, err
	}
	updater := lease.StartUpdater(ctx, info)
	defer updater.Done()
	items := map[string]nfc.FileItem{}
	for _, item := range info.Items {
		items[item.Path] = item
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			_ = lease.Abort(ctx, nil)
			return nil, err
		}
		item, ok := items[h.Name]
		if !ok {
			continue
		}
		if err := lease.Upload(ctx, item, tr, soap.Upload{ContentLength: h.Size}); err != nil {
			_ = lease.Abort(ctx, nil)
			return nil, err
		}
	}
	if err := lease.Complete(ctx); err != nil {
		return nil, err
	}
	return object.NewVirtualMachine(c, info.Entity), nil
}

// vmHWM is the peak resident set of this process's memory map (/proc/self/status), in KiB; 0 where there is none.
func vmHWM() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kib)
			return kib
		}
	}
	return 0
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
