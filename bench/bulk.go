package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// makePods creates pods with members members each (termSleep) and starts them, with workers
// pods in flight at once. It returns the wall time of the whole batch.
func (b *bench) makePods(e *engine, pods, members, workers int, prefix string) (time.Duration, error) {
	jobs := make(chan int)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	leftoverWait.wait(b.ctx) // timed here, not through engine.timed
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				n := e.newName(prefix)
				cmds := [][]string{{"pod", "create", "--name", n}}
				for i := range members {
					cmds = append(cmds, withArgs([]string{"create", "--pod", n, "--name", fmt.Sprintf("%s-m%d", n, i), imageRef}, termSleep...))
				}
				cmds = append(cmds, []string{"pod", "start", n})
				if err := b.untimed(e, cmds...); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < pods && b.ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	d := time.Since(start)
	if len(errs) > 0 {
		return d, fmt.Errorf("%d of %d pods failed, first: %w", len(errs), pods, errs[0])
	}
	return d, b.ctx.Err()
}

func (b *bench) bulkGroup() group {
	const seqRow, parRow = "bulk: 20 pods × 3 members, sequential", "bulk: 20 pods × 3 members, 4 parallel"
	const conmonRow, infraRow = "memory: conmon RSS per container", "memory: infra process RSS per pod"
	bulk := func(row string, workers int, memory bool) op {
		rows := []string{row}
		if memory {
			rows = append(rows, conmonRow, infraRow)
		}
		return op{rows: rows, reps: b.bulkN, measure: func(e *engine) ([]sample, error) {
			d, err := b.makePods(e, 20, 3, workers, "bulk")
			if err != nil {
				e.reset(b.ctx)
				return nil, err
			}
			out := []sample{{row, secs(d)}}
			if memory {
				mem, err := b.memory(e, conmonRow, infraRow)
				out = append(out, mem...)
				if err != nil {
					e.reset(b.ctx)
					return out, err
				}
			}
			return out, e.reset(b.ctx)
		}}
	}
	return group{name: "bulk", ops: []op{bulk(seqRow, 1, true), bulk(parRow, 4, false)}}
}

