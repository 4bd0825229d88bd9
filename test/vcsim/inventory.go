package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// What the inventory layer's tests need and vcsim 0.24 lacks:
//
//   - Paged RetrievePropertiesEx: vcsim answers everything at once and knows neither
//     ContinueRetrievePropertiesEx nor CancelRetrievePropertiesEx. Here a RetrievePropertiesEx
//     with options.maxObjects (or any, once POST /_harness/page-size set a server-side page size,
//     as vCenter cuts at 100) is collected by vcsim in-process and answered a page at a time,
//     with a token for the rest; Continue answers the next page, Cancel forgets the rest. A token
//     belongs to the session that got it (another session, or an unknown or spent token:
//     InvalidArgument "token").
//   - Properties a user may not read: POST /_harness/deny {obj, path} makes every retrieval of
//     that object's property answer a missingSet entry with a NoPermission fault instead.
//   - ViewManager.viewList: the ContainerViews created and not yet destroyed, nor ended with
//     their session (vcsim leaves the list empty).
//   - Tasks that do not finish at once (vcsim runs every task to its end before answering):
//     POST /_harness/task {entity, name} creates a running Task, POST /_harness/task-update
//     {task, progress?, state?, fault?, result?} changes it ({task, remove: true} removes it,
//     as vCenter purges old tasks); and POST /_harness/question
//     {vm, text} sets (text "" clears) a VM's runtime.question, the state in which a task on that
//     VM waits for a user's answer.
//   - TaskManager.CreateCollectorForTasks and its TaskHistoryCollector (task_history.go).
//
// The PropertyCollector methods run with vcsim's own Context (the caller's session) through a
// managed object of ours, as the SessionManager additions do (session_methods.go).

const (
	pagerType  = "HarnessPropertyCollector"
	pagerValue = "harness-property-collector"
)

type denyKey struct {
	obj  types.ManagedObjectReference
	path string
}

type pagedResult struct {
	session string
	rest    []types.ObjectContent
	size    int
}

type inventoryExtras struct {
	Self types.ManagedObjectReference
	h    *harness

	mu       sync.Mutex
	pageSize int
	results  map[string]*pagedResult
	tokens   int
	denied   map[denyKey]bool
	views    map[types.ManagedObjectReference]bool
}

func installInventoryExtras(h *harness) *inventoryExtras {
	x := &inventoryExtras{
		Self:    types.ManagedObjectReference{Type: pagerType, Value: pagerValue},
		h:       h,
		results: map[string]*pagedResult{},
		denied:  map[denyKey]bool{},
		views:   map[types.ManagedObjectReference]bool{},
	}
	simulator.Map.Put(x)
	return x
}

func (x *inventoryExtras) Reference() types.ManagedObjectReference { return x.Self }

var returnedView = regexp.MustCompile(`<returnval type="ContainerView">([^<]+)</returnval>`)
var thisValue = regexp.MustCompile(`<(?:[A-Za-z_][\w.-]*:)?_this\b[^>]*>([^<]*)</`)

// collectorMethods routes the paged PropertyCollector calls to x and keeps viewList.
func (x *inventoryExtras) collectorMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := soapCallOf(r)
		if call == nil {
			next.ServeHTTP(w, r)
			return
		}
		switch call.method {
		case "RetrievePropertiesEx":
			if bytes.Contains(call.body, []byte(`type="ViewManager"`)) {
				x.prune(r.Context())
			}
			if !x.pages(call.body) {
				next.ServeHTTP(w, r)
				return
			}
		case "ContinueRetrievePropertiesEx", "CancelRetrievePropertiesEx", "CreateCollectorForTasks":
		case "CreateContainerView":
			rec := record(next, r)
			if m := returnedView.FindSubmatch(rec.Body.Bytes()); m != nil {
				x.setView(types.ManagedObjectReference{Type: "ContainerView", Value: string(m[1])}, true)
			}
			replay(w, rec)
			return
		case "DestroyView":
			rec := record(next, r)
			if m := thisValue.FindSubmatch(call.body); m != nil && rec.Code == http.StatusOK {
				x.setView(types.ManagedObjectReference{Type: "ContainerView", Value: string(m[1])}, false)
			}
			replay(w, rec)
			return
		default:
			next.ServeHTTP(w, r)
			return
		}
		body := thisElement.ReplaceAll(call.body, []byte(`<${1}_this type="`+pagerType+`">`+pagerValue+`</${1}_this>`))
		forward(next, w, r, call.method, body, nil)
	})
}

// pages tells whether a RetrievePropertiesEx is the harness's to answer: paged or with denied properties.
func (x *inventoryExtras) pages(body []byte) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.pageSize > 0 || len(x.denied) > 0 {
		return true
	}
	method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return false
	}
	req, ok := method.Body.(*types.RetrievePropertiesEx)
	return ok && req.Options.MaxObjects > 0
}

