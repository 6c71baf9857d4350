package store

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash child: when this env var names a data dir, the test binary becomes
// a writer that acknowledges each durable write on stdout until it is killed.
const crashEnv = "LOCKSTEP_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

func crashChild(dir string) int {
	key, _ := hex.DecodeString(os.Getenv(crashEnv + "_KEY"))
	start, _ := strconv.Atoi(os.Getenv(crashEnv + "_START"))
	s, err := Open(Options{Dir: dir, Key: key})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 1
	}
	w := bufio.NewWriter(os.Stdout)
	for i := start; ; i++ {
		err := s.Update(func(tx *Tx) error {
			// Two keys in one transaction: a torn transaction would show one without the other.
			if err := tx.Put(fmt.Sprintf("item/%08d", i), system{ID: strconv.Itoa(i), Name: strings.Repeat("x", i%300)}); err != nil {
				return err
			}
			return tx.Put("meta/last", i)
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child write:", err)
			return 1
		}
		fmt.Fprintf(w, "ack %d\n", i)
		w.Flush()
	}
}

// TestCrashSafety kills a writer with SIGKILL at random points 20 times;
// every reopen must succeed and hold every acknowledged write.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 20 writer processes")
	}
	dir := t.TempDir()
	key := newKey(t)
	s := create(t, dir, key)
	s.Close()

	next := 0
	for round := 0; round < 20; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, crashEnv+"_KEY="+hex.EncodeToString(key), crashEnv+"_START="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := -1
		lines := make(chan int)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				var n int
				if _, err := fmt.Sscanf(sc.Text(), "ack %d", &n); err == nil {
					lines <- n
				}
			}
			close(lines)
		}()
		// Kill at a random moment after the child has started writing.
		deadline := time.After(time.Duration(20+rand.IntN(200)) * time.Millisecond)
		killed := false
		for !killed {
			select {
			case n, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child exited early: %s", round, stderr.String())
				}
				acked = n
			case <-deadline:
				if acked < next {
					deadline = time.After(10 * time.Millisecond) // not writing yet
					continue
				}
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		for n := range lines { // acks already written before the kill
			acked = n
		}
		cmd.Wait()

		s, err := Open(Options{Dir: dir, Key: key})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		repo := NewRepo[system](s, "item")
		for i := 0; i <= acked; i++ {
			v, err := repo.Get(fmt.Sprintf("%08d", i))
			if err != nil || v.ID != strconv.Itoa(i) || len(v.Name) != i%300 {
				s.Close()
				t.Fatalf("round %d: acknowledged write %d lost: %+v %v", round, i, v, err)
			}
		}
		var last int
		if err := s.Get("meta/last", &last); err != nil || last < acked {
			t.Fatalf("round %d: meta/last = %d (%v), acked %d", round, last, err, acked)
		}
		s.Close()
		next = last + 1
		t.Logf("round %d: %d writes acknowledged in total", round, acked+1)
	}
}
