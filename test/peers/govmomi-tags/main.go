// Command govmomi-tags-peer is govmomi's own vSphere tagging client (vapi/rest + vapi/tags, the
// same Debian sources the harness is built from) as an interoperability peer: tags our client
// makes and attaches must be what govmomi reads, and the other way round.
//
//	govmomi-tags-peer -url https://host/sdk [-ca file | -insecure] -user u -password p COMMAND
//
//	create -category C -tag T          a category C (MULTIPLE, any type) unless one exists, and a
//	                                   tag T in it; prints {"categoryId","tagId"}
//	attach -tag T -object Type:value   attaches T (id or name) to the objects (repeat -object)
//	detach -tag T -object Type:value   detaches it
//	objects -tag T                     the objects T is attached to: [{"type","value"}]
//	tags-of -object Type:value         the tags on an object: [{"id","name","categoryId"}]
//
// govmomi 0.24's vapi/rest speaks /rest (a session of its own, POST /rest/com/vmware/cis/session
// with basic authentication). Errors exit 1 with the message on stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vapi/tags"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type refs []string

func (r *refs) String() string     { return strings.Join(*r, ",") }
func (r *refs) Set(s string) error { *r = append(*r, s); return nil }

type objectJSON struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type tagJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	CategoryID string `json:"categoryId"`
}

func main() {
	rawURL := flag.String("url", "", "SDK URL, https://host/sdk")
	user := flag.String("user", "", "user name")
	password := flag.String("password", "", "password")
	ca := flag.String("ca", "", "PEM file of CA certificates to trust (default: the system store)")
	insecure := flag.Bool("insecure", false, "skip server certificate verification")
	timeout := flag.Duration("timeout", 30*time.Second, "overall deadline")
	flag.Parse()
	if *rawURL == "" || flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: govmomi-tags-peer -url URL [-ca FILE | -insecure] -user U -password P create|attach|detach|objects|tags-of ...")
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
	rc := rest.NewClient(c)
	fail(rc.Login(ctx, url.UserPassword(*user, *password)))
	defer func() { _ = rc.Logout(context.Background()) }()
	m := tags.NewManager(rc)

	cmd := flag.Arg(0)
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	category := fs.String("category", "", "category name")
	tag := fs.String("tag", "", "tag id or name")
	var objects refs
	fs.Var(&objects, "object", "Type:value (repeatable)")
	fail(fs.Parse(flag.Args()[1:]))

	switch cmd {
	case "create":
		categoryID := ""
		if existing, err := m.GetCategory(ctx, *category); err == nil {
			categoryID = existing.ID
		} else {
			categoryID, err = m.CreateCategory(ctx, &tags.Category{Name: *category, Cardinality: "MULTIPLE", AssociableTypes: []string{}})
			fail(err)
		}
		tagID, err := m.CreateTag(ctx, &tags.Tag{Name: *tag, CategoryID: categoryID})
		fail(err)
		out(map[string]string{"categoryId": categoryID, "tagId": tagID})
	case "attach", "detach":
		t, err := m.GetTag(ctx, *tag)
		fail(err)
		for _, o := range objects {
			if cmd == "attach" {
				fail(m.AttachTag(ctx, t.ID, parseRef(o)))
			} else {
				fail(m.DetachTag(ctx, t.ID, parseRef(o)))
			}
		}
		out(map[string]interface{}{"tagId": t.ID, "objects": len(objects)})
	case "objects":
		t, err := m.GetTag(ctx, *tag)
		fail(err)
		attached, err := m.ListAttachedObjects(ctx, t.ID)
		fail(err)
		list := []objectJSON{}
		for _, r := range attached {
			ref := r.Reference()
			list = append(list, objectJSON{Type: ref.Type, Value: ref.Value})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Type+list[i].Value < list[j].Type+list[j].Value })
		out(list)
	case "tags-of":
		if len(objects) != 1 {
			fmt.Fprintln(os.Stderr, "tags-of needs one -object")
			os.Exit(64)
		}
		attached, err := m.GetAttachedTags(ctx, parseRef(objects[0]))
		fail(err)
		list := []tagJSON{}
		for _, t := range attached {
			list = append(list, tagJSON{ID: t.ID, Name: t.Name, CategoryID: t.CategoryID})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		out(list)
	default:
		fmt.Fprintln(os.Stderr, "unknown command "+cmd)
		os.Exit(64)
	}
}

func parseRef(s string) mo.Reference {
	var ref types.ManagedObjectReference
	if !ref.FromString(s) {
		fmt.Fprintln(os.Stderr, "an object is Type:value, not "+s)
		os.Exit(64)
	}
	return ref
}

func out(v interface{}) {
	b, err := json.Marshal(v)
	fail(err)
	fmt.Println(string(b))
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
