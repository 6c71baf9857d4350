package httpx

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"
)

type tr struct {
	r     interface{ Read([]byte) (int, error) }
	start time.Time
	log   []any
}

func (t *tr) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.log = append(t.log, time.Since(t.start).Milliseconds(), n, err)
	return n, err
}

func TestDbg(t *testing.T) {
	for i := 0; i < 10; i++ {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			for range 5 {
				w.Write(bytes.Repeat([]byte("x"), 1000))
				w.(http.Flusher).Flush()
				time.Sleep(60 * time.Millisecond)
			}
		}, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			w.Write([]byte("start"))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // then stall
		})
		c := newClient(t, s.URL, Options{Timeout: 150 * time.Millisecond})
		start := time.Now()
		resp, err := c.Do(context.Background(), Request{Method: "GET", Path: "/content"})
		if err != nil {
			t.Fatal(err)
		}
		x := &tr{r: resp.Body, start: start}
		buf := make([]byte, 8<<10)
		for {
			_, err := x.Read(buf)
			if err != nil {
				if err.Error() != "EOF" {
					t.Log(x.log...)
				}
				break
			}
		}
		resp.Body.Close()
	}
}
