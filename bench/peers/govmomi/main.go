// Command govmomi-bench is the govmomi side of `npm run bench` (scripts/bench.ts): the same
// workloads as bench/peers/vim25soap_bench.mjs and bench/peers/pyvmomi_bench.py, against
// Debian's govmomi 0.24 sources, built offline by bench/peers/build-govmomi.sh.
//
//	govmomi-bench URL CA-FILE USER PASSWORD WORKLOAD [PARAMS...]
//
//	once                               login, CurrentTime, logout
//	seq N WARMUP MAX_SECONDS           N sequential CurrentTime calls after WARMUP ones (WARMUP 0:
//	                                   a fresh process's first N calls, the bench's `first` row)
//	concurrent N CALLERS MAX_SECONDS [WARMUP]  N CurrentTime calls from CALLERS goroutines on one client, after WARMUP ones
//	retrieve                           RetrievePropertiesEx (+Continue) of every VM via a ContainerView
//	                                   (wall and CPU, cpuMs, from the first request to the last page)
//	pages N                            the same in pages of maxObjects N, each dropped once counted
//
// Prints one JSON line. The server certificate is verified against CA-FILE (SetRootCAs).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	if len(os.Args) < 6 {
		fmt.Fprintln(os.Stderr, "usage: govmomi-bench URL CA-FILE USER PASSWORD WORKLOAD [PARAMS...]")
		os.Exit(64)
	}
	rawURL, caFile, user, password, workload, params := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6:]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	u, err := soap.ParseURL(rawURL)
	fail(err)
	sc := soap.NewClient(u, false)
	fail(sc.SetRootCAs(caFile))
	// Keep as many idle connections as there are concurrent callers, like our client's pool of
	// 16 sockets; net/http's default of 2 per host would make the concurrent workload measure
	// TLS handshakes instead of calls.
	sc.DefaultTransport().MaxIdleConnsPerHost = 16
	c, err := vim25.NewClient(ctx, sc)
	fail(err)
	c.Version = c.ServiceContent.About.ApiVersion
	sm := session.NewManager(c)
	fail(sm.Login(ctx, url.UserPassword(user, password)))

	out := map[string]interface{}{}
	switch workload {
	case "once":
		t, err := methods.GetCurrentTime(ctx, c)
		fail(err)
		out["currentTime"] = t.UTC().Format(time.RFC3339Nano)
	case "seq":
		n, warmup, maxSeconds := intParam(params, 0, 1000), intParam(params, 1, 100), intParam(params, 2, 20)
		for i := 0; i < warmup; i++ {
			_, err := methods.GetCurrentTime(ctx, c)
			fail(err)
		}
		deadline := time.Now().Add(time.Duration(maxSeconds) * time.Second)
		cpu0, start := cpuMicros(), time.Now()
		calls := 0
		for calls < n && time.Now().Before(deadline) {
			_, err := methods.GetCurrentTime(ctx, c)
			fail(err)
			calls++
		}
		wall, cpu := time.Since(start), cpuMicros()-cpu0
		out["calls"] = calls
		out["cpuUsPerCall"] = cpu / float64(calls)
		out["wallMs"] = ms(wall)
	case "concurrent":
		n, callers, maxSeconds := intParam(params, 0, 4000), intParam(params, 1, 16), intParam(params, 2, 20)
		warmup := intParam(params, 3, callers*4)
		run := func(total int, deadline time.Time) int {
			var next, done int64
			var wg sync.WaitGroup
			for w := 0; w < callers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for atomic.AddInt64(&next, 1) <= int64(total) && time.Now().Before(deadline) {
						_, err := methods.GetCurrentTime(ctx, c)
						fail(err)
						atomic.AddInt64(&done, 1)
					}
				}()
			}
			wg.Wait()
			return int(done)
		}
		run(warmup, time.Now().Add(time.Minute)) // opens the connections (and warms up, as in seq)
		start := time.Now()
		calls := run(n, start.Add(time.Duration(maxSeconds)*time.Second))
		wall := time.Since(start)
		out["calls"] = calls
		out["callers"] = callers
		out["callsPerSec"] = float64(calls) / wall.Seconds()
		out["wallMs"] = ms(wall)
	case "retrieve", "pages":
		// pages N: maxObjects N, each page dropped once counted (memory bounded by a page).
		pageSize := 0
		if workload == "pages" {
			pageSize = intParam(params, 0, 500)
		}
		content := c.ServiceContent
		view, err := methods.CreateContainerView(ctx, c, &types.CreateContainerView{
			This: *content.ViewManager, Container: content.RootFolder, Type: []string{"VirtualMachine"}, Recursive: true,
		})
		fail(err)
		req := &types.RetrievePropertiesEx{
			This: content.PropertyCollector,
			SpecSet: []types.PropertyFilterSpec{{
				ObjectSet: []types.ObjectSpec{{
					Obj:  view.Returnval,
					Skip: types.NewBool(true),
					SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{
						SelectionSpec: types.SelectionSpec{Name: "toView"}, Type: "ContainerView", Path: "view", Skip: types.NewBool(false),
					}},
				}},
				PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: []string{"name", "runtime.powerState", "config.hardware.device"}}},
			}},
			Options: types.RetrieveOptions{MaxObjects: int32(pageSize)},
		}
		var objects []types.ObjectContent
		vms, devices := 0, 0
		take := func(page []types.ObjectContent) {
			if pageSize == 0 {
				objects = append(objects, page...)
				return
			}
			vms += len(page)
			devices += deviceCount(page)
		}
		cpu0, start := cpuMicros(), time.Now()
		res, err := methods.RetrievePropertiesEx(ctx, c, req)
		fail(err)
		pages, token := 0, ""
		if r := res.Returnval; r != nil {
			take(r.Objects)
			token, pages = r.Token, 1
		}
		for token != "" {
			more, err := methods.ContinueRetrievePropertiesEx(ctx, c, &types.ContinueRetrievePropertiesEx{This: content.PropertyCollector, Token: token})
			fail(err)
			take(more.Returnval.Objects)
			token = more.Returnval.Token
			pages++
		}
		wall, cpu := time.Since(start), cpuMicros()-cpu0
		if pageSize == 0 {
			vms, devices = len(objects), deviceCount(objects)
		}
		_, err = methods.DestroyView(ctx, c, &types.DestroyView{This: view.Returnval})
		fail(err)
		out["vms"] = vms
		out["devices"] = devices
		out["pages"] = pages
		out["wallMs"] = ms(wall)
		out["cpuMs"] = cpu / 1000
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", workload)
		os.Exit(64)
	}
	fail(sm.Logout(ctx))
	b, err := json.Marshal(out)
	fail(err)
	fmt.Println(string(b))
}

func deviceCount(objects []types.ObjectContent) int {
	n := 0
	for _, o := range objects {
		for _, p := range o.PropSet {
			if d, ok := p.Val.(types.ArrayOfVirtualDevice); ok {
				n += len(d.VirtualDevice)
			}
		}
	}
	return n
}

func intParam(params []string, i, def int) int {
	if i >= len(params) {
		return def
	}
	v, err := strconv.Atoi(params[i])
	fail(err)
	return v
}

// cpuMicros is the user+system CPU time of the whole process (every thread), in µs.
func cpuMicros() float64 {
	var ru syscall.Rusage
	fail(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return float64(ru.Utime.Sec+ru.Stime.Sec)*1e6 + float64(ru.Utime.Usec+ru.Stime.Usec)
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
