package dataset

import (
	"context"
	"sync"
)

// orderedMap runs fn over the jobs produced by next on up to workers
// goroutines and delivers results to emit in job order, so the output is the
// same whatever the worker count. At most 2*workers jobs are in flight.
// next returns ok=false when there are no more jobs. emit returning false, an
// error from fn, or ctx ending stops the run; results not emitted are passed
// to drop (to release them). orderedMap returns the first error.
func orderedMap[J, R any](ctx context.Context, workers int, next func() (J, bool), fn func(context.Context, J) (R, error),
	emit func(R) bool, drop func(R)) error {
	if workers < 1 {
		workers = 1
	}
	if workers == 1 {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			j, ok := next()
			if !ok {
				return nil
			}
			r, err := fn(ctx, j)
			if err != nil {
				return err
			}
			if !emit(r) {
				return nil
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		r   R
		err error
	}
	type task struct {
		j   J
		out chan result
	}
	tasks := make(chan task)
	order := make(chan chan result, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				r, err := fn(ctx, t.j)
				t.out <- result{r, err}
			}
		}()
	}
	// Feeder: hands out jobs and records their order.
	go func() {
		defer close(order)
		defer close(tasks)
		for {
			j, ok := next()
			if !ok {
				return
			}
			out := make(chan result, 1)
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			select {
			case tasks <- task{j, out}:
			case <-ctx.Done():
				out <- result{err: ctx.Err()}
				return
			}
		}
	}()
	var first error
	stopped := false
	for out := range order {
		res := <-out
		switch {
		case stopped:
			if res.err == nil {
				drop(res.r)
			}
		case res.err != nil:
			first, stopped = res.err, true
			cancel()
		case !emit(res.r):
			stopped = true
			cancel()
		}
	}
	wg.Wait()
	if first == nil && !stopped {
		// Only a canceled parent context ends the run early without an
		// error of fn's.
		first = ctx.Err()
	}
	return first
}

// parallelFor runs fn(ctx, i) for i in [0, n) on up to workers goroutines
// and returns the first error. After an error or cancellation no new index
// starts, and the ctx given to running calls is cancelled.
func parallelFor(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for {
				mu.Lock()
				if first == nil {
					first = ctx.Err()
				}
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
	wg.Wait()
	return first
}
