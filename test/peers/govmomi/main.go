// Command govmomi-peer is a small govmomi client the tests use as an interoperability peer
// (and benchmarks as a baseline): what it does to a server, our library must be able to pick
// up, and the other way round (a clone ticket minted by one client is redeemed by the other).
//
//	govmomi-peer -url https://host/sdk [-ca file | -insecure] [-user u -password p | -session id] COMMAND
//
//	login                    log in, print the session as JSON; with -logout, log out again
//	clone-ticket             AcquireCloneTicket, print the ticket; the session stays open,
//	                         since ending it would invalidate the ticket on a real vCenter
//	clone-session -ticket T  CloneSession with T, print the new session as JSON
//
// The session JSON is {"key","userName","loginTime","sessionId"}, sessionId being the
// vmware_soap_session cookie. Faults go to stderr as "fault: <type>: <message>", exit status 2;
// other errors exit 1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type sessionJSON struct {
	Key       string    `json:"key"`
	UserName  string    `json:"userName"`
	LoginTime time.Time `json:"loginTime"`
	SessionID string    `json:"sessionId"`
}

func main() {
	rawURL := flag.String("url", "", "SDK URL, https://host/sdk")
	user := flag.String("user", "", "user name")
	password := flag.String("password", "", "password")
	sessionID := flag.String("session", "", "use this existing session id instead of logging in")
	ca := flag.String("ca", "", "PEM file of CA certificates to trust (default: the system store)")
	insecure := flag.Bool("insecure", false, "skip server certificate verification")
	timeout := flag.Duration("timeout", 30*time.Second, "overall deadline")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: govmomi-peer -url URL [-ca FILE | -insecure] [-user U -password P | -session ID] login [-logout] | clone-ticket | clone-session -ticket T")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *rawURL == "" || flag.NArg() < 1 {
		flag.Usage()
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
	// Speak the server's version, as our library does, rather than govmomi's built-in one.
	c.Version = c.ServiceContent.About.ApiVersion
	sm := session.NewManager(c)

	if *sessionID != "" {
		sc.Jar.SetCookies(u, []*http.Cookie{{Name: soap.SessionCookieName, Value: *sessionID}})
	}
	authenticate := func() {
		if *sessionID == "" {
			fail(sm.Login(ctx, url.UserPassword(*user, *password)))
		}
	}

	cmd, args := flag.Arg(0), flag.Args()[1:]
	switch cmd {
	case "login":
		fs := flag.NewFlagSet("login", flag.ExitOnError)
		logout := fs.Bool("logout", false, "log out after printing the session")
		fail(fs.Parse(args))
		authenticate()
		printSession(ctx, sm, sc, u)
		if *logout {
			fail(sm.Logout(ctx))
		}
	case "clone-ticket":
		authenticate()
		res, err := methods.AcquireCloneTicket(ctx, c, &types.AcquireCloneTicket{This: sm.Reference()})
		fail(err)
		fmt.Println(res.Returnval)
	case "clone-session":
		fs := flag.NewFlagSet("clone-session", flag.ExitOnError)
		ticket := fs.String("ticket", "", "clone ticket from AcquireCloneTicket")
		fail(fs.Parse(args))
		if *ticket == "" {
			fmt.Fprintln(os.Stderr, "clone-session needs -ticket")
			os.Exit(64)
		}
		fail(sm.CloneSession(ctx, *ticket))
		printSession(ctx, sm, sc, u)
	default:
		flag.Usage()
		os.Exit(64)
	}
}

func printSession(ctx context.Context, sm *session.Manager, sc *soap.Client, u *url.URL) {
	s, err := sm.UserSession(ctx)
	fail(err)
	if s == nil {
		fmt.Fprintln(os.Stderr, "not logged in")
		os.Exit(1)
	}
	out := sessionJSON{Key: s.Key, UserName: s.UserName, LoginTime: s.LoginTime}
	for _, ck := range sc.Jar.Cookies(u) {
		if ck.Name == soap.SessionCookieName {
			out.SessionID = ck.Value
		}
	}
	b, err := json.Marshal(out)
	fail(err)
	fmt.Println(string(b))
}

func fail(err error) {
	if err == nil {
		return
	}
	if soap.IsSoapFault(err) {
		f := soap.ToSoapFault(err)
		name := "unknown"
		if t := reflect.TypeOf(f.VimFault()); t != nil {
			for t.Kind() == reflect.Ptr {
				t = t.Elem()
			}
			name = t.Name()
		}
		fmt.Fprintf(os.Stderr, "fault: %s: %s\n", name, f.String)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	os.Exit(1)
}
