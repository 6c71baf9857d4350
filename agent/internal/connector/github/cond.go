package github

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// Conditional requests. GitHub answers a GET whose If-None-Match (or
// If-Modified-Since) still matches with 304 Not Modified, which does not
// count against the primary rate limit ("Best practices for using the
// REST API"). The connector keeps the last answer of each GET it made,
// with its validators, in memory only (bodies never reach the store),
// bounded in bytes, least recently used first out.

// condCacheBytes bounds the cached answers.
const condCacheBytes = 8 << 20

// maxAnswer bounds one decoded answer; GitHub pages are far smaller.
const maxAnswer = 32 << 20

type condEntry struct {
	key          string
	etag         string
	lastModified string
	link         string
	body         []byte
}

type condCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front: most recently used
	byKey map[string]*list.Element
}

func newCondCache(max int) *condCache {
	return &condCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *condCache) get(key string) *condEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*condEntry)
}

func (c *condCache) put(e *condEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byKey[e.key]; ok {
		c.size -= len(old.Value.(*condEntry).body)
		c.order.Remove(old)
		delete(c.byKey, e.key)
	}
	if len(e.body) > c.max/4 {
		return // one huge answer would push out everything else
	}
	c.byKey[e.key] = c.order.PushFront(e)
	c.size += len(e.body)
	for c.size > c.max {
		last := c.order.Back()
		le := last.Value.(*condEntry)
		c.size -= len(le.body)
		c.order.Remove(last)
		delete(c.byKey, le.key)
	}
}

// drop forgets an answer that cannot serve a 304 any more.
func (c *condCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.size -= len(el.Value.(*condEntry).body)
		c.order.Remove(el)
		delete(c.byKey, key)
	}
}

func cacheKey(path string, q url.Values) string { return path + "?" + q.Encode() }

// apiHeader is what every request sends: GitHub's media type and the API
// version the connector is written for.
func apiHeader() http.Header {
	return http.Header{"Accept": {"application/vnd.github+json"}, "X-Github-Api-Version": {apiVersion}}
}

// getJSON makes a conditional GET and decodes the answer (a fresh one, or
// the cached one on 304) into out. It returns the answer's Link header.
func (c *Conn) getJSON(ctx context.Context, path string, q url.Values, out any) (string, error) {
	key := cacheKey(path, q)
	h := apiHeader()
	cached := c.cache.get(key)
	if cached != nil {
		if cached.etag != "" {
			h.Set("If-None-Match", cached.etag)
		}
		if cached.lastModified != "" {
			h.Set("If-Modified-Since", cached.lastModified)
		}
	}
	resp, err := c.http.Do(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q, Header: h})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		if cached == nil {
			return "", fmt.Errorf("GET %s: 304 Not Modified to a request that was not conditional: %w", path, connector.ErrUnavailable)
		}
		return cached.link, decode(path, cached.body, out)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return "", fmt.Errorf("GET %s: read the answer: %w: %w", path, connector.ErrUnavailable, err)
	}
	if len(body) > maxAnswer {
		return "", fmt.Errorf("GET %s: the answer is larger than %d bytes: %w", path, maxAnswer, connector.ErrUnavailable)
	}
	link := resp.Header.Get("Link")
	if err := decode(path, body, out); err != nil {
		c.cache.drop(key)
		return "", err
	}
	e := &condEntry{key: key, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"), link: link, body: body}
	if e.etag != "" || e.lastModified != "" {
		c.cache.put(e)
	} else {
		c.cache.drop(key)
	}
	return link, nil
}

func decode(path string, body []byte, out any) error {
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(out); err != nil {
		return fmt.Errorf("GET %s: decode the answer: %w: %w", path, connector.ErrUnavailable, err)
	}
	return nil
}

// send makes a mutative request (POST, PATCH, PUT, DELETE) with a JSON
// body, in its turn (see pacer), and decodes the answer into out. create
// says it makes content (an issue, a comment); idempotent that repeating
// it after an ambiguous failure is safe.
func (c *Conn) send(ctx context.Context, method, path string, in, out any, create, idempotent bool) error {
	done, err := c.pace.wait(ctx, create)
	defer done()
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	r, err := httpx.Request{Method: method, Path: path, Idempotent: idempotent}.JSON(in, "")
	if err != nil {
		return err
	}
	for k, v := range apiHeader() {
		r.Header[k] = v
	}
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return httpx.DecodeJSON(r, resp, out)
}
