package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseTables hands the pages of the store's table files back to the
// kernel. Badger reads its tables through shared read-only mappings, and
// every page a search, a start or a compaction touched stays counted in
// the agent's resident memory (ps, top, a container's working set) long
// after, though it is only file content: a store of a million pairs read
// once showed 1 GB resident for 70 MB of the agent's own. MADV_PAGEOUT
// reclaims those pages (the next read of one reads the file again); it
// never changes what a page holds, so a mapping Badger replaced meanwhile,
// whatever now lives at its address, comes to no harm: at worst its pages
// are paged out. Kernels before 5.4 do not know it: errPageoutUnknown.
func (s *Store) releaseTables() (released int, err error) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("release table pages: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, path, ok := mapping(sc.Text())
		if !ok || !strings.HasPrefix(path, s.realDir+string(os.PathSeparator)) || !strings.HasSuffix(path, ".sst") {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_PAGEOUT)
		switch errno {
		case 0:
			released++
		case unix.EINVAL:
			return released, errPageoutUnknown
		default:
			// ENOMEM: unmapped since the list was read (a table compacted
			// away); nothing to release.
		}
	}
	if err := sc.Err(); err != nil {
		return released, fmt.Errorf("release table pages: %w", err)
	}
	return released, nil
}

// mappedBytes is how much file content the process has resident through
// mappings (its binary, its libraries, the store's tables and value log),
// from /proc/self/statm: its third field, shared pages, is RssFile plus
// RssShmem, and the agent maps no shared memory.
func mappedBytes() (int64, error) {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("read mapped memory: %w", err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 3 {
		return 0, fmt.Errorf("read mapped memory: /proc/self/statm says %q", raw)
	}
	pages, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read mapped memory: %w", err)
	}
	return pages * int64(os.Getpagesize()), nil
}

var errPageoutUnknown = errors.New("release table pages: the kernel does not know MADV_PAGEOUT (Linux 5.4 and later do)")

// mapping parses a line of /proc/self/maps: "start-end perms offset dev
// inode path".
func mapping(line string) (start, end uintptr, path string, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 6 {
		return 0, 0, "", false
	}
	lo, hi, ok := strings.Cut(fields[0], "-")
	if !ok {
		return 0, 0, "", false
	}
	a, err1 := strconv.ParseUint(lo, 16, 64)
	b, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || b <= a {
		return 0, 0, "", false
	}
	return uintptr(a), uintptr(b), strings.Join(fields[5:], " "), true
}
