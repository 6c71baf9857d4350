package store

import (
	"bytes"
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// groupCommits: on Linux, fdatasync of a file writes back the pages dirtied
// through Badger's shared mappings of it (msync is fsync there), so
// syncFiles covers what Badger's own per-transaction msync did.
const groupCommits = true

// fdatasync flushes a file's data, and only the metadata needed to read it
// back, to the disk.
func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// logWatch reports whether a log file may have appeared in, or gone from,
// the store's directory since syncFiles last listed it, so that a sync round
// lists the directory only then: listing it every round cost a third as
// much CPU as the syncs themselves in an initial sync of 10,000 items, and
// more as the store's tables grow in number.
//
// It reads an inotify instance without blocking. The kernel queues a file's
// creation event before the call that created it returns, so an event for
// any log a commit covered by a round wrote to is queued before the round
// reads the instance; the round reads every queued event before it lists.
type logWatch struct {
	fd  int
	buf [16 << 10]byte // one round reads at a time
}

// watchLogs watches dir; nil when the kernel refuses (no instance left,
// say): the caller then lists the directory every round.
func watchLogs(dir string) *logWatch {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_MOVED_TO|unix.IN_ONLYDIR); err != nil {
		unix.Close(fd)
		return nil
	}
	return &logWatch{fd: fd}
}

// changed reads every event queued and reports whether one may concern a
// log file. Anything it cannot read as an event of another file (an
// overflowed queue, a watch gone, a read error) counts as a change, and
// the failures disable the watch (ok false): the caller lists every round.
func (w *logWatch) changed() (changed, ok bool) {
	buf := w.buf[:]
	for {
		n, err := unix.Read(w.fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return changed, true
		}
		if err != nil || n < unix.SizeofInotifyEvent {
			return true, false
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if end > n || ev.Mask&(unix.IN_Q_OVERFLOW|unix.IN_IGNORED) != 0 {
				return true, false
			}
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:end], "\x00"))
			changed = changed || isLog(name)
			off = end
		}
	}
}

func (w *logWatch) close() { unix.Close(w.fd) }