var viewSession = regexp.MustCompile(`^session\[([^\]]+)\]`)

// prune forgets the views of sessions that ended: vcsim names a session's objects after it.
func (x *inventoryExtras) prune(ctx context.Context) {
	keys, err := x.h.sessionKeys(ctx)
	if err != nil {
		return
	}
	live := map[string]bool{}
	for _, k := range keys {
		live[k] = true
	}
	x.update(func() {
		for v := range x.views {
			if m := viewSession.FindStringSubmatch(v.Value); m != nil && !live[m[1]] {
				delete(x.views, v)
			}
		}
	})
}

func (x *inventoryExtras) setView(ref types.ManagedObjectReference, live bool) {
	x.update(func() {
		if live {
			x.views[ref] = true
		} else {
			delete(x.views, ref)
		}
	})
}

// update changes the view set and publishes it as ViewManager.viewList.
func (x *inventoryExtras) update(change func()) {
	vm := simulator.Map.Get(*x.h.content.ViewManager).(*simulator.ViewManager)
	simulator.Map.WithLock(vm, func() {
		x.mu.Lock()
		defer x.mu.Unlock()
		change()
		list := make([]types.ManagedObjectReference, 0, len(x.views))
		for v := range x.views {
			list = append(list, v)
		}
		vm.ViewList = list
	})
}

func record(next http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	return rec
}

func replay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func invalidToken() *soap.Fault {
	return simulator.Fault("unknown or spent token", &types.InvalidArgument{InvalidProperty: "token"})
}

func sessionKey(ctx *simulator.Context) string {
	if ctx.Session == nil {
		return ""
	}
	return ctx.Session.Key
}

