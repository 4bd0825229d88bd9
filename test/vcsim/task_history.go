package main

import (
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// TaskManager.CreateCollectorForTasks and the TaskHistoryCollector, which vcsim 0.24 lacks
// (routed here by inventory.go). The collector reads TaskManager.recentTask (vcsim keeps the
// last 200, as vCenter), oldest first, filtered by entity (self, children, all), queue or
// start/complete time and state; latestPage holds the newest `pageSize` matches (default 10).
// It belongs to the session that created it, like vcsim's EventHistoryCollector.

type taskHistoryCollector struct {
	mo.TaskHistoryCollector

	mu       sync.Mutex
	manager  types.ManagedObjectReference
	filter   types.TaskFilterSpec
	pageSize int
	pos      int
}

func (x *inventoryExtras) CreateCollectorForTasks(ctx *simulator.Context, req *types.CreateCollectorForTasks) soap.HasFault {
	c := &taskHistoryCollector{manager: *x.h.content.TaskManager, filter: req.Filter, pageSize: 10}
	c.Filter = req.Filter
	c.Self = types.ManagedObjectReference{Type: "TaskHistoryCollector"}
	ref := ctx.Session.Put(c).Reference()
	return &methods.CreateCollectorForTasksBody{Res: &types.CreateCollectorForTasksResponse{Returnval: ref}}
}

// matching lists the recent tasks the filter selects, oldest first.
func (c *taskHistoryCollector) matching() []types.TaskInfo {
	tm := simulator.Map.Get(c.manager).(*simulator.TaskManager)
	tm.Lock()
	refs := append([]types.ManagedObjectReference(nil), tm.RecentTask...)
	tm.Unlock()
	var out []types.TaskInfo
	for _, ref := range refs {
		task, ok := simulator.Map.Get(ref).(*simulator.Task)
		if !ok {
			continue
		}
		info := task.Info
		if c.selects(info) {
			out = append(out, info)
		}
	}
	return out
}

func (c *taskHistoryCollector) selects(info types.TaskInfo) bool {
	f := c.filter
	if f.Entity != nil && (info.Entity == nil || !below(*info.Entity, f.Entity.Entity, f.Entity.Recursion)) {
		return false
	}
	if t := f.Time; t != nil {
		at := info.QueueTime
		switch t.TimeType {
		case types.TaskFilterSpecTimeOptionStartedTime:
			if info.StartTime == nil {
				return false
			}
			at = *info.StartTime
		case types.TaskFilterSpecTimeOptionCompletedTime:
			if info.CompleteTime == nil {
				return false
			}
			at = *info.CompleteTime
		}
		if (t.BeginTime != nil && at.Before(*t.BeginTime)) || (t.EndTime != nil && at.After(*t.EndTime)) {
			return false
		}
	}
	if len(f.State) > 0 {
		found := false
		for _, s := range f.State {
			found = found || s == info.State
		}
		if !found {
			return false
		}
	}
	return true
}

// below tells whether obj is root (self), root or a child of it (children), or root or any descendant (all).
func below(obj, root types.ManagedObjectReference, recursion types.TaskFilterSpecRecursionOption) bool {
	for depth := 0; ; depth++ {
		if obj == root {
			return true
		}
		if recursion == types.TaskFilterSpecRecursionOptionSelf || (recursion == types.TaskFilterSpecRecursionOptionChildren && depth == 1) {
			return false
		}
		e, ok := simulator.Map.Get(obj).(mo.Entity)
		if !ok || e.Entity().Parent == nil {
			return false
		}
		obj = *e.Entity().Parent
	}
}

func (c *taskHistoryCollector) SetCollectorPageSize(ctx *simulator.Context, req *types.SetCollectorPageSize) soap.HasFault {
	if req.MaxCount < 0 || req.MaxCount > 1000 {
		return &methods.SetCollectorPageSizeBody{Fault_: simulator.Fault("", &types.InvalidArgument{InvalidProperty: "maxCount"})}
	}
	c.mu.Lock()
	c.pageSize = int(req.MaxCount)
	if c.pageSize == 0 {
		c.pageSize = 10
	}
	c.mu.Unlock()
	return &methods.SetCollectorPageSizeBody{Res: new(types.SetCollectorPageSizeResponse)}
}

func (c *taskHistoryCollector) RewindCollector(ctx *simulator.Context, req *types.RewindCollector) soap.HasFault {
	c.mu.Lock()
	c.pos = 0
	c.mu.Unlock()
	return &methods.RewindCollectorBody{Res: new(types.RewindCollectorResponse)}
}

func (c *taskHistoryCollector) ResetCollector(ctx *simulator.Context, req *types.ResetCollector) soap.HasFault {
	c.mu.Lock()
	c.pos = len(c.matching())
	c.mu.Unlock()
	return &methods.ResetCollectorBody{Res: new(types.ResetCollectorResponse)}
}

func (c *taskHistoryCollector) ReadNextTasks(ctx *simulator.Context, req *types.ReadNextTasks) soap.HasFault {
	if req.MaxCount <= 0 {
		return &methods.ReadNextTasksBody{Fault_: simulator.Fault("", &types.InvalidArgument{InvalidProperty: "maxCount"})}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.matching()
	end := c.pos + int(req.MaxCount)
	if end > len(all) {
		end = len(all)
	}
	var page []types.TaskInfo
	if c.pos < end {
		page = all[c.pos:end]
	}
	c.pos = end
	return &methods.ReadNextTasksBody{Res: &types.ReadNextTasksResponse{Returnval: page}}
}

func (c *taskHistoryCollector) DestroyCollector(ctx *simulator.Context, req *types.DestroyCollector) soap.HasFault {
	ctx.Session.Remove(req.This)
	return &methods.DestroyCollectorBody{Res: new(types.DestroyCollectorResponse)}
}

// Get answers property reads (latestPage) from a snapshot.
func (c *taskHistoryCollector) Get() mo.Reference {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.matching()
	start := len(all) - c.pageSize
	if start < 0 {
		start = 0
	}
	clone := c.TaskHistoryCollector
	clone.LatestPage = all[start:]
	return &clone
}
