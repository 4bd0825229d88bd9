// Command govmomi-datastore moves datastore files with govmomi's object.Datastore.Upload and
// Download (the /folder URLs, as govc datastore.upload/download do): the interoperability peer
// of the library's datastore transfers, and the baseline of their benchmark.
//
//	govmomi-datastore -url https://host/sdk [-ca file | -insecure] -user u -password p [-dc DC] upload LOCAL DATASTORE PATH
//	govmomi-datastore ... download DATASTORE PATH LOCAL
//
// Errors go to stderr, exit status 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
)

func main() {
	rawURL := flag.String("url", "", "SDK URL, https://host/sdk")
	user := flag.String("user", "", "user name")
	password := flag.String("password", "", "password")
	ca := flag.String("ca", "", "PEM file of CA certificates to trust")
	insecure := flag.Bool("insecure", false, "skip server certificate verification")
	dc := flag.String("dc", "", "datacenter (default: the only one)")
	timeout := flag.Duration("timeout", 10*time.Minute, "overall deadline")
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

	switch cmd := flag.Arg(0); cmd {
	case "upload":
		ds, err := finder.Datastore(ctx, flag.Arg(2))
		fail(err)
		fail(ds.UploadFile(ctx, flag.Arg(1), flag.Arg(3), nil))
	case "download":
		ds, err := finder.Datastore(ctx, flag.Arg(1))
		fail(err)
		fail(ds.DownloadFile(ctx, flag.Arg(2), flag.Arg(3), nil))
	default:
		fmt.Fprintln(os.Stderr, "unknown command", cmd)
		os.Exit(64)
	}
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