// RetrievePropertiesEx: vcsim's answer, with denied properties moved to missingSet, a page at a time.
func (x *inventoryExtras) RetrievePropertiesEx(ctx *simulator.Context, req *types.RetrievePropertiesEx) soap.HasFault {
	pc := simulator.Map.Get(x.h.content.PropertyCollector).(*simulator.PropertyCollector)
	res := pc.RetrievePropertiesEx(ctx, req)
	if res.Fault() != nil {
		return res
	}
	all := res.(*methods.RetrievePropertiesExBody).Res.Returnval
	body := &methods.RetrievePropertiesExBody{Res: &types.RetrievePropertiesExResponse{}}
	if all == nil || len(all.Objects) == 0 {
		return body
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	objects := x.applyDenied(all.Objects)
	size := x.pageSize
	if m := int(req.Options.MaxObjects); m > 0 && (size == 0 || m < size) {
		size = m
	}
	body.Res.Returnval = x.page(sessionKey(ctx), objects, size)
	return body
}

func (x *inventoryExtras) applyDenied(objects []types.ObjectContent) []types.ObjectContent {
	if len(x.denied) == 0 {
		return objects
	}
	for i := range objects {
		o := &objects[i]
		kept := o.PropSet[:0]
		for _, p := range o.PropSet {
			if x.denied[denyKey{o.Obj, p.Name}] {
				o.MissingSet = append(o.MissingSet, types.MissingProperty{
					Path: p.Name,
					Fault: types.LocalizedMethodFault{
						Fault:            &types.NoPermission{Object: o.Obj, PrivilegeId: "System.Read"},
						LocalizedMessage: "Permission to perform this operation was denied.",
					},
				})
				continue
			}
			kept = append(kept, p)
		}
		o.PropSet = kept
	}
	return objects
}

// page answers the first size objects and keeps the rest under a new token (x.mu held).
func (x *inventoryExtras) page(session string, objects []types.ObjectContent, size int) *types.RetrieveResult {
	if size <= 0 || len(objects) <= size {
		return &types.RetrieveResult{Objects: objects}
	}
	x.tokens++
	token := strconv.Itoa(x.tokens)
	x.results[token] = &pagedResult{session: session, rest: objects[size:], size: size}
	return &types.RetrieveResult{Objects: objects[:size], Token: token}
}

func (x *inventoryExtras) ContinueRetrievePropertiesEx(ctx *simulator.Context, req *types.ContinueRetrievePropertiesEx) soap.HasFault {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.results[req.Token]
	if r == nil || r.session != sessionKey(ctx) {
		return &methods.ContinueRetrievePropertiesExBody{Fault_: invalidToken()}
	}
	delete(x.results, req.Token)
	return &methods.ContinueRetrievePropertiesExBody{Res: &types.ContinueRetrievePropertiesExResponse{Returnval: *x.page(r.session, r.rest, r.size)}}
}

func (x *inventoryExtras) CancelRetrievePropertiesEx(ctx *simulator.Context, req *types.CancelRetrievePropertiesEx) soap.HasFault {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := x.results[req.Token]
	if r == nil || r.session != sessionKey(ctx) {
		return &methods.CancelRetrievePropertiesExBody{Fault_: invalidToken()}
	}
	delete(x.results, req.Token)
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}

// ---- control routes ----

type inventoryStats struct {
	PageSize      int `json:"pageSize"`
	PendingTokens int `json:"pendingTokens"`
	Views         int `json:"views"`
}

func (x *inventoryExtras) stats(ctx context.Context) inventoryStats {
	x.prune(ctx)
	x.mu.Lock()
	defer x.mu.Unlock()
	return inventoryStats{PageSize: x.pageSize, PendingTokens: len(x.results), Views: len(x.views)}
}

func (x *inventoryExtras) setPageSize(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Size int `json:"size"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	x.mu.Lock()
	x.pageSize = req.Size
	x.mu.Unlock()
	writeJSON(w, http.StatusOK, x.stats(r.Context()))
}

type jsonRef struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func (j jsonRef) ref() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: j.Type, Value: j.Value}
}

// object is the managed object ref names, or nil after answering 404.
func object(w http.ResponseWriter, ref types.ManagedObjectReference) mo.Reference {
	obj := simulator.Map.Get(ref)
	if obj == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such object: " + ref.Type + ":" + ref.Value})
	}
	return obj
}

func (x *inventoryExtras) deny(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Obj  jsonRef `json:"obj"`
		Path string  `json:"path"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	x.mu.Lock()
	x.denied[denyKey{req.Obj.ref(), req.Path}] = true
	x.mu.Unlock()
	writeJSON(w, http.StatusOK, nil)
}

func (x *inventoryExtras) createTask(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Entity jsonRef `json:"entity"`
		Name   string  `json:"name"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	obj := object(w, req.Entity.ref())
	if obj == nil {
		return
	}
	task := simulator.CreateTask(obj, req.Name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, nil })
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
	writeJSON(w, http.StatusOK, jsonRef{Type: "Task", Value: task.Self.Value})
}

func (x *inventoryExtras) updateTask(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Task     string   `json:"task"`
		Progress *int32   `json:"progress"`
		State    string   `json:"state"`
		Fault    string   `json:"fault"`
		Result   *jsonRef `json:"result"`
		Remove   bool     `json:"remove"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	task, ok := object(w, types.ManagedObjectReference{Type: "Task", Value: req.Task}).(*simulator.Task)
	if !ok {
		return
	}
	if req.Remove {
		simulator.Map.Remove(task.Self)
		writeJSON(w, http.StatusOK, nil)
		return
	}
	var changes []types.PropertyChange
	if req.Progress != nil {
		changes = append(changes, types.PropertyChange{Name: "info.progress", Val: *req.Progress})
	}
	if req.Result != nil {
		changes = append(changes, types.PropertyChange{Name: "info.result", Val: req.Result.ref()})
	}
	if req.Fault != "" {
		t, found := types.TypeFunc()(req.Fault)
		fault, isFault := reflect.New(t).Interface().(types.BaseMethodFault)
		if !found || !isFault {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "not a fault type: " + req.Fault})
			return
		}
		changes = append(changes, types.PropertyChange{Name: "info.error", Val: types.LocalizedMethodFault{Fault: fault, LocalizedMessage: fmt.Sprintf("%s (harness)", req.Fault)}})
	}
	if req.State != "" {
		changes = append(changes, types.PropertyChange{Name: "info.completeTime", Val: time.Now()}, types.PropertyChange{Name: "info.state", Val: types.TaskInfoState(req.State)})
	}
	simulator.Map.Update(task, changes)
	writeJSON(w, http.StatusOK, nil)
}

func (x *inventoryExtras) setQuestion(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM   string `json:"vm"`
		Text string `json:"text"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	vm, ok := object(w, types.ManagedObjectReference{Type: "VirtualMachine", Value: req.VM}).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var q types.AnyType // nil clears: a typed nil pointer would be set as an empty question
	if req.Text != "" {
		q = &types.VirtualMachineQuestionInfo{
			Id:   "harness-question",
			Text: req.Text,
			Choice: types.ChoiceOption{ChoiceInfo: []types.BaseElementDescription{
				&types.ElementDescription{Key: "0", Description: types.Description{Label: "OK", Summary: "OK"}},
			}},
		}
	}
	simulator.Map.Update(vm, []types.PropertyChange{{Name: "runtime.question", Val: q}})
	writeJSON(w, http.StatusOK, nil)
}
