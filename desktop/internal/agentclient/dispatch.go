package agentclient

import "sync"

// maxQueuedLogs bounds log notifications waiting for their handler. Beyond
// it, lines are dropped and counted into the next delivered notification's
// Dropped (never silent), so a stalled UI cannot grow memory without bound
// and the reader never blocks. Events and state changes are never dropped:
// they are rare, and losing one would break resume-by-sequence.
const maxQueuedLogs = 1024

type dispatchItem struct {
	run  func()
	logs bool
}

// dispatcher runs handlers on one goroutine, in the order the reader
// received their notifications.
type dispatcher struct {
	mu         sync.Mutex
	queue      []dispatchItem
	logsQueued int

	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func newDispatcher() *dispatcher {
	d := &dispatcher{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.loop()
	return d
}

// push queues run; it never blocks.
func (d *dispatcher) push(run func()) {
	d.mu.Lock()
	d.queue = append(d.queue, dispatchItem{run: run})
	d.mu.Unlock()
	d.signal()
}

// pushLogs queues a log notification unless too many already wait.
func (d *dispatcher) pushLogs(run func()) bool {
	d.mu.Lock()
	if d.logsQueued >= maxQueuedLogs {
		d.mu.Unlock()
		return false
	}
	d.logsQueued++
	d.queue = append(d.queue, dispatchItem{run: run, logs: true})
	d.mu.Unlock()
	d.signal()
	return true
}

func (d *dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) loop() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		}
		for {
			d.mu.Lock()
			if len(d.queue) == 0 {
				d.mu.Unlock()
				break
			}
			it := d.queue[0]
			d.queue[0] = dispatchItem{} // let the closure be collected
			d.queue = d.queue[1:]
			if it.logs {
				d.logsQueued--
			}
			d.mu.Unlock()
			select {
			case <-d.stop:
				return
			default:
			}
			it.run()
		}
	}
}

// close stops the loop after the running handler returns and discards the
// rest: after Close, no handler runs.
func (d *dispatcher) close() {
	d.stopOnce.Do(func() { close(d.stop) })
	<-d.done
}
