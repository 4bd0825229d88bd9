package main

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Datastore file access (/folder/<path>?dcPath=<datacenter>&dsName=<datastore>, vcsim's
// ServeDatastore) needs what vCenter and ESXi need: a session (the vmware_soap_session cookie)
// or a generic service ticket minted for exactly that request, sent as the vmware_cgi_ticket
// cookie. Without either the answer is 401. vcsim itself checks nothing there.
//
// AcquireGenericServiceTicket accepts a SessionManagerHttpServiceRequestSpec whose url is a
// datastore file URL (path under /folder/; scheme and host are not compared) and whose method
// is httpGet (the default when absent), httpHead, httpPut or httpPost; anything else is
// InvalidArgument. The ticket is good for one request with that method, that path and the same
// query parameters (in any order), within 10 minutes; a request it does not match is refused
// without spending it.

const serviceTicketLifetime = 10 * time.Minute

type serviceTickets struct {
	mu       sync.Mutex
	byID     map[string]serviceTicket
	issued   int
	redeemed int
	refused  int
}

type serviceTicket struct {
	method  string
	path    string
	query   url.Values
	expires time.Time
}

func newServiceTickets() *serviceTickets { return &serviceTickets{byID: map[string]serviceTicket{}} }

var httpMethods = map[string]string{
	"":         http.MethodGet,
	"httpGet":  http.MethodGet,
	"httpHead": http.MethodHead,
	"httpPut":  http.MethodPut,
	"httpPost": http.MethodPost,
}

// datastoreRequestSpec checks an AcquireGenericServiceTicket spec.
func datastoreRequestSpec(spec types.BaseSessionManagerServiceRequestSpec) (serviceTicket, error) {
	s, ok := spec.(*types.SessionManagerHttpServiceRequestSpec)
	if !ok {
		return serviceTicket{}, errors.New("only SessionManagerHttpServiceRequestSpec (datastore file access) is supported")
	}
	u, err := url.Parse(s.Url)
	if err != nil || !strings.HasPrefix(u.Path, folderPrefix) {
		return serviceTicket{}, errors.New("spec.url is not a datastore file URL (/folder/...)")
	}
	method, ok := httpMethods[s.Method]
	if !ok {
		return serviceTicket{}, errors.New("spec.method " + s.Method + " is not supported for datastore files")
	}
	return serviceTicket{method: method, path: u.Path, query: u.Query()}, nil
}

const folderPrefix = "/folder/"

func (t *serviceTickets) add(id string, spec serviceTicket) {
	spec.expires = time.Now().Add(serviceTicketLifetime)
	t.mu.Lock()
	t.byID[id] = spec
	t.issued++
	t.mu.Unlock()
}

// redeem spends the ticket id if r is the request it was minted for.
func (t *serviceTickets) redeem(id string, r *http.Request) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byID[id]
	if ok && time.Now().After(s.expires) {
		delete(t.byID, id)
		ok = false
	}
	if !ok || s.method != r.Method || s.path != r.URL.Path || !reflect.DeepEqual(sorted(s.query), sorted(r.URL.Query())) {
		t.refused++
		return false
	}
	delete(t.byID, id)
	t.redeemed++
	return true
}

func sorted(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		c := append([]string(nil), vs...)
		for i := 1; i < len(c); i++ {
			for j := i; j > 0 && c[j] < c[j-1]; j-- {
				c[j], c[j-1] = c[j-1], c[j]
			}
		}
		out[k] = c
	}
	return out
}

func (t *serviceTickets) counts() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return map[string]int{"issued": t.issued, "redeemed": t.redeemed, "refused": t.refused, "outstanding": len(t.byID)}
}

func (t *serviceTickets) clear() {
	t.mu.Lock()
	t.byID = map[string]serviceTicket{}
	t.mu.Unlock()
}

func (t *serviceTickets) resetCounters() {
	t.mu.Lock()
	t.issued, t.redeemed, t.refused = 0, 0, 0
	t.mu.Unlock()
}

func (h *harness) datastoreAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("vmware_cgi_ticket"); err == nil {
			if h.svcTickets.redeem(c.Value, r) {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, "the vmware_cgi_ticket is unknown, used, expired or for another request", http.StatusUnauthorized)
			return
		}
		if c, err := r.Cookie(soap.SessionCookieName); err == nil {
			if s, err := h.currentSession(r, c.Value); err == nil && s != nil {
				next.ServeHTTP(w, r)
				return
			}
		}
		http.Error(w, "a session or a generic service ticket is required", http.StatusUnauthorized)
	})
}