// memory samples the RSS of every container's conmon and of every pod's infra process.
func (b *bench) memory(e *engine, conmonRow, infraRow string) ([]sample, error) {
	ids, err := e.out(b.ctx, "ps", "-aq", "--no-trunc")
	if err != nil {
		return nil, err
	}
	var out []sample
	for _, id := range strings.Fields(ids) {
		p, err := e.out(b.ctx, "inspect", "--format", "{{.State.ConmonPid}}", id)
		if err != nil {
			return out, err
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid == 0 {
			return out, fmt.Errorf("container %.12s has no conmon pid (%q)", id, p)
		}
		rss, err := rssBytes(pid)
		if err != nil {
			return out, err
		}
		out = append(out, sample{conmonRow, float64(rss)})
	}
	pods, err := e.out(b.ctx, "pod", "ps", "-q", "--no-trunc")
	if err != nil {
		return out, err
	}
	for _, pod := range strings.Fields(pods) {
		infra, err := e.out(b.ctx, "pod", "inspect", "--format", "{{.InfraContainerID}}", pod)
		if err != nil {
			return out, err
		}
		p, err := e.out(b.ctx, "inspect", "--format", "{{.State.Pid}}", infra)
		if err != nil {
			return out, err
		}
		pid, _ := strconv.Atoi(p)
		rss, err := rssBytes(pid)
		if err != nil {
			return out, fmt.Errorf("infra of pod %.12s: %w", pod, err)
		}
		out = append(out, sample{infraRow, float64(rss)})
	}
	return out, nil
}

func (b *bench) diskGroup() group {
	const row = "disk: bytes of --root per running container"
	const k = 5
	return group{name: "disk", ops: []op{{rows: []string{row}, measure: func(e *engine) ([]sample, error) {
		// Both sizes are taken once the engines' leftover processes are done: pea's copies the
		// WAL into the database after a command (up to 128 KiB of WAL, gone a few ms later).
		leftoverWait.wait(b.ctx)
		before, err := diskUsage(e.root)
		if err != nil {
			return nil, err
		}
		for range k {
			if err := b.untimed(e, withArgs([]string{"run", "-d", imageRef}, termSleep...)); err != nil {
				return nil, err
			}
		}
		leftoverWait.wait(b.ctx)
		after, err := diskUsage(e.root)
		if err != nil {
			return nil, err
		}
		return []sample{{row, float64(after-before) / k}}, e.reset(b.ctx)
	}}}}
}

func (b *bench) publishGroup() group {
	rows := []string{
		"publish: pod create -p 127.0.0.1:PORT:80",
		"publish: pod start",
		"publish: run -d --pod P bb httpd",
		"publish: first HTTP answer after run returns",
		"publish: create + start + run + first answer",
	}
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	return group{name: "publish", ops: []op{{rows: rows, measure: func(e *engine) ([]sample, error) {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		n := e.newName("web")
		defer e.out(b.ctx, "pod", "rm", "-f", "-t0", n)
		cmds := [][]string{
			{"pod", "create", "--name", n, "-p", fmt.Sprintf("127.0.0.1:%d:80", port)},
			{"pod", "start", n},
			{"run", "-d", "--pod", n, imageRef, "httpd", "-f", "-p", "80", "-h", "/var/www"},
		}
		var out []sample
		var total time.Duration
		for i, c := range cmds {
			d, err := e.timed(b.ctx, c...)
			if err != nil {
				return out, err
			}
			total += d
			out = append(out, sample{rows[i], secs(d)})
		}
		d, err := firstAnswer(b.ctx, client, fmt.Sprintf("http://127.0.0.1:%d/", port), 20*time.Second)
		if err != nil {
			return out, err
		}
		total += d
		return append(out, sample{rows[3], secs(d)}, sample{rows[4], secs(total)}), nil
	}}}}
}

// firstAnswer polls url until any HTTP response arrives and returns how long that took.
func firstAnswer(ctx context.Context, c *http.Client, url string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	var last error
	for time.Since(start) < limit {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			return time.Since(start), nil
		}
		last = err
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("no answer on %s after %v: %w", url, limit, last)
}

// listGroup fills each store to every level in turn (untimed), times ps -a and pod ps there,
// and at the end times one `pod rm -fa` of all the pods.
func (b *bench) listGroup() group {
	var ops []op
	have := map[*engine]int{}
	top := 0
	for _, lv := range b.levels {
		lv := lv
		top = max(top, lv)
		psRow, podRow := levelRows(lv)
		fill := func(e *engine) error {
			if have[e] >= lv {
				return nil
			}
			b.logf("    %s: creating %d pods × 2 members", e.name, lv-have[e])
			_, err := b.makePods(e, lv-have[e], 2, 4, "lv")
			if err == nil {
				have[e] = lv
			}
			return err
		}
		ps := b.single(psRow, fixed("ps", "-a"), nil)
		ps.prep = fill
		ops = append(ops, ps, b.single(podRow, fixed("pod", "ps"), nil))
	}
	rmRow := fmt.Sprintf("pod rm -fa, %d pods × 2 members (one call)", top)
	ops = append(ops, op{rows: []string{rmRow}, reps: b.bulkN, measure: func(e *engine) ([]sample, error) {
		if have[e] < top {
			b.logf("    %s: creating %d pods × 2 members", e.name, top-have[e])
			if _, err := b.makePods(e, top-have[e], 2, 4, "lv"); err != nil {
				return nil, err
			}
		}
		have[e] = 0
		d, err := e.timed(b.ctx, "pod", "rm", "-fa")
		if err != nil {
			return nil, err
		}
		return []sample{{rmRow, secs(d)}}, nil
	}})
	return group{name: "list", ops: ops}
}
