package rt

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/lockstep-sync/lockstep/agent/internal/connector"
	"github.com/lockstep-sync/lockstep/agent/internal/connector/httpx"
)

// maxAnswer bounds a JSON answer held in memory; pages of 100 records are
// far below it. Attachment content never goes through here.
const maxAnswer = 32 << 20

// call sends a request with in (when not nil) as JSON and returns the
// answer's body and headers. RT's error bodies ({"message": ...}) are
// turned into connector errors by httpx.
func (c *Conn) call(ctx context.Context, r httpx.Request, in any) ([]byte, http.Header, error) {
	r, err := r.JSON(in, "")
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.http.Do(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read the answer: %w: %w", r.Method, r.Path, connector.ErrUnavailable, err)
	}
	return body, resp.Header, nil
}

// getJSON reads and decodes an answer.
func (c *Conn) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	body, _, err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: path, Query: q}, nil)
	if err != nil {
		return err
	}
	return decodeInto(body, out)
}

// search posts a JSON query (a list of {field, operator, value}) to a
// collection: REST2 takes it in the body of a POST, read like a GET.
func (c *Conn) search(ctx context.Context, path string, q url.Values, query []map[string]any, out any) error {
	body, _, err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: path, Query: q, Idempotent: true}, query)
	if err != nil {
		return err
	}
	return decodeInto(body, out)
}

func decodeInto(body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode the answer: %w: %w", connector.ErrUnavailable, err)
	}
	return nil
}

// messages reads RT's answer to an update: a list of what it did, which
// also holds what it refused to do (the status stays 200).
func messages(body []byte) []string {
	var out []string
	if json.Unmarshal(body, &out) != nil {
		return nil
	}
	return out
}

// sqlQuote quotes a value for TicketSQL and TransactionSQL.
func sqlQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// pageQuery is the paging part of a collection request.
func pageQuery(perPage, page int) url.Values {
	return url.Values{"per_page": {fmt.Sprint(perPage)}, "page": {fmt.Sprint(page)}}
}
